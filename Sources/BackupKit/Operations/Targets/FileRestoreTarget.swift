import Foundation

/// A new database file (`--out`, or `./restored-<stamp>.db`), never replacing one without
/// `--overwrite`, even one that appears while the restore runs.
struct FileRestoreTarget: RestoreTarget {
    let path: String
    let overwrite: Bool

    func prepare(objectKey: String, confirm: (String) -> Bool?) throws {
        if Files.exists(path) && !overwrite { throw BackupError.outputExists(path: path, flag: "--out") }
        Files.removeStaleTemporaries(of: path)
        try RestoreOperation.probeWritable(path)
    }

    /// Beside the output: same file system, so the final rename is atomic.
    func temporaryPath(in work: WorkDirectory) -> String { Files.temporarySibling(of: path) }

    func place(_ temporary: String) throws -> RestorePlacement {
        if overwrite { try Files.atomicRename(temporary, to: path) } else { try Files.placeNew(temporary, at: path, flag: "--out") }
        return RestorePlacement(output: path, format: "sqlite")
    }
}
