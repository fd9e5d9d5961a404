import Foundation

/// A consistent snapshot of a live SQLite database, read straight from its files inside one
/// read transaction: no copy on disk.
///
/// While the transaction is open, SQLite guarantees what the read relies on. In rollback
/// mode the SHARED lock keeps writers from committing (they wait, as they did for the backup
/// API's copy). In WAL mode writers go on appending frames, but no checkpoint writes a frame
/// newer than this reader's into the database file, and the WAL is not restarted under a
/// reader of it. So the snapshot is: each page from its newest WAL frame up to the last one
/// the transaction sees, else from the database file. Which frame that is, SQLite publishes in
/// the wal-index header (`WALIndexHeader`), read before and after the transaction starts:
/// when both are the same, they are the transaction's, and the WAL's frames up to it must
/// check as SQLite's recovery checks them (`WALFrames`). Frames a writer appended but has not
/// published are never read. `verify` (quick_check on the same connection) checks the same
/// state, and page 1 read here must agree with SQLite's own answers. Each WAL frame's header is read
/// again after its data: a frame a restart overwrote (possible only once every frame was
/// checkpointed, while this reader holds READ_LOCK(0) and so no checkpoint writes the file)
/// sends this and every later page to the database file, which holds the snapshot whole.
package final class SQLiteSnapshotSource: DatabaseSource, @unchecked Sendable {
    package let path: String
    package let pageSize: Int
    /// Pages in the snapshot.
    let pageCount: Int64
    package var expectedSize: Int64? { pageCount * Int64(pageSize) }

    private var connection: SQLiteConnection?
    private var database: FileDescriptor?
    private var wal: FileDescriptor?
    /// The `-shm` file, open from before the transaction on, and never closed (`keepOpen`).
    private var index: FileDescriptor?
    private let frames: WALFrames
    /// The next byte of the snapshot to read.
    private var position: Int64 = 0
    /// The WAL was restarted while this snapshot was read: pages come from the database file.
    private var walRestarted = false

    /// How often the start is tried while commits land between the two reads of the wal-index
    /// (a window of microseconds, so a few tries are plenty even under a steady writer).
    static let startAttempts = 200

    /// Opens the snapshot: waits (with `notice` after a second) up to `busyTimeout` while a
    /// rollback-mode writer holds the database.
    package init(databasePath: String, busyTimeout: Duration = .seconds(30), notice: LockWaitNotice? = nil) throws {
        path = databasePath
        try SQLiteFile.requireReadable(databasePath)

        let connection = try SQLiteConnection(path: databasePath, mode: .readOnly, busyTimeout: busyTimeout, notice: notice)
        let walPath = databasePath + "-wal", indexPath = databasePath + "-shm"
        var frames = WALFrames.empty
        var restarted = false
        var index: FileDescriptor?
        var pageSize = 0
        var pageCount: Int64 = 0
        do {
            var attempt = 0
            while true {
                // Kept open until the connection is closed (see `WALIndexHeader.read`).
                if index == nil { index = try? FileDescriptor.openForReading(indexPath) }
                let before = WALIndexHeader.read(index)
                try connection.execute("BEGIN")
                // The first read takes the read lock (and, in WAL mode, the transaction's state).
                _ = try connection.query("SELECT count(*) FROM sqlite_schema")
                if index == nil { index = try? FileDescriptor.openForReading(indexPath) }
                // Opened before this connection held a lock, it may be a -shm the last other
                // connection unlinked meanwhile: then it is not the one this transaction uses.
                if let open = index, !Files.sameFile(open, indexPath) {
                    Self.keepOpen(open)
                    index = try? FileDescriptor.openForReading(indexPath)
                }
                let after = WALIndexHeader.read(index)
                pageSize = try Self.integer(connection, "PRAGMA page_size")
                pageCount = Int64(try Self.integer(connection, "PRAGMA page_count"))
                // Rollback mode: the SHARED lock keeps the file as it is while the transaction lasts.
                guard try Self.text(connection, "PRAGMA journal_mode") == "wal" else { break }
                if let before, before == after {
                    if let published = try WALFrames.read(walPath, databasePageSize: pageSize, index: before, what: {
                        BackupError.integrityCheckFailed(what: "the WAL of \(databasePath)", detail: $0)
                    }) {
                        frames = published
                    } else {
                        restarted = true
                    }
                    guard before.mxFrame == 0 || before.pageCount == pageCount else {
                        throw BackupError.databaseChanged(path: databasePath, reason: "its wal-index publishes \(before.pageCount) pages where SQLite's transaction has \(pageCount)")
                    }
                    break
                }
                // A commit between the two reads (or no wal-index yet): start again.
                try connection.execute("COMMIT")
                attempt += 1
                guard attempt < Self.startAttempts else {
                    guard before != nil || after != nil else {
                        throw BackupError.unexpected("cannot read the wal-index \(indexPath) of the WAL database \(databasePath) (no such file, unreadable, or not initialised by SQLite); nothing was stored")
                    }
                    throw BackupError.databaseChanged(path: databasePath, reason: "a commit landed each of the \(Self.startAttempts) times a snapshot started")
                }
                if attempt % 10 == 0 { usleep(UInt32(min(attempt, 100)) * 100) }
            }
        } catch {
            try? connection.execute("ROLLBACK")
            connection.close()
            Self.keepOpen(index)
            throw error
        }
        self.connection = connection
        self.index = index
        self.frames = frames
        self.pageSize = pageSize
        self.pageCount = pageCount
        // Opened after the connection's, and closed only after it ends (`close`): closing a
        // descriptor of the database would drop the connection's POSIX locks on it.
        database = try FileDescriptor.openForReading(databasePath)
        wal = frames.count > 0 ? try FileDescriptor.openForReading(walPath) : nil
        walRestarted = restarted
        if pageCount > 0 { try requireHeaderMatches(connection) }
    }

    /// The page 1 this snapshot reads must say what SQLite's own view of the transaction says:
    /// page count, free-list length and schema version. A state read wrongly (an older one, say)
    /// is refused here instead of being stored.
    private func requireHeaderMatches(_ connection: SQLiteConnection) throws {
        var header = [UInt8](repeating: 0, count: 100)
        let n = try header.withUnsafeMutableBytes { try readPages(into: $0) }
        position = 0
        guard n == 100 else { throw BackupError.unexpected("the snapshot of \(path) has no full header") }
        let fields = [(28, "PRAGMA page_count"), (36, "PRAGMA freelist_count"), (40, "PRAGMA schema_version")]
        for (offset, pragma) in fields {
            let inHeader = Int(WALFrames.u32(header, offset))
            let sqlite = try Self.integer(connection, pragma)
            guard inHeader == sqlite else {
                throw BackupError.unexpected("the snapshot of \(path) does not match SQLite's view (\(pragma) \(sqlite), header \(inHeader)); nothing was stored")
            }
        }
    }

    deinit { close() }

    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let filled = try readPages(into: buffer)
        // Test builds only: freeze once the first bytes of the snapshot were read.
        if Failpoint.midSnapshot.isSelected && filled > 0 && position == Int64(filled) { Failpoint.midSnapshot.reach() }
        return filled
    }

    /// `read` itself: the pages from `position` on, each from its WAL frame or the file.
    private func readPages(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let database else { throw BackupError.unexpected("the snapshot of \(path) was read after it ended") }
        let total = pageCount * Int64(pageSize)
        var filled = 0
        while filled < buffer.count && position < total {
            let page = UInt32(position / Int64(pageSize) + 1)
            let inPage = Int(position % Int64(pageSize))
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])
            let n: Int
            if let frame = frames.newest[page], let wal, !walRestarted {
                n = min(pageSize - inPage, target.count)
                let part = UnsafeMutableRawBufferPointer(rebasing: target[0..<n])
                let got = try wal.read(into: part, at: frames.dataOffset(ofFrame: frame) + Int64(inPage))
                switch try frames.state(ofFrame: frame, page: page, in: wal) {
                case .intact where got == n:
                    break
                case .intact, .restarted:
                    // Restarted under this reader (READ_LOCK(0)): every page of this snapshot is in
                    // the database file, which no checkpoint writes meanwhile. Read it there from now on.
                    walRestarted = true
                    continue
                case .changed:
                    throw BackupError.databaseChanged(path: path, reason: "a WAL frame it read became another page")
                }
            } else {
                // A run of pages the WAL does not hold: one read from the database file.
                var pages = 1
                while Int64(page) + Int64(pages) <= pageCount, walRestarted || frames.newest[page + UInt32(pages)] == nil,
                      pages * pageSize - inPage < target.count { pages += 1 }
                n = min(pages * pageSize - inPage, target.count, Int(total - position))
                let part = UnsafeMutableRawBufferPointer(rebasing: target[0..<n])
                let got = try database.read(into: part, at: position)
                // Pages past the end of the file read as zeros, as SQLite reads them.
                if got < n { part.baseAddress!.advanced(by: got).initializeMemory(as: UInt8.self, repeating: 0, count: n - got) }
            }
            filled += n
            position += Int64(n)
        }
        return filled
    }

    package func verify() throws {
        guard let connection else { throw BackupError.unexpected("the snapshot of \(path) was checked after it ended") }
        guard pageCount > 0 else { return }
        if let problems = try connection.integrityProblems(quick: true) {
            throw BackupError.integrityCheckFailed(what: "the snapshot of \(path)", detail: problems)
        }
    }

    package func close() {
        if let connection {
            try? connection.execute("COMMIT")
            connection.close()
            self.connection = nil
        }
        // The connection is closed now: the descriptors may go.
        database = nil
        wal = nil
        Self.keepOpen(index)
        index = nil
    }

    /// Keeps a `-shm` descriptor open until the process ends. Closing it would drop every POSIX
    /// lock this process holds on that file: another connection's too (the catalog's, when it
    /// is the application database), whose shared lock tells other processes the wal-index is
    /// in use. One descriptor per snapshot, for a run that ends soon after.
    private static func keepOpen(_ file: FileDescriptor?) {
        if let file { _ = Unmanaged.passRetained(file) }
    }

    private static func text(_ connection: SQLiteConnection, _ sql: String) throws -> String {
        guard case .text(let value)? = try connection.query(sql).first?.first else {
            throw BackupError.unexpected("\(sql) returned no text")
        }
        return value.lowercased()
    }

    private static func integer(_ connection: SQLiteConnection, _ sql: String) throws -> Int {
        guard case .integer(let value)? = try connection.query(sql).first?.first else {
            throw BackupError.unexpected("\(sql) returned no number")
        }
        return Int(value)
    }
}
