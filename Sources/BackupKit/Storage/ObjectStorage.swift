import Foundation

/// Where backup objects live: a local folder or an S3-compatible bucket. Every storage
/// follows the same rules, so the operations above never ask which one they talk to:
/// - a missing object is `BackupError.backupNotFound` from `head` and `download`;
/// - `delete` of a missing object succeeds (as S3's DeleteObject does);
/// - `list` returns complete objects only, never uploads in progress;
/// - a storage that cannot be reached throws `BackupError.storageUnavailable`;
/// - `delete` of an object under Object Lock retention throws `BackupError.underRetention`.
package protocol ObjectStorage: Sendable {
    /// `local` or `s3`, as recorded in the catalog's `storage` column.
    var kind: StorageKind { get }

    /// Where `objectKey` lives, for messages: a path or an `s3://bucket/key` URL.
    func location(of objectKey: String) -> String

    /// Throws `unsafeObjectKey` when this storage cannot hold `objectKey` safely.
    func validate(objectKey: String) throws

    /// Starts an upload to `objectKey`. A storage that must hold the whole object before it can
    /// store it (S3: the metadata goes with the first request) spools it in `spoolDirectory`.
    func beginUpload(objectKey: String, spoolDirectory: String) throws -> any ObjectUpload

    /// The same, for an object whose sealed metadata is known before its bytes (a pack):
    /// `complete` must be given the same. S3 then sends its parts while it is written.
    func beginUpload(objectKey: String, spoolDirectory: String, metadata: ObjectMetadata) throws -> any ObjectUpload

    /// Bytes the spool may take in `spoolDirectory` for a snapshot of `size` bytes (0 when
    /// the storage writes straight to its destination).
    func spoolBytes(forSnapshotOf size: Int64) -> Int64

    /// The object's size, time and metadata.
    func head(objectKey: String) throws -> (object: StoredObject, metadata: ObjectMetadata)

    /// Streams the object's bytes to `sink`, in order.
    func download(objectKey: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Streams the whole object to `sink`, in order, when a HEAD gave its `size` and `version`:
    /// S3 fetches it in ranged GETs in parallel, each asking for that version (`If-Match`), so
    /// a replaced object is `BackupError.objectChanged` rather than a mix.
    func download(objectKey: String, size: Int64, version: String?, to sink: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Streams the bytes `range` of the object to `sink`, in order (incremental restores fetch
    /// blocks from packs this way). A range past the end is `BackupError.corruptBackup`.
    func download(objectKey: String, range: Range<Int64>, to sink: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Deletes the object and whatever the storage keeps beside it.
    func delete(objectKey: String) throws

    /// Every complete object whose object key starts with `prefix`.
    func list(prefix: String) throws -> [StoredObject]

    /// Removes what crashed uploads under `prefix` left behind; returns how many it removed.
    func removeAbandonedUploads(prefix: String) throws -> Int

    /// Until when S3 Object Lock retains the object (nil: not locked, or no such thing here).
    func retainedUntil(objectKey: String) throws -> Date?

    /// Retains the object at least until `until` under the configured lock (no-op without one).
    func extendRetention(objectKey: String, until: Date) throws
}

extension ObjectStorage {
    package func beginUpload(objectKey: String, spoolDirectory: String, metadata: ObjectMetadata) throws -> any ObjectUpload {
        try beginUpload(objectKey: objectKey, spoolDirectory: spoolDirectory)
    }
    package func download(objectKey: String, size: Int64, version: String?, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try download(objectKey: objectKey, to: sink)
    }
    package func retainedUntil(objectKey: String) throws -> Date? { nil }
    package func extendRetention(objectKey: String, until: Date) throws {}
}
