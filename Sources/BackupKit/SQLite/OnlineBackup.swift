import CSQLite
import Foundation

/// SQLite's online backup API: copies every page of `source` into `destination` as one
/// consistent read transaction. Done in a single `sqlite3_backup_step(-1)`, so a writer in
/// another process cannot force a restart (an incremental copy restarts whenever another
/// connection writes and may never finish under a steady writer). In WAL mode writers
/// keep committing meanwhile; in rollback-journal mode they wait for the copy.
package enum OnlineBackup {
    /// Which side's locks a copy may wait for: a snapshot waits for its source's writers, a
    /// live restore for its target's.
    package enum Side: Sendable { case source, destination }

    /// Copies `source` into `destination`, waiting while the `waitsFor` side is locked for at
    /// most `busyTimeout` in all (the connections' busy handlers wait within that time, and
    /// their notice says once what is being waited for).
    package static func copy(from source: SQLiteConnection, to destination: SQLiteConnection,
                            busyTimeout: Duration = .seconds(30), waitsFor side: Side = .source) throws {
        guard let backup = sqlite3_backup_init(destination.handle, "main", source.handle, "main") else {
            try destination.check(sqlite3_errcode(destination.handle), context: "starting the online backup")
            throw BackupError.unexpected("SQLite could not start the online backup")
        }
        let waiter = side == .source ? source.waiter : destination.waiter
        let started = ContinuousClock.now
        var rc: Int32
        while true {
            rc = sqlite3_backup_step(backup, -1)
            let primary = rc & 0xFF
            if primary == SQLITE_DONE { break }
            let elapsed = ContinuousClock.now - started
            if primary == SQLITE_BUSY || primary == SQLITE_LOCKED, elapsed < busyTimeout {
                waiter.pause(elapsed: elapsed)
                continue
            }
            break
        }
        let finishRC = sqlite3_backup_finish(backup)
        if rc & 0xFF == SQLITE_BUSY || rc & 0xFF == SQLITE_LOCKED {
            throw BackupError.databaseBusy(path: source.path)
        }
        if rc & 0xFF != SQLITE_DONE {
            let failing = rc & 0xFF == SQLITE_NOTADB || rc & 0xFF == SQLITE_CORRUPT ? source : destination
            try failing.check(rc, context: "copying \(source.path) to \(destination.path)")
        }
        try destination.check(finishRC, context: "finishing the online backup")
    }
}
