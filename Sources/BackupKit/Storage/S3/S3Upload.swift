import Foundation
import Synchronization

/// One upload to S3, written once under its final key with its complete metadata.
///
/// The GCM tag and the checksum are known only when the last byte is written, and S3 fixes
/// an object's metadata when it is created, so the bytes first go to a private spool file
/// in the run's work folder (0600, removed on every exit path). `complete` then uploads the
/// spool: one PutObject up to `multipartThreshold`, above it a multipart upload whose
/// CreateMultipartUpload carries the metadata, parts read from the spool by
/// `parallelParts` threads (streamed from the file, never held in memory), each part retried
/// on its own. No temp object and no server-side
/// copy: the object appears only when complete, and is billed once.
///
/// An object whose metadata is known before its bytes (a pack: every block carries its own
/// seal) is given it at the start: its parts then go while the spool is written
/// (`S3PartStream`), so the upload runs beside the pass instead of after it.
final class S3Upload: ObjectUpload {
    private let objectKey: String
    private let pool: S3ClientPool
    private var config: S3Configuration { pool.session.config }
    private let spoolPath: String
    private var spool: FileDescriptor?
    private var size: Int64 = 0
    private var uploadId: String?
    private var finished = false
    /// The metadata given at the start, when known before the bytes.
    private let metadataUpFront: ObjectMetadata?
    /// The parts sent while writing (a multipart upload begun with `metadataUpFront`).
    private var stream: S3PartStream?

    init(objectKey key: String, pool: S3ClientPool, spoolDirectory: String, metadata: ObjectMetadata? = nil) throws {
        self.objectKey = key
        self.pool = pool
        metadataUpFront = metadata
        let spoolPath = spoolDirectory + "/upload-\(UUID().uuidString.prefix(8).lowercased()).spool"
        self.spoolPath = spoolPath
        spool = try Cleanup.shared.creating(spoolPath) { try FileDescriptor.createPrivate(spoolPath) }
    }

    deinit { abort() }

