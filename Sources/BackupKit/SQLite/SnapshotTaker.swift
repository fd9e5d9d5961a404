import Foundation

/// Takes a consistent copy of a live database with SQLite's online backup API, and checks a
/// copy with `PRAGMA quick_check`, so a corrupt database never replaces good backups.
package struct SnapshotTaker: Sendable {
    package let databasePath: String
    package var busyTimeout: Duration = .seconds(30)
    /// Says what the snapshot waits for when a writer holds the database locked.
    package var notice: LockWaitNotice?

    package init(databasePath: String, notice: LockWaitNotice? = nil) {
        self.databasePath = databasePath
        self.notice = notice
    }

    /// Writes the snapshot to `destination` (created 0600) and returns its size in bytes.
    /// With `vacuum`, the copy is made with `VACUUM INTO`: compacted (free pages dropped,
    /// rows repacked), from one read transaction like the backup API's copy.
    package func snapshot(to destination: String, vacuum: Bool = false) throws -> Int64 {
        guard Files.exists(databasePath) else { throw BackupError.databaseMissing(path: databasePath) }
        guard !Files.isDirectory(databasePath) else { throw BackupError.databaseIsFolder(path: databasePath, setting: "--db or BACKUP_DB_PATH") }
        try Self.requireSQLiteHeader(databasePath)
        try Self.requireReadableWAL(databasePath)

        // Create the file 0600 first so SQLite never makes it with a wider mode.
        try FileDescriptor.createPrivate(destination).close()
        let source = try SQLiteConnection(path: databasePath, mode: .readOnly, busyTimeout: busyTimeout, notice: notice)
        if vacuum {
            try source.run("VACUUM INTO ?", [.text(destination)])
            return Files.size(destination) ?? 0
        }
        let copy = try SQLiteConnection(path: destination, mode: .readWrite)
        try copy.execute("PRAGMA synchronous=OFF")
        try OnlineBackup.copy(from: source, to: copy, busyTimeout: busyTimeout)
        return Files.size(destination) ?? 0
    }

    /// Runs `PRAGMA quick_check` on a finished snapshot (safe beside readers of the file).
    package func check(snapshot path: String) throws {
        guard (Files.size(path) ?? 0) > 0 else { return }
        let connection = try SQLiteConnection(path: path, mode: .immutable)
        if let problems = try connection.integrityProblems(quick: true) {
            throw BackupError.integrityCheckFailed(what: "the snapshot of \(databasePath)", detail: problems)
        }
    }

    /// The bytes a snapshot reads: the database file and its WAL (an upper bound of the copy).
    package var expectedSize: Int64 {
        (Files.size(databasePath) ?? 0) + (Files.size(databasePath + "-wal") ?? 0)
    }

    /// A reader of a WAL database needs a writable `-shm` file and a `-wal` file, which SQLite
    /// creates beside the database. In a folder this user cannot write, without both, the
    /// read fails with SQLite's "attempt to write a readonly database": said as the cause it is.
    static func requireReadableWAL(_ path: String) throws {
        let fd = try FileDescriptor.openForReading(path)
        var version = [UInt8](repeating: 0, count: 2)
        let n = try version.withUnsafeMutableBytes { try fd.read(into: $0, at: 18) }
        guard n == 2, version == [2, 2] else { return }   // file format read/write version 2: WAL
        let folder = (path as NSString).deletingLastPathComponent
        let folderPath = folder.isEmpty ? "." : folder
        if access(folderPath, W_OK) == 0 || (access(path + "-shm", W_OK) == 0 && Files.exists(path + "-wal")) { return }
        throw BackupError.walFolderNotWritable(database: path, folder: folderPath)
    }

    /// A SQLite file starts with "SQLite format 3\0"; an empty file is an empty database. A file
    /// shorter than the page count its header records (when that count is valid and no WAL may
    /// hold the rest) was truncated: said as such, not as SQLite's generic corruption.
    static func requireSQLiteHeader(_ path: String) throws {
        let fd = try FileDescriptor.openForReading(path)
        var header = [UInt8](repeating: 0, count: 100)
        let n = try header.withUnsafeMutableBytes { try fd.read(into: $0, at: 0) }
        if n == 0 { return }
        guard n >= 16, Array(header[0..<16]) == Array("SQLite format 3\0".utf8) else { throw BackupError.notADatabase(path: path) }
        guard n == 100 else { return }
        func u32(_ at: Int) -> UInt32 { header[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        let rawPageSize = Int(header[16]) << 8 | Int(header[17])
        let pageSize = rawPageSize == 1 ? 65536 : rawPageSize
        let pages = Int64(u32(28))
        let countIsValid = pages > 0 && u32(24) == u32(92)   // change counter == version-valid-for
        if countIsValid, pageSize >= 512, !Files.exists(path + "-wal"), let size = Files.size(path), size < pages * Int64(pageSize) {
            throw BackupError.integrityCheckFailed(what: path, detail: "the file holds \(size) bytes but its header records \(pages) pages of \(pageSize) bytes: it was truncated")
        }
    }
}
