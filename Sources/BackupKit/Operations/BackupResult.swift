import Foundation

/// What a backup run produced (the `--json` shape of `backup`, where the object key is `key`).
package struct BackupResult: Encodable, Sendable {
    package var ok = true
    package var skipped = false
    package let objectKey: String
    /// `gzip` or `zstd`.
    package let compression: String
    package let location: String
    package let storage: StorageKind
    package let database: String
    package let sourceSize: Int64
    package let storedSize: Int64
    package let checksum: String
    /// The id of the key it was encrypted with (`EncryptionKey.id`).
    package let keyID: String
    /// Whether the snapshot was compacted with `VACUUM INTO`.
    package let vacuum: Bool
    package let createdAt: Int64
    package let snapshotSeconds: Double
    package let uploadSeconds: Double
    package let durationSeconds: Double
    /// An incremental backup (a manifest and at most one new pack).
    package var incremental = false
    /// Bytes this backup stored (the object; for an incremental one, its manifest and new pack).
    package var uploadedBytes: Int64 = 0
    /// Objects this backup stored.
    package var objectsWritten = 1
    /// Incremental only: blocks stored now, blocks reused, and blocks stored again because
    /// their pack was mostly unused.
    package var newBlocks: Int?
    package var reusedBlocks: Int?
    package var rewrittenBlocks: Int?
    /// Incremental only: the manifest this one is a delta of (nil: a whole manifest), and the
    /// entries the stored manifest lists.
    package var manifestParent: String?
    package var manifestEntries: Int64?
    /// Wall seconds of the writer's stages (incremental: previous_manifest, pass, check_wait,
    /// pack_upload, manifest), for `make bench`.
    package var stageSeconds: [String: Double]?
    /// The snapshot's quick_check: `ok`, or (incremental only, `SnapshotCheckRule`)
    /// `skipped_unchanged` or `skipped_recent`.
    package var snapshotCheck = "ok"
    /// Marked with `--keep-forever`: clean never deletes it.
    package var keepForever = false

    enum CodingKeys: String, CodingKey {
        case ok, skipped, compression, location, storage, database, sourceSize, storedSize, checksum, keyID, vacuum, createdAt
        case snapshotSeconds, uploadSeconds, durationSeconds
        case incremental, uploadedBytes, objectsWritten, newBlocks, reusedBlocks, rewrittenBlocks, keepForever, manifestParent, manifestEntries, stageSeconds
        case snapshotCheck
        case objectKey = "key"
    }
}
