import Foundation

/// One upload to S3 (see `S3Storage` for the strategy). Parts upload on background threads,
/// at most `parallelParts` at once, while the caller goes on producing bytes; memory holds at
/// most the multipart threshold plus `parallelParts` parts.
final class S3Upload: ObjectUpload, @unchecked Sendable {
    /// CopyObject's limit; larger objects are copied in parts.
    static let singleCopyLimit: Int64 = 5 << 30
    /// Bytes per UploadPartCopy part when copying a larger object.
    var copyPartSize: Int64 = 1 << 30
    /// Objects above this are copied with UploadPartCopy instead of CopyObject.
    var copyLimit: Int64 = S3Upload.singleCopyLimit

    private let key: String
    private let pool: S3ClientPool
    private var config: S3Configuration { pool.config }
    private var buffer: [UInt8] = []
    private var totalSize: Int64 = 0
    private var multipart: (tempKey: String, uploadId: String)?
    private var partCount = 0
    private var tempObjectCompleted = false
    private var finished = false
    // Parts in flight.
    private let lock = NSLock()
    private var etags: [Int: String] = [:]
    private var partFailure: Error?
    private let inFlight = DispatchGroup()
    private let slots: DispatchSemaphore

    init(key: String, pool: S3ClientPool) {
        self.key = key
        self.pool = pool
        slots = DispatchSemaphore(value: pool.config.parallelParts)
    }

    deinit { abort() }

    /// Content type and server-side encryption, sent with every object-creating request.
    private var baseHeaders: [(String, String)] {
        var headers = [("Content-Type", "application/octet-stream")]
        if config.serverSideEncryption { headers.append(("x-amz-server-side-encryption", "AES256")) }
        return headers
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw BackupError.unexpected("write after the upload ended") }
        buffer.append(contentsOf: bytes)
        totalSize += Int64(bytes.count)
        if multipart == nil && buffer.count > config.multipartThreshold {
            let tempKey = S3Storage.temporaryKey(for: key)
            let id = try pool.with { try $0.createMultipartUpload(key: tempKey, headers: baseHeaders) }
            multipart = (tempKey, id)
        }
        if multipart != nil {
            while buffer.count >= config.partSize { try uploadPart(count: config.partSize) }
        }
    }

    /// Hands the first `count` buffered bytes to a background upload (waiting for a free slot).
    private func uploadPart(count: Int) throws {
        guard let multipart else { return }
        try throwPartFailure()
        guard partCount < 10_000 else {
            throw BackupError.configuration("the object needs more than S3's 10,000 parts: raise BACKUP_S3_PART_SIZE_MB (now \(config.partSize >> 20))")
        }
        let part = Array(buffer[0..<count])
        buffer.removeFirst(count)
        partCount += 1
        let number = partCount
        slots.wait()
        inFlight.enter()
        DispatchQueue.global().async { [self] in
            defer {
                slots.signal()
                inFlight.leave()
            }
            do {
                let etag = try pool.with { try $0.uploadPart(key: multipart.tempKey, uploadId: multipart.uploadId, number: number, body: part) }
                lock.withLock { etags[number] = etag }
            } catch {
                lock.withLock { if partFailure == nil { partFailure = error } }
            }
        }
    }

    private func throwPartFailure() throws {
        if let failure = lock.withLock({ partFailure }) { throw failure }
    }

    /// Waits for the parts in flight; returns their ETags in order.
    private func finishedParts() throws -> [String] {
        inFlight.wait()
        try throwPartFailure()
        return try (1...max(partCount, 1)).map { number in
            guard let etag = lock.withLock({ etags[number] }) else { throw BackupError.unexpected("part \(number) has no ETag") }
            return etag
        }
    }

    func complete(metadata: ObjectMetadata) throws {
        guard !finished else { throw BackupError.unexpected("upload already ended") }
        let headers = baseHeaders + S3Storage.metadataHeaders(metadata)
        do {
            if let multipart {
                if !buffer.isEmpty || partCount == 0 { try uploadPart(count: buffer.count) }
                let parts = try finishedParts()
                try pool.with { try $0.completeMultipartUpload(key: multipart.tempKey, uploadId: multipart.uploadId, parts: parts) }
                tempObjectCompleted = true
                try copy(from: multipart.tempKey, headers: headers)
                try pool.with { try $0.deleteObject(key: multipart.tempKey) }
                tempObjectCompleted = false
            } else {
                let body = buffer
                try pool.with { try $0.putObject(key: key, body: body, headers: headers) }
            }
            finished = true
            buffer = []
        } catch {
            abort()
            throw error
        }
    }

    /// Puts the completed temp object under the final key with `headers` (the metadata).
    private func copy(from tempKey: String, headers: [(String, String)]) throws {
        if totalSize <= copyLimit {
            try pool.with { try $0.copyObject(from: tempKey, to: key, headers: headers) }
            return
        }
        try pool.with { client in
            let id = try client.createMultipartUpload(key: key, headers: headers)
            do {
                var parts: [String] = []
                var start: Int64 = 0
                while start < totalSize {
                    let end = min(start + copyPartSize, totalSize) - 1
                    parts.append(try client.uploadPartCopy(key: key, uploadId: id, number: parts.count + 1, source: tempKey, range: start...end))
                    start = end + 1
                }
                try client.completeMultipartUpload(key: key, uploadId: id, parts: parts)
            } catch {
                try? client.abortMultipartUpload(key: key, uploadId: id)
                throw error
            }
        }
    }

    /// Best effort: abort the multipart upload or delete the temp object. What it cannot
    /// remove now, `removeAbandonedUploads` removes later.
    func abort() {
        guard !finished else { return }
        finished = true
        buffer = []
        guard let multipart else { return }
        inFlight.wait()
        if tempObjectCompleted {
            try? pool.with { try $0.deleteObject(key: multipart.tempKey) }
        } else {
            try? pool.with { try $0.abortMultipartUpload(key: multipart.tempKey, uploadId: multipart.uploadId) }
        }
    }
}
