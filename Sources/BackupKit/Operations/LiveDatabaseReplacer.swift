import Foundation

/// Replaces the contents of a database that other processes may be using, through the
/// SQLite backup API into it: the copy is one write transaction on the target, so its
/// readers see the old content or the new, never a mix, and a crash rolls it back.
/// A safety snapshot of the old content is taken first.
struct LiveDatabaseReplacer {
    let target: String
    let safetyFolder: String

    struct Outcome {
        let target: String
        let safetySnapshot: String?
    }

    func replace(with restored: String) throws -> Outcome {
        var safety: String?
        if Files.exists(target), (Files.size(target) ?? 0) > 0 {
            try Files.makePrivateDirectory(safetyFolder)
            let name = (target as NSString).lastPathComponent
            // A short random suffix: two restores in one second each keep their own snapshot.
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let path = "\(safetyFolder)/\(name)-before-restore-\(ObjectKey.stamp(Date()))-\(suffix).db"
            try FileDescriptor.createPrivate(path).close()
            do {
                let current = try SQLiteConnection(path: target, mode: .readOnly)
                let copy = try SQLiteConnection(path: path, mode: .readWrite)
                try OnlineBackup.copy(from: current, to: copy)
            } catch {
                RestoreOperation.removeDatabaseFiles(path)
                throw error
            }
            safety = path
        }
        let source = try SQLiteConnection(path: restored, mode: .readOnly)
        let destination = try SQLiteConnection(path: target, mode: .readWriteCreate)
        try OnlineBackup.copy(from: source, to: destination)
        if let problems = try destination.integrityProblems(quick: true) {
            throw BackupError.integrityCheckFailed(what: target, detail: problems)
        }
        return Outcome(target: target, safetySnapshot: safety)
    }
}
