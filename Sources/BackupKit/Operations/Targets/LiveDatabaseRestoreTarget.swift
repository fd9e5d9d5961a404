import Foundation

/// A database other processes may be using (`--target`), replaced through the backup API
/// after a safety snapshot (`LiveDatabaseReplacer`), once the user confirmed (or `--yes`).
struct LiveDatabaseRestoreTarget: RestoreTarget {
    /// The path as typed, for the question.
    let typed: String
    let confirmed: Bool
    let notice: LockWaitNotice?

    var path: String { Files.absolute(typed) }

    func prepare(objectKey: String, confirm: (String) -> Bool?) throws {
        if Files.isDirectory(path) { throw BackupError.databaseIsFolder(path: path, setting: "--target") }
        if Files.exists(path), (Files.size(path) ?? 0) > 0 {
            do { try SQLiteFile.requireSQLiteHeader(path) } catch BackupError.notADatabase { throw BackupError.targetNotADatabase(path: path) }
        }
        guard !confirmed else { return }
        guard let answer = confirm("Replace the contents of \(typed) with backup \(objectKey)? A safety snapshot is taken first. [y/N] ") else {
            throw BackupError.confirmationUnavailable
        }
        guard answer else { throw BackupError.declined }
    }

    func temporaryPath(in work: WorkDirectory) -> String { work.file("restored.db") }

    func place(_ temporary: String) throws -> RestorePlacement {
        let replaced = try LiveDatabaseReplacer(target: path, notice: notice).replace(with: temporary)
        return RestorePlacement(target: replaced.target, safetySnapshot: replaced.safetySnapshot)
    }
}
