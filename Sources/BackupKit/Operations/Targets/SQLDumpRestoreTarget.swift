import Foundation

/// A plain SQL dump of the restored database (`--sql`), written atomically (0600).
struct SQLDumpRestoreTarget: RestoreTarget {
    let path: String
    let overwrite: Bool

    func prepare(objectKey: String, confirm: (String) -> Bool?) throws {
        if Files.exists(path) && !overwrite { throw BackupError.outputExists(path: path, flag: "--sql") }
        guard Files.isDirectory((path as NSString).deletingLastPathComponent) else {
            throw BackupError.cannotWrite(path: path, reason: "its folder does not exist")
        }
        try RestoreOperation.probeWritable(path)
    }

    func temporaryPath(in work: WorkDirectory) -> String { work.file("restored.db") }

    func place(_ temporary: String) throws -> RestorePlacement {
        RestorePlacement(output: try RestoreOperation.writeDump(of: temporary, to: path, overwrite: overwrite), format: "sql")
    }
}
