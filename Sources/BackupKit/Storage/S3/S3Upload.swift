import Foundation

/// One upload to S3 (see `S3Storage` for the strategy). Memory holds at most the multipart
/// threshold plus one part.
final class S3Upload: ObjectUpload {
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
    private var etags: [String] = []
    private var tempObjectCompleted = false
    private var finished = false

    init(key: String, pool: S3ClientPool) {
        self.key = key
        self.pool = pool
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

    private func uploadPart(count: Int) throws {
        guard let multipart else { return }
        let part = Array(buffer[0..<count])
        let etag = try pool.with { try $0.uploadPart(key: multipart.tempKey, uploadId: multipart.uploadId, number: etags.count + 1, body: part) }
        etags.append(etag)
        buffer.removeFirst(count)
    }

    func complete(metadata: ObjectMetadata) throws {
        guard !finished else { throw BackupError.unexpected("upload already ended") }
        let headers = baseHeaders + S3Storage.metadataHeaders(metadata)
        do {
            if let multipart {
                if !buffer.isEmpty || etags.isEmpty { try uploadPart(count: buffer.count) }
                try pool.with { try $0.completeMultipartUpload(key: multipart.tempKey, uploadId: multipart.uploadId, parts: etags) }
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
        if tempObjectCompleted {
            try? pool.with { try $0.deleteObject(key: multipart.tempKey) }
        } else {
            try? pool.with { try $0.abortMultipartUpload(key: multipart.tempKey, uploadId: multipart.uploadId) }
        }
    }
}
