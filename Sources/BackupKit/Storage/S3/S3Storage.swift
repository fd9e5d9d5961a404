import Foundation
import Synchronization

/// Objects in an S3-compatible bucket (AWS, Wasabi, B2, R2, MinIO, Ceph, SeaweedFS), behind
/// the same contract as the local folder. Metadata travels as `x-amz-meta-*` headers on the
/// object itself, written with the object in one request (see `S3Upload`): an object
/// appears under its final key only when complete. What a crash leaves is an unfinished
/// multipart upload (or, from versions before one-write uploads, a `<key>.tmp-<pid>-<random>`
/// object), both removed by `removeAbandonedUploads`.
package struct S3Storage: ObjectStorage {
    package var config: S3Configuration { session.config }
    let session: S3Session
    private let pool: S3ClientPool
    /// Temp objects and multipart uploads older than this are abandoned (`BACKUP_ABANDONED_UPLOAD_HOURS`, default 24).
    package let abandonedAfter: TimeInterval

    package var kind: StorageKind { .s3 }

    package init(config: S3Configuration, listPageSize: Int = 1000, abandonedAfter: TimeInterval,
                 log: StorageLog = .silent) {
        self.abandonedAfter = abandonedAfter
        session = S3Session(config: config, log: log)
        pool = S3ClientPool(session: session, listPageSize: listPageSize)
    }

    /// The region requests are signed for: the configured one, or the bucket's once S3 named it.
    package var regionInUse: String { session.region }

    /// Where the credentials come from (never the secret).
    package var credentialSource: String { config.credentialSource }

    package func location(of key: String) -> String { "s3://\(config.bucket)/\(key)" }

    package func validate(objectKey key: String) throws {
        if key.isEmpty || key.utf8.count > 1024 || key.contains("\0") || key.hasPrefix("/") { throw BackupError.unsafeObjectKey(key) }
    }

    package func beginUpload(objectKey key: String, spoolDirectory: String) throws -> any ObjectUpload {
        try validate(objectKey: key)
        return try S3Upload(objectKey: key, pool: pool, spoolDirectory: spoolDirectory)
    }

    package func beginUpload(objectKey key: String, spoolDirectory: String, metadata: ObjectMetadata) throws -> any ObjectUpload {
        try validate(objectKey: key)
        return try S3Upload(objectKey: key, pool: pool, spoolDirectory: spoolDirectory, metadata: metadata)
    }

    /// The spool holds the whole object: at most the snapshot plus deflate's worst case.
    package func spoolBytes(forSnapshotOf size: Int64) -> Int64 {
        size + size / 1000 + (size >> 20 + 1) * 64 + (1 << 20)
    }

    package func head(objectKey key: String) throws -> (object: StoredObject, metadata: ObjectMetadata) {
        try validate(objectKey: key)
        guard let found = try pool.with({ try $0.headObject(objectKey: key) }) else { throw BackupError.backupNotFound(objectKey: key) }
        return found
    }

    package func download(objectKey key: String, range: Range<Int64>, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var delivered: Int64 = 0
        try pool.with { try $0.getObject(objectKey: key, range: range) { bytes in
            delivered += Int64(bytes.count)
            try sink(bytes)
        } }
        if delivered != Int64(range.count) {
            throw BackupError.corruptBackup(objectKey: key, detail: "bytes \(range.lowerBound)-\(range.upperBound - 1) are past its end")
        }
    }

    package func download(objectKey key: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(objectKey: key)
        try pool.with { try $0.getObject(objectKey: key, to: sink) }
    }

    /// Bytes of each ranged GET of a parallel download.
    static let downloadPartSize = 4 << 20

    /// An object of more than two 4 MiB parts comes in ranged GETs on `BACKUP_S3_PARALLEL_PARTS`
    /// connections (`S3ParallelDownload`); a smaller one, or one without an ETag, in one GET.
    package func download(objectKey key: String, size: Int64, version: String?, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(objectKey: key)
        // S3 objects are at most 5 TiB: a larger size (a broken or hostile answer) is not planned in parts.
        guard let version, config.parallelParts > 1, size > 2 * Int64(Self.downloadPartSize), size <= 5 << 40 else {
            return try download(objectKey: key, to: sink)
        }
        try S3ParallelDownload(pool: pool, objectKey: key, size: size, version: version, partSize: Self.downloadPartSize,
                               connections: config.parallelParts).run(to: sink)
    }

    /// Never deletes or hides an object still under Object Lock retention (`underRetention`);
    /// a locked object whose date has passed goes as its version, leaving no delete marker.
    package func delete(objectKey key: String) throws {
        try validate(objectKey: key)
        try pool.with { client in
            let lock = try client.lockState(objectKey: key)
            guard let lock else { return }
            if let until = lock.retainUntil, until > Date() {
                throw BackupError.underRetention(objectKey: key, until: Formatting.iso8601(millis: Int64(until.timeIntervalSince1970 * 1000)))
            }
            let versioned = lock.retainUntil != nil || config.objectLock != nil
            try client.deleteObject(objectKey: key, versionId: versioned ? lock.versionId : nil)
        }
    }

    package func retainedUntil(objectKey key: String) throws -> Date? {
        try pool.with { try $0.lockState(objectKey: key)?.retainUntil }
    }

    /// Extends `key`'s retention to `until` under the configured lock mode (never shortens it).
    package func extendRetention(objectKey key: String, until: Date) throws {
        guard let lock = config.objectLock else { return }
        try pool.with { client in
            if let current = try client.lockState(objectKey: key)?.retainUntil, current >= until { return }
            try client.putRetention(objectKey: key, mode: lock.mode, until: until)
        }
    }

    package func list(prefix: String) throws -> [StoredObject] {
        try pool.with { try $0.listObjects(prefix: prefix) }.filter { !Self.isTemporary($0.objectKey) }
    }

    package func removeAbandonedUploads(prefix: String) throws -> Int {
        let cutoff = Int64((Date().timeIntervalSince1970 - abandonedAfter) * 1000)
        return try pool.with { client in
            var removed = 0
            for upload in try client.listMultipartUploads(prefix: prefix) where upload.initiated <= cutoff {
                try client.abortMultipartUpload(objectKey: upload.objectKey, uploadId: upload.uploadId)
                removed += 1
            }
            for object in try client.listObjects(prefix: prefix) where Self.isTemporary(object.objectKey) && object.lastModified <= cutoff {
                try client.deleteObject(objectKey: object.objectKey)
                removed += 1
            }
            return removed
        }
    }

    static let temporaryMarker = ".tmp-"

    /// Whether `key` is a temp object that versions before one-write uploads used for
    /// multipart uploads (`<key>.tmp-<pid>-<random>`): never a backup, removed when abandoned.
    static func isTemporary(_ key: String) -> Bool {
        guard let range = key.range(of: temporaryMarker, options: .backwards) else { return false }
        let tail = key[range.upperBound...].split(separator: "-")
        return tail.count == 2 && Int(tail[0]) != nil && tail[1].count == 8 && !tail[1].contains("/")
    }

    /// Metadata as `x-amz-meta-*` headers. Values outside printable ASCII, or holding `%`,
    /// are percent-encoded (HTTP headers carry ASCII); `metadataValue(fromHeader:)` decodes them.
    static func metadataHeaders(_ metadata: ObjectMetadata) -> [(String, String)] {
        metadata.values.sorted { $0.key < $1.key }.map { name, value in
            let plain = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "%" }
            return ("x-amz-meta-\(name.lowercased())", plain ? value : URIEncoding.encode(value, keepSlash: true))
        }
    }

    /// A metadata header's value as it was given to `metadataHeaders`.
    static func metadataValue(fromHeader value: String) -> String {
        value.contains("%") ? URIEncoding.decode(value) : value
    }
}