    /// Content type and server-side encryption, sent with the object-creating request.
    private var baseHeaders: [(String, String)] {
        var headers = [("Content-Type", "application/octet-stream")]
        if config.serverSideEncryption { headers.append(("x-amz-server-side-encryption", "AES256")) }
        if let lock = config.objectLock { headers += lock.headers() }
        return headers
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished, let spool else { throw BackupError.unexpected("write after the upload ended") }
        do {
            try spool.write(bytes)
        } catch BackupError.cannotWrite(_, let reason) where reason == errnoText(ENOSPC) || reason == errnoText(EDQUOT) {
            throw BackupError.spoolFull(folder: ((spoolPath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent, written: size)
        }
        size += Int64(bytes.count)
        if let metadataUpFront, size > Int64(config.multipartThreshold) {
            if stream == nil {
                let id = try pool.with { try $0.createMultipartUpload(objectKey: objectKey, headers: baseHeaders + S3Storage.metadataHeaders(metadataUpFront)) }
                uploadId = id
                stream = try S3PartStream(objectKey: objectKey, uploadId: id, pool: pool, spoolPath: spoolPath,
                                          partSize: Int64(config.partSize), threads: config.parallelParts)
            }
            try stream!.send(upTo: size)
        }
    }

    func complete(metadata: ObjectMetadata) throws {
        guard !finished, let spool else { throw BackupError.unexpected("upload already ended") }
        guard metadataUpFront == nil || metadataUpFront == metadata else {
            throw BackupError.unexpected("the upload of \(objectKey) was completed with other metadata than it began with")
        }
        let headers = baseHeaders + S3Storage.metadataHeaders(metadata)
        do {
            try spool.close()
            if let stream {
                try completeMultipart(uploadId: stream.uploadId, etags: try stream.finish(size: size), metadata: metadata)
                self.stream = nil
            } else if size <= Int64(config.multipartThreshold) {
                let reader = try FileDescriptor.openForReading(spoolPath)
                try pool.with { try $0.putObject(objectKey: objectKey, body: .file(reader, offset: 0, length: size), headers: headers) }
            } else {
                try uploadMultipart(from: try FileDescriptor.openForReading(spoolPath), headers: headers, metadata: metadata)
            }
            finished = true
            removeSpool()
        } catch {
            abort()
            throw error
        }
    }

    /// Create (with the metadata), parts in parallel, Complete.
    private func uploadMultipart(from reader: FileDescriptor, headers: [(String, String)], metadata: ObjectMetadata) throws {
        let partSize = Int64(config.partSize)
        let partCount = Int((size + partSize - 1) / partSize)
        guard partCount <= 10_000 else {
            throw BackupError.configuration("the object needs more than S3's 10,000 parts: raise BACKUP_S3_PART_SIZE_MB (now \(config.partSize >> 20))")
        }
        let id = try pool.with { try $0.createMultipartUpload(objectKey: objectKey, headers: headers) }
        uploadId = id
        let etags = try PartUploader(objectKey: objectKey, uploadId: id, pool: pool, reader: reader, size: size, partSize: partSize,
                                     threads: min(config.parallelParts, partCount)).run()
        try completeMultipart(uploadId: id, etags: etags, metadata: metadata)
    }

    /// Complete. One whose answer was lost may have worked: `NoSuchUpload` on a retry is
    /// success when the key holds an object of our size and our metadata's MAC and checksum,
    /// and, for an object whose metadata carries no checksum (a pack), the ETag S3 gives the
    /// upload of exactly our parts (the MD5 of their MD5s, then `-` and their count).
    private func completeMultipart(uploadId id: String, etags: [String], metadata: ObjectMetadata) throws {
        Failpoint.partsUploaded.reach()
        do {
            try pool.with { try $0.completeMultipartUpload(objectKey: objectKey, uploadId: id, parts: etags) }
        } catch is S3Client.NoSuchUpload {
            let F = ObjectMetadata.Field.self
            guard let found = try pool.with({ try $0.headObject(objectKey: objectKey) }), found.object.size == size,
                  found.metadata[F.checksum] == metadata[F.checksum], found.metadata[F.mac] == metadata[F.mac],
                  metadata[F.checksum] != nil || Self.multipartETag(of: etags).map({ found.object.version?.lowercased() == "\"\($0)\"" }) == true
            else {
                throw BackupError.storageUnavailable("the multipart upload of s3://\(config.bucket)/\(objectKey) vanished before it was completed (aborted by another process?); run the backup again")
            }
            pool.session.log.detail("the answer to completing \(objectKey) was lost, but the object is there with our metadata")
        }
        uploadId = nil
    }

    /// The ETag S3 gives a multipart upload of parts with these ETags (each the hex MD5 of the
    /// part); nil when one is not an MD5.
    static func multipartETag(of parts: [String]) -> String? {
        let digest = Digest(.md5)
        for part in parts {
            guard let bytes = EncryptionKey.hexBytes(part.replacingOccurrences(of: "\"", with: "")), bytes.count == 16 else { return nil }
            bytes.withUnsafeBytes { digest.update($0) }
        }
        return digest.finish().hexString + "-\(parts.count)"
    }

    private func removeSpool() {
        spool = nil
        unlink(spoolPath)
        Cleanup.shared.forget(spoolPath)
    }

    /// Best effort: drop the spool and abort the multipart upload. What it cannot remove now,
    /// `removeAbandonedUploads` removes later.
    func abort() {
        guard !finished else { return }
        finished = true
        stream?.cancel(BackupError.unexpected("the upload of \(objectKey) was abandoned"))
        stream = nil
        removeSpool()
        if let uploadId {
            try? pool.with { try $0.abortMultipartUpload(objectKey: objectKey, uploadId: uploadId) }
        }
    }
}

/// Uploads the parts of a spool file with a few threads, each taking the next part number;
/// the first failure stops the others.
private final class PartUploader: Sendable {
    let objectKey: String
    let uploadId: String
    let pool: S3ClientPool
    let reader: FileDescriptor
    let size: Int64
    let partSize: Int64
    let threads: Int
    private let state: Mutex<State>

    private struct State {
        var next = 1
        var etags: [Int: String] = [:]
        var failure: Error?
    }

    init(objectKey key: String, uploadId: String, pool: S3ClientPool, reader: FileDescriptor, size: Int64, partSize: Int64, threads: Int) {
        self.objectKey = key
        self.uploadId = uploadId
        self.pool = pool
        self.reader = reader
        self.size = size
        self.partSize = partSize
        self.threads = max(1, threads)
        state = Mutex(State())
    }

    var partCount: Int { Int((size + partSize - 1) / partSize) }

    /// The parts' ETags in order.
    func run() throws -> [String] {
        let workers = (0..<threads).map { n in BackgroundTask(name: "s3-part-\(n)") { [self] in work() } }
        for worker in workers { try worker.join() }
        return try state.withLock { state in
            if let failure = state.failure { throw failure }
            return try (1...partCount).map { number in
                guard let etag = state.etags[number] else { throw BackupError.unexpected("part \(number) has no ETag") }
                return etag
            }
        }
    }

    /// Uploads parts until none is left. Each part is read from the spool as libcurl sends
    /// it (pread: the threads share the descriptor), so memory does not grow with the part size.
    private func work() {
        while let number = claim() {
            do {
                let offset = Int64(number - 1) * partSize
                let body = HTTPBody.file(reader, offset: offset, length: min(partSize, size - offset))
                let etag = try pool.with { try $0.uploadPart(objectKey: objectKey, uploadId: uploadId, number: number, body: body) }
                state.withLock { $0.etags[number] = etag }
            } catch {
                state.withLock { if $0.failure == nil { $0.failure = error } }
                return
            }
        }
    }

    /// The next part to upload, nil when none is left or a part failed.
    private func claim() -> Int? {
        state.withLock { state in
            guard state.failure == nil, state.next <= partCount else { return nil }
            defer { state.next += 1 }
            return state.next
        }
    }
}
