import Foundation

/// One way of storing a backup: a full object (`FullBackupWriter`) or a manifest and a pack
/// (`IncrementalBackupWriter`). A writer stores its objects and nothing else; `BackupOperation`
/// runs the one sequence around it: snapshot, writer, catalog rows, sweep, result.
protocol BackupWriter {
    /// Stores the backup of `source`. `check` is the snapshot's check: the writer starts it
    /// when its rule says, and makes nothing visible before `check.finish` passed. A failure
    /// of the writer is the run's error (the operation abandons the check).
    func write(_ source: any DatabaseSource, check: DeferredCheck, in run: BackupRun) throws -> WrittenBackup
}

/// What every writer is given: where, with which key, for which database and time.
struct BackupRun {
    let settings: Settings
    let console: Console
    let storage: any ObjectStorage
    let key: EncryptionKey
    let origin: DatabaseOrigin
    let createdAt: Int64
    let work: WorkDirectory
    let keepForever: Bool
    /// When an incremental backup's snapshot check may be skipped (`BACKUP_CHECK_INTERVAL`).
    var checkRule = SnapshotCheckRule()
}

/// What a writer stored: the figures of the result, and the catalog rows the operation
/// writes once the objects are stored.
struct WrittenBackup {
    let objectKey: String
    let sourceSize: Int64
    /// Bytes the backup occupies (an incremental one: its manifest and new pack).
    let storedSize: Int64
    /// Bytes this run stored.
    let uploadedBytes: Int64
    /// MD5 hex of the object's (the manifest's) stored bytes.
    let checksum: String
    let objectsWritten: Int
    let uploadSeconds: Double
    var incremental: (newBlocks: Int, reusedBlocks: Int, rewrittenBlocks: Int, manifestParent: String?, manifestEntries: Int64)? = nil
    /// The snapshot's check: `ok`, `skipped_unchanged` or `skipped_recent` (`SnapshotCheckRule`).
    var snapshotCheck = "ok"
    /// Writes the backup's rows (the object's; a pack's and its references first).
    let catalogRows: (BackupCatalog) throws -> Void
    /// Wall seconds of the writer's stages, in order (`backup --json` `stage_seconds`).
    var stages: [(name: String, seconds: Double)] = []
}
