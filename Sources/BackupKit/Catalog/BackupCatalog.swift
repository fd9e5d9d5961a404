import Foundation

/// The `backup_files` table: the fast index of backups. Storage stays the truth; the
/// catalog can be lost and rebuilt from object metadata. It may live in its own file
/// (the default) or in the application database itself, as Laju keeps it.
package final class BackupCatalog {
    static let columns = ["id", "key", "file_name", "file_size", "compression", "storage", "checksum",
                          "uploaded_at", "deleted_at", "encryption", "enc_iv", "enc_tag"]

    private let connection: SQLiteConnection
    package let path: String

    /// Opens the catalog, creating the file (0600) and the table when missing. An existing
    /// table (one Laju made, say) is used as it is if it has the needed columns.
    package init(path: String, create: Bool = true) throws {
        self.path = path
        if !Files.exists(path) {
            guard create else { throw BackupError.databaseMissing(path: path) }
            try Files.makePrivateDirectory((path as NSString).deletingLastPathComponent)
            try FileDescriptor.createPrivate(path).close()
        }
        let existing: [String]
        do {
            connection = try SQLiteConnection(path: path, mode: create ? .readWrite : .readOnly)
            existing = try connection.query("PRAGMA table_info(backup_files)").compactMap { $0.count > 1 ? $0[1].text : nil }
        } catch BackupError.notADatabase, BackupError.integrityCheckFailed {
            throw BackupError.configuration("the catalog \(path) is not a usable SQLite database: move it away (it is rebuilt from storage by 'restore --list') or point BACKUP_CATALOG_PATH elsewhere")
        }
        if existing.isEmpty {
            guard create else { throw BackupError.configuration("\(path) has no backup_files table: check BACKUP_CATALOG_PATH") }
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS backup_files (
                    id TEXT PRIMARY KEY,
                    key TEXT NOT NULL UNIQUE,
                    file_name TEXT NOT NULL,
                    file_size INTEGER NOT NULL,
                    compression TEXT,
                    storage TEXT NOT NULL,
                    checksum TEXT,
                    uploaded_at INTEGER NOT NULL,
                    deleted_at INTEGER,
                    encryption TEXT,
                    enc_iv TEXT,
                    enc_tag TEXT
                );
                CREATE INDEX IF NOT EXISTS backup_files_uploaded_at ON backup_files(uploaded_at);
                """)
        } else {
            let missing = Self.columns.filter { !existing.contains($0) }
            guard missing.isEmpty else {
                throw BackupError.configuration("the backup_files table in \(path) lacks the columns \(missing.joined(separator: ", ")): point BACKUP_CATALOG_PATH at another file")
            }
        }
    }

    /// Adds a row for a stored object.
    package func insert(_ record: BackupRecord) throws {
        try connection.run("""
            INSERT INTO backup_files (id, key, file_name, file_size, compression, storage, checksum,
                                      uploaded_at, deleted_at, encryption, enc_iv, enc_tag)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, Self.values(of: record))
    }

    /// The row for `key`, live or deleted.
    package func record(forObjectKey key: String) throws -> BackupRecord? {
        try connection.query("SELECT \(Self.columns.joined(separator: ", ")) FROM backup_files WHERE key = ?", [.text(key)])
            .first.map(Self.record)
    }

    /// Every row, live or deleted.
    package func records() throws -> [BackupRecord] {
        try connection.query("SELECT \(Self.columns.joined(separator: ", ")) FROM backup_files").map(Self.record)
    }

    /// Soft-deletes the row for `key`.
    package func markDeleted(objectKey key: String, at time: Int64) throws {
        try connection.run("UPDATE backup_files SET deleted_at = ? WHERE key = ? AND deleted_at IS NULL", [.integer(time), .text(key)])
    }

    private static func values(of r: BackupRecord) -> [SQLiteValue] {
        func text(_ s: String?) -> SQLiteValue { s.map(SQLiteValue.text) ?? .null }
        return [.text(r.id), .text(r.objectKey), .text(r.fileName), .integer(r.fileSize), text(r.compression),
                .text(r.storage), text(r.checksum), .integer(r.uploadedAt), r.deletedAt.map(SQLiteValue.integer) ?? .null,
                text(r.encryption), text(r.encIV), text(r.encTag)]
    }

    private static func record(_ row: [SQLiteValue]) -> BackupRecord {
        BackupRecord(id: row[0].text ?? "", objectKey: row[1].text ?? "", fileName: row[2].text ?? "",
                     fileSize: row[3].integer ?? 0, compression: row[4].text, storage: row[5].text ?? "",
                     checksum: row[6].text, uploadedAt: row[7].integer ?? 0, deletedAt: row[8].integer,
                     encryption: row[9].text, encIV: row[10].text, encTag: row[11].text)
    }
}
