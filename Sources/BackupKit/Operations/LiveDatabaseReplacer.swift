import Foundation

/// Replaces the contents of a database that other processes may be using, through the
/// SQLite backup API into it: the copy is one write transaction on the target, so its
/// readers see the old content or the new, never a mix, and a crash rolls it back.
/// A safety snapshot of the old content is taken first, beside the target (same disk, same
/// owner, never in the backup folder): `<target>-before-restore-<stamp>-<id>.db`. Only the
/// newest `keptSnapshots` of a target are kept; older ones are removed after a restore.
struct LiveDatabaseReplacer {
    let target: String
    /// Says what the replacement waits for when another connection holds the target locked.
    var notice: LockWaitNotice?
    /// Safety snapshots kept per target.
    static let keptSnapshots = 3
    /// How long the restore waits for the target's other connections to release their locks.
    static let busyTimeout = Duration.seconds(30)

    struct Outcome {
        let target: String
        let safetySnapshot: String?
    }

    func replace(with restored: String) throws -> Outcome {
        var safety: String?
        if Files.exists(target), (Files.size(target) ?? 0) > 0 {
            // A short random suffix: two restores in one second each keep their own snapshot.
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let path = "\(target)-before-restore-\(ObjectKey.stamp(Date()))-\(suffix).db"
            try FileDescriptor.createPrivate(path).close()
            do {
                let current = try SQLiteConnection(path: target, mode: .readOnly, busyTimeout: Self.busyTimeout, notice: notice)
                let copy = try SQLiteConnection(path: path, mode: .readWrite)
                try OnlineBackup.copy(from: current, to: copy, busyTimeout: Self.busyTimeout)
            } catch {
                RestoreOperation.removeDatabaseFiles(path)
                throw error
            }
            safety = path
        }
        let source = try SQLiteConnection(path: restored, mode: .readOnly)
        let destination = try SQLiteConnection(path: target, mode: .readWriteCreate, busyTimeout: Self.busyTimeout, notice: notice)
        try OnlineBackup.copy(from: source, to: destination, busyTimeout: Self.busyTimeout, waitsFor: .destination)
        if let problems = try destination.integrityProblems(quick: true) {
            throw BackupError.integrityCheckFailed(what: target, detail: problems)
        }
        pruneSnapshots()
        return Outcome(target: target, safetySnapshot: safety)
    }

    /// Removes all but the newest `keptSnapshots` safety snapshots of the target (their
    /// names sort by time).
    private func pruneSnapshots() {
        let folder = (target as NSString).deletingLastPathComponent
        let prefix = (target as NSString).lastPathComponent + "-before-restore-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let snapshots = names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".db") }.sorted()
        for name in snapshots.dropLast(Self.keptSnapshots) { RestoreOperation.removeDatabaseFiles(folder + "/" + name) }
    }
}
