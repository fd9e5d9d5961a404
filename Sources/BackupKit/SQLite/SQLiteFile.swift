import Foundation

/// Checks of a database file before SQLite opens it, so the message names the real cause, and
/// the compacted copy `backup --vacuum` reads.
package enum SQLiteFile {
    /// Whether the file's header says WAL mode (file format read and write versions 2).
    static func isWAL(_ path: String) -> Bool {
        guard let fd = try? FileDescriptor.openForReading(path) else { return false }
        var version = [UInt8](repeating: 0, count: 2)
        let n = (try? version.withUnsafeMutableBytes { try fd.read(into: $0, at: 18) }) ?? 0
        return n == 2 && version == [2, 2]
    }

    /// A consistent copy of a rollback-mode `database` at `destination` (created 0600) with the
    /// online backup API in one step: writers wait only for this fast copy, not for a whole
    /// compression pass over a read transaction.
    static func copy(_ database: String, to destination: String, busyTimeout: Duration = .seconds(30),
                     notice: LockWaitNotice?) throws {
        try requireReadable(database)
        try FileDescriptor.createPrivate(destination).close()
        let source = try SQLiteConnection(path: database, mode: .readOnly, busyTimeout: busyTimeout, notice: notice)
        let copy = try SQLiteConnection(path: destination, mode: .readWrite)
        try copy.execute("PRAGMA synchronous=OFF")
        try OnlineBackup.copy(from: source, to: copy, busyTimeout: busyTimeout)
    }

    /// The checks every read of a database starts with: it exists, is a file, is SQLite (or
    /// empty), is not truncated, and its WAL can be read by this user.
    static func requireReadable(_ database: String) throws {
        guard Files.exists(database) else { throw BackupError.databaseMissing(path: database) }
        guard !Files.isDirectory(database) else { throw BackupError.databaseIsFolder(path: database, setting: "--db or BACKUP_DB_PATH") }
        try requireSQLiteHeader(database)
        try requireReadableWAL(database)
    }

    /// A compacted copy of `database` at `destination` (created 0600), made by `VACUUM INTO`
    /// from one read transaction: free pages dropped, rows repacked.
    static func vacuum(_ database: String, to destination: String, busyTimeout: Duration = .seconds(30),
                       notice: LockWaitNotice?) throws {
        try requireReadable(database)
        // Create the file 0600 first so SQLite never makes it with a wider mode.
        try FileDescriptor.createPrivate(destination).close()
        let source = try SQLiteConnection(path: database, mode: .readOnly, busyTimeout: busyTimeout, notice: notice)
        try source.run("VACUUM INTO ?", [.text(destination)])
    }

    /// A reader of a WAL database needs a writable `-shm` file and a `-wal` file, which SQLite
    /// creates beside the database. In a folder this user cannot write, without both, the
    /// read fails with SQLite's "attempt to write a readonly database": said as the cause it is.
    static func requireReadableWAL(_ path: String) throws {
        guard isWAL(path) else { return }
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
