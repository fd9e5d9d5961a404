import Foundation

/// Objects in an S3-compatible bucket (AWS, Wasabi, MinIO), behind the same contract as the
/// local folder. Metadata travels as `x-amz-meta-*` headers on the object itself.
///
/// Uploads up to `multipartThreshold` are one PutObject with `Content-MD5` and every metadata
/// header. Larger ones go multipart to a temp key, `<key>.tmp-<pid>-<random>` (under the same
/// prefix, skipped by listings), with parts in `partSize` pieces so memory stays bounded;
/// then a server-side copy puts the object under its final key with the complete metadata
/// (the GCM tag and checksum are only known at the end), and the temp object is deleted. So
/// the final key appears only when the object is complete; what a crash leaves is a hidden
/// temp object or an unfinished multipart upload, both removed by `removeAbandonedUploads`.
public struct S3Storage: ObjectStorage {
    public let config: S3Configuration
    private let pool: S3ClientPool
    /// Temp objects and multipart uploads older than this are abandoned (`BACKUP_ABANDONED_UPLOAD_HOURS`, default 24).
    public var abandonedAfter: TimeInterval = 86_400

    public var kind: StorageKind { .s3 }

    public init(config: S3Configuration, listPageSize: Int = 1000, onRetry: (@Sendable (String) -> Void)? = nil) {
        self.config = config
        pool = S3ClientPool(config: config, listPageSize: listPageSize, onRetry: onRetry)
    }

    public func location(of key: String) -> String { "s3://\(config.bucket)/\(key)" }

    public func validate(key: String) throws {
        if key.isEmpty || key.utf8.count > 1024 || key.contains("\0") || key.hasPrefix("/") { throw BackupError.unsafeKey(key) }
    }

    public func beginUpload(key: String) throws -> any ObjectUpload {
        try validate(key: key)
        return S3Upload(key: key, pool: pool)
    }

    public func head(key: String) throws -> (object: StoredObject, metadata: ObjectMetadata) {
        try validate(key: key)
        guard let found = try pool.with({ try $0.headObject(key: key) }) else { throw BackupError.backupNotFound(key: key) }
        return found
    }

    public func download(key: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(key: key)
        try pool.with { try $0.getObject(key: key, to: sink) }
    }

    public func delete(key: String) throws {
        try validate(key: key)
        try pool.with { try $0.deleteObject(key: key) }
    }

    public func list(prefix: String) throws -> [StoredObject] {
        try pool.with { try $0.listObjects(prefix: prefix) }
            .filter { !Self.isTemporary($0.key) }
            .map { StoredObject(key: $0.key, size: $0.size, lastModified: $0.lastModified) }
    }

    public func removeAbandonedUploads(prefix: String) throws -> Int {
        let cutoff = Int64((Date().timeIntervalSince1970 - abandonedAfter) * 1000)
        return try pool.with { client in
            var removed = 0
            for upload in try client.listMultipartUploads(prefix: prefix) where upload.initiated <= cutoff {
                try client.abortMultipartUpload(key: upload.key, uploadId: upload.uploadId)
                removed += 1
            }
            for object in try client.listObjects(prefix: prefix) where Self.isTemporary(object.key) && object.lastModified <= cutoff {
                try client.deleteObject(key: object.key)
                removed += 1
            }
            return removed
        }
    }

    static let temporaryMarker = ".tmp-"

    /// Whether `key` is a temp object of a multipart upload (`<key>.tmp-<pid>-<random>`).
    static func isTemporary(_ key: String) -> Bool {
        guard let range = key.range(of: temporaryMarker, options: .backwards) else { return false }
        let tail = key[range.upperBound...].split(separator: "-")
        return tail.count == 2 && Int(tail[0]) != nil && tail[1].count == 8 && !tail[1].contains("/")
    }

    /// The temp key for a multipart upload of `key`: same prefix, never taken for a backup.
    static func temporaryKey(for key: String) -> String {
        "\(key)\(temporaryMarker)\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Metadata as `x-amz-meta-*` headers; values outside printable ASCII are percent-encoded.
    static func metadataHeaders(_ metadata: ObjectMetadata) -> [(String, String)] {
        metadata.values.sorted { $0.key < $1.key }.map { name, value in
            let printable = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
            return ("x-amz-meta-\(name.lowercased())", printable ? value : URIEncoding.encode(value, keepSlash: true))
        }
    }
}

/// S3 clients for reuse: each owns one libcurl handle (and its open connections), and one
/// thread uses a client at a time.
final class S3ClientPool: @unchecked Sendable {
    let config: S3Configuration
    private let listPageSize: Int
    private let onRetry: (@Sendable (String) -> Void)?
    private let lock = NSLock()
    private var idle: [S3Client] = []

    init(config: S3Configuration, listPageSize: Int, onRetry: (@Sendable (String) -> Void)?) {
        self.config = config
        self.listPageSize = listPageSize
        self.onRetry = onRetry
    }

    func with<R>(_ body: (S3Client) throws -> R) throws -> R {
        lock.lock()
        let client = idle.popLast() ?? {
            let made = S3Client(config: config)
            made.listPageSize = listPageSize
            made.onRetry = onRetry
            return made
        }()
        lock.unlock()
        defer {
            lock.lock()
            idle.append(client)
            lock.unlock()
        }
        return try body(client)
    }
}
