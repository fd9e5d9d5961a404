import Foundation

/// Where a restore goes, the last step of download → verify → decrypt → decompress → check →
/// place. A target is asked three things, in order: `prepare` before any byte is downloaded
/// (so a bad destination fails at once), `verify` on the decoded file, and `place` only once
/// every check passed. SQLite's targets (a file, an SQL dump, a live database, nothing) are
/// the first; a PostgreSQL target would restore a dump the same way.
protocol RestoreTarget {
    /// Fails before anything is downloaded when the destination cannot take the restore.
    func prepare(objectKey: String, confirm: (String) -> Bool?) throws
    /// Where the decoded database is written: beside the output (one atomic rename at the end)
    /// or in the run's work folder.
    func temporaryPath(in work: WorkDirectory) -> String
    /// Checks the decoded database (`pages`: what its pages point to, when noted as it was
    /// written); nothing is placed unless it passes.
    func verify(_ temporary: String, pages: PageMap?) throws
    /// Puts the verified database in place.
    func place(_ temporary: String) throws -> RestorePlacement
}

/// What placing a restore made, as the result reports it.
struct RestorePlacement {
    var output: String? = nil
    var format: String? = nil
    var target: String? = nil
    var safetySnapshot: String? = nil
}

extension RestoreTarget {
    /// SQLite's check: `PRAGMA integrity_check`, split over the cores (`IntegrityCheck`).
    func verify(_ temporary: String, pages: PageMap?) throws {
        guard (Files.size(temporary) ?? 0) > 0 else { return }
        if let problems = try IntegrityCheck(path: temporary, pages: pages).problems() {
            throw BackupError.integrityCheckFailed(what: "the restored database", detail: problems)
        }
    }
}

extension RestoreRequest.Destination {
    /// The target this destination names.
    func target(console: Console) -> any RestoreTarget {
        switch self {
        case .file(let out, let overwrite):
            // By default in the current folder, never among the backups (a plaintext copy there
            // would sit beside every encrypted one).
            return FileRestoreTarget(path: Files.absolute(out ?? "restored-\(ObjectKey.stamp(Date())).db"), overwrite: overwrite)
        case .sqlDump(let out, let overwrite):
            return SQLDumpRestoreTarget(path: Files.absolute(out), overwrite: overwrite)
        case .liveDatabase(let path, let confirmed):
            return LiveDatabaseRestoreTarget(typed: path, confirmed: confirmed, notice: LockWaitNotice(console: console))
        case .verifyOnly:
            return VerifyOnlyRestoreTarget()
        }
    }
}
