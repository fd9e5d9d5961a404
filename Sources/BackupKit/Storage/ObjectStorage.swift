/// One object as storage lists it.
package struct StoredObject: Sendable, Equatable {
    package let key: String
    /// Stored size in bytes.
    package let size: Int64
    /// Last modification, milliseconds since the epoch.
    package let lastModified: Int64
}

/// An upload in progress. Nothing is visible under the final key until `complete`
/// returns; `abort` (or the process dying) leaves no listed object behind.
package protocol ObjectUpload: AnyObject {
    /// Appends bytes to the object, in order.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Makes the object and its metadata visible under the key, atomically.
    func complete(metadata: ObjectMetadata) throws
    /// Discards everything written. Safe to call more than once or after a failure.
    func abort()
}

/// Where backup objects live: a local folder or an S3-compatible bucket. Every backend
/// follows the same rules, so the operations above never ask which one they talk to:
/// - a missing object is `BackupError.backupNotFound` from `head` and `download`;
/// - `delete` of a missing object succeeds (as S3's DeleteObject does);
/// - `list` returns complete objects only, never uploads in progress;
/// - a backend that cannot be reached throws `BackupError.storageUnavailable`.
package protocol ObjectStorage: Sendable {
    /// `local` or `s3`, as recorded in the catalog's `storage` column.
    var kind: StorageKind { get }

    /// Where `key` lives, for messages: a path or an `s3://bucket/key` URL.
    func location(of key: String) -> String

    /// Throws `unsafeKey` when this backend cannot hold `key` safely.
    func validate(key: String) throws

    /// Starts an upload to `key`. A storage that must hold the whole object before it can
    /// store it (S3: the metadata goes with the first request) spools it in `spoolDirectory`.
    func beginUpload(key: String, spoolDirectory: String) throws -> any ObjectUpload

    /// Bytes the spool may take in `spoolDirectory` for a snapshot of `size` bytes (0 when
    /// the storage writes straight to its destination).
    func spoolBytes(forSnapshotOf size: Int64) -> Int64

    /// The object's size, time and metadata.
    func head(key: String) throws -> (object: StoredObject, metadata: ObjectMetadata)

    /// Streams the object's bytes to `sink`, in order.
    func download(key: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws

    /// Deletes the object and whatever the backend keeps beside it.
    func delete(key: String) throws

    /// Every complete object whose key starts with `prefix`.
    func list(prefix: String) throws -> [StoredObject]

    /// Removes what crashed uploads under `prefix` left behind; returns how many it removed.
    func removeAbandonedUploads(prefix: String) throws -> Int
}
