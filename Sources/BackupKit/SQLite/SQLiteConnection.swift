import CSQLite
import Foundation

/// One SQLite connection that closes itself. Every return code goes through `check`, which
/// turns it into a `BackupError` with the connection's own message.
package final class SQLiteConnection {
    package enum Mode {
        case readOnly
        case readWrite
        case readWriteCreate
        /// Read-only on a file nobody changes (a snapshot, a restore being checked): no locks,
        /// no -wal or -shm files.
        case immutable

        var flags: Int32 {
            switch self {
            case .readOnly: return SQLITE_OPEN_READONLY
            case .readWrite: return SQLITE_OPEN_READWRITE
            case .readWriteCreate: return SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
            case .immutable: return SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            }
        }
    }

    let handle: OpaquePointer
    package let path: String
    /// Waits for other connections' locks (SQLite's busy handler); kept alive with the handle.
    let waiter: LockWaiter

    /// Opens `path`. `busyTimeout` is how long a statement waits for another connection's
    /// lock; `notice` says what is being waited for once a wait lasts a second.
    package init(path: String, mode: Mode, busyTimeout: Duration = .seconds(10), notice: LockWaitNotice? = nil) throws {
        var db: OpaquePointer?
        let name = mode == .immutable ? "file:\(URIEncoding.encode(path, keepSlash: true))?immutable=1" : path
        let rc = sqlite3_open_v2(name, &db, mode.flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            if mode != .readWriteCreate && !Files.exists(path) { throw BackupError.databaseMissing(path: path) }
            throw SQLiteConnection.error(rc, message: message, path: path, context: "opening \(path)")
        }
        handle = db
        self.path = path
        waiter = LockWaiter(path: path, limit: busyTimeout, notice: notice)
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_handler(db, { context, attempt in
            Unmanaged<LockWaiter>.fromOpaque(context!).takeUnretainedValue().waitAgain(attempt: Int(attempt)) ? 1 : 0
        }, Unmanaged.passUnretained(waiter).toOpaque())
    }

    private var closed = false

    deinit { close() }

    /// Closes the connection now (SQLite finishes closing once its last statement is
    /// finalized). For an owner that must close its own descriptors of the database's files
    /// only after the connection: POSIX locks are dropped by closing any descriptor of a file.
    package func close() {
        guard !closed else { return }
        closed = true
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    package func execute(_ sql: String) throws {
        var errorText: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorText)
        let message = errorText.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
        sqlite3_free(errorText)
        try check(rc, message: message, context: "running '\(sql.prefix(60))'")
    }

    /// Prepares one statement.
    package func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v2(handle, sql, -1, &statement, nil), context: "preparing '\(sql.prefix(60))'")
        return SQLiteStatement(statement!, connection: self)
    }

    /// Runs a query and returns every row.
    package func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        var rows: [[SQLiteValue]] = []
        while try statement.step() { rows.append(statement.row()) }
        return rows
    }

    /// Runs a statement with bindings that returns no rows; returns the changed row count.
    @discardableResult
    package func run(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs `PRAGMA integrity_check` (or `quick_check`) and returns nil when it says ok,
    /// else the first problems it lists.
    package func integrityProblems(quick: Bool) throws -> String? {
        let rows = try query(quick ? "PRAGMA quick_check" : "PRAGMA integrity_check")
        let lines = rows.compactMap { $0.first?.text }
        if lines == ["ok"] { return nil }
        return lines.prefix(3).joined(separator: "; ")
    }

    /// Throws unless `rc` is a success code.
    func check(_ rc: Int32, message: String? = nil, context: String) throws {
        switch rc & 0xFF {
        case SQLITE_OK, SQLITE_ROW, SQLITE_DONE: return
        default:
            throw SQLiteConnection.error(rc, message: message ?? String(cString: sqlite3_errmsg(handle)), path: path, context: context)
        }
    }

    /// Maps a SQLite result code to the error a user should see.
    static func error(_ rc: Int32, message raw: String, path: String, context: String) -> BackupError {
        // A handle other than the one that failed (the backup API's) says "not an error".
        let message = raw == "not an error" ? String(cString: sqlite3_errstr(rc)) : raw
        switch rc & 0xFF {
        case SQLITE_NOTADB: return .notADatabase(path: path)
        case SQLITE_CORRUPT: return .integrityCheckFailed(what: path, detail: message)
        case SQLITE_BUSY, SQLITE_LOCKED: return .databaseBusy(path: path)
        case SQLITE_FULL: return .cannotWrite(path: path, reason: "disk full")
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_IOERR:
            return .cannotWrite(path: path, reason: message)
        default: return .sqlite(code: rc, message: message, context: context)
        }
    }
}
