import Foundation

/// One S3 object in a listing.
struct S3ListedObject {
    let key: String
    let size: Int64
    let lastModified: Int64
}

/// One unfinished multipart upload.
struct S3MultipartUpload {
    let key: String
    let uploadId: String
    let initiated: Int64
}

/// S3's REST API over one libcurl handle: every request signed with SigV4, retried with
/// exponential backoff and full jitter on connection errors, timeouts, 500/502/503/504 and
/// `SlowDown`, at most `retries` times. Auth errors are not retried. Not thread-safe: use one
/// client per thread.
final class S3Client {
    let config: S3Configuration
    private let signer: SigV4Signer
    private let http = CurlHandle()
    private let options: HTTPOptions
    /// Objects per ListObjectsV2 page (`BACKUP_S3_LIST_PAGE_SIZE`, default 1000).
    var listPageSize = 1000
    /// Told about each retry (for `--verbose`).
    var onRetry: ((String) -> Void)?

    init(config: S3Configuration) {
        self.config = config
        signer = config.signer
        options = HTTPOptions(connectTimeoutSeconds: config.connectTimeout, caBundle: config.caBundle)
    }

    // MARK: Objects

    /// PutObject with `Content-MD5`.
    func putObject(key: String, body: [UInt8], headers: [(String, String)]) throws {
        let md5 = Data(Digest.hash(.md5, body)).base64EncodedString()
        _ = try send("PUT", key: key, headers: headers + [("Content-MD5", md5)], body: body, signPayload: false, operation: "upload")
    }

    /// HeadObject: size, time and `x-amz-meta-*` metadata; nil when there is no such object.
    func headObject(key: String) throws -> (object: StoredObject, metadata: ObjectMetadata)? {
        let response = try send("HEAD", key: key, operation: "read metadata of", allowedStatus: [404])
        if response.status == 404 {
            try requireBucket()
            return nil
        }
        var metadata = ObjectMetadata()
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        let size = Int64(response.headers["content-length"] ?? "") ?? 0
        let modified = response.headers["last-modified"].flatMap(S3Time.millis(http:)) ?? Formatting.nowMillis()
        return (StoredObject(key: key, size: size, lastModified: modified), metadata)
    }

    /// GetObject streamed to `sink`. A connection lost mid-way resumes with a Range request
    /// from the first byte not yet delivered, so `sink` sees every byte exactly once.
    func getObject(key: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try withoutActuallyEscaping(sink) { sink in try getObject(key: key, escapingSink: sink) }
    }

    private func getObject(key: String, escapingSink sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        var delivered: Int64 = 0
        var resumedFrom: Int64 = 0
        var skipped: Int64 = 0
        let response = try send("GET", key: key, operation: "download", allowedStatus: [404], beforeAttempt: { headers in
            resumedFrom = delivered
            skipped = 0
            if delivered > 0 { headers.append(("Range", "bytes=\(delivered)-")) }
        }, sink: { status, bytes in
            var chunk = bytes
            // A server that ignored the Range header resends from the start: drop what was delivered.
            if status == 200 && skipped < resumedFrom {
                let drop = Int(min(Int64(chunk.count), resumedFrom - skipped))
                skipped += Int64(drop)
                chunk = UnsafeRawBufferPointer(rebasing: chunk[drop...])
                if chunk.isEmpty { return }
            }
            try sink(chunk)
            delivered += Int64(chunk.count)
        })
        if response.status == 404 {
            if S3ErrorDocument(response.body)?.code == "NoSuchBucket" { try requireBucket() }
            throw BackupError.backupNotFound(key: key)
        }
    }

    /// DeleteObject; a missing object is not an error.
    func deleteObject(key: String) throws {
        _ = try send("DELETE", key: key, operation: "delete", allowedStatus: [404])
    }

    /// CopyObject onto `destination` with new metadata (objects up to 5 GiB).
    func copyObject(from source: String, to destination: String, headers: [(String, String)]) throws {
        let response = try send("PUT", key: destination,
                                headers: headers + [("x-amz-copy-source", copySource(source)), ("x-amz-metadata-directive", "REPLACE")],
                                operation: "copy")
        try Self.failIfErrorDocument(response.body, operation: "copy to \(destination)")
    }

    /// ListObjectsV2 over every page.
    func listObjects(prefix: String) throws -> [S3ListedObject] {
        var objects: [S3ListedObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(listPageSize))]
            if let token { query.append(("continuation-token", token)) }
            let response = try send("GET", key: nil, query: query, operation: "list")
            guard let root = XMLElement.parse(response.body), root.name == "ListBucketResult" else {
                throw BackupError.storageUnavailable("S3 answered the listing of s3://\(config.bucket)/\(prefix) with something that is not a ListBucketResult; check S3_ENDPOINT")
            }
            for item in root.all("Contents") {
                guard let key = item.value("Key") else { continue }
                // An unreadable date counts as now: unknown age never makes a backup look old.
                objects.append(S3ListedObject(key: key, size: Int64(item.value("Size") ?? "") ?? 0,
                                              lastModified: item.value("LastModified").flatMap(S3Time.millis(iso:)) ?? Formatting.nowMillis()))
            }
            token = root.value("IsTruncated") == "true" ? root.value("NextContinuationToken") : nil
        } while token != nil
        return objects
    }

    // MARK: Multipart

    func createMultipartUpload(key: String, headers: [(String, String)]) throws -> String {
        let response = try send("POST", key: key, query: [("uploads", "")], headers: headers, operation: "start a multipart upload of")
        guard let id = XMLElement.parse(response.body)?.value("UploadId"), !id.isEmpty else {
            throw BackupError.storageUnavailable("S3 started a multipart upload of \(key) without an UploadId; check S3_ENDPOINT")
        }
        return id
    }

    /// UploadPart with `Content-MD5`; returns the part's ETag.
    func uploadPart(key: String, uploadId: String, number: Int, body: [UInt8]) throws -> String {
        let md5 = Data(Digest.hash(.md5, body)).base64EncodedString()
        let response = try send("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadId)],
                                headers: [("Content-MD5", md5)], body: body, signPayload: false, operation: "upload part \(number) of")
        guard let etag = response.headers["etag"] else {
            throw BackupError.storageUnavailable("S3 accepted part \(number) of \(key) without an ETag; check S3_ENDPOINT")
        }
        return etag
    }

    /// UploadPartCopy of `range` of `source`; returns the part's ETag.
    func uploadPartCopy(key: String, uploadId: String, number: Int, source: String, range: ClosedRange<Int64>) throws -> String {
        let response = try send("PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadId)],
                                headers: [("x-amz-copy-source", copySource(source)),
                                          ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)")],
                                operation: "copy part \(number) to")
        try Self.failIfErrorDocument(response.body, operation: "copy part \(number) to \(key)")
        guard let etag = XMLElement.parse(response.body)?.value("ETag") else {
            throw BackupError.storageUnavailable("S3 copied part \(number) of \(key) without an ETag; check S3_ENDPOINT")
        }
        return etag
    }

    func completeMultipartUpload(key: String, uploadId: String, parts: [String]) throws {
        var xml = "<CompleteMultipartUpload>"
        for (index, etag) in parts.enumerated() {
            let escaped = etag.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(escaped)</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let response = try send("POST", key: key, query: [("uploadId", uploadId)], headers: [("Content-Type", "application/xml")],
                                body: Array(xml.utf8), operation: "complete the multipart upload of")
        try Self.failIfErrorDocument(response.body, operation: "complete the multipart upload of \(key)")
    }

    func abortMultipartUpload(key: String, uploadId: String) throws {
        _ = try send("DELETE", key: key, query: [("uploadId", uploadId)], operation: "abort the multipart upload of", allowedStatus: [404])
    }

    /// ListMultipartUploads over every page.
    func listMultipartUploads(prefix: String) throws -> [S3MultipartUpload] {
        var uploads: [S3MultipartUpload] = []
        var markers: (key: String, id: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", prefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
            let response = try send("GET", key: nil, query: query, operation: "list multipart uploads in")
            guard let root = XMLElement.parse(response.body) else { break }
            for upload in root.all("Upload") {
                guard let key = upload.value("Key"), let id = upload.value("UploadId") else { continue }
                uploads.append(S3MultipartUpload(key: key, uploadId: id,
                                                 initiated: upload.value("Initiated").flatMap(S3Time.millis(iso:)) ?? Formatting.nowMillis()))
            }
            if root.value("IsTruncated") == "true", let key = root.value("NextKeyMarker"), let id = root.value("NextUploadIdMarker") {
                markers = (key, id)
            } else {
                markers = nil
            }
        } while markers != nil
        return uploads
    }

    // MARK: Requests

    /// Throws the configuration error for a missing bucket, if it is missing.
    func requireBucket() throws {
        _ = try send("GET", key: nil, query: [("list-type", "2"), ("max-keys", "0")], operation: "list")
    }

    private func copySource(_ key: String) -> String {
        URIEncoding.encode("/\(config.bucket)/\(key)", keepSlash: true)
    }

    /// S3 may answer 200 and still put an `<Error>` document in the body (copy, complete).
    private static func failIfErrorDocument(_ body: [UInt8], operation: String) throws {
        if let error = S3ErrorDocument(body) {
            throw BackupError.storageUnavailable("S3 could not \(operation): \(error.code) \(error.message)")
        }
    }

    /// Signs and sends one request, retrying what is worth retrying. Statuses in
    /// `allowedStatus` are returned to the caller instead of thrown.
    func send(_ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
              body: [UInt8]? = nil, signPayload: Bool = true, operation: String, allowedStatus: Set<Int> = [],
              beforeAttempt: ((inout [(String, String)]) -> Void)? = nil,
              sink: CurlHandle.BodySink? = nil) throws -> HTTPResponse {
        let path = config.path(for: key)
        var url = "\(config.scheme)://\(config.authority)\(signer.canonicalPath(path))"
        let canonicalQuery = signer.canonicalQuery(query)
        if !canonicalQuery.isEmpty { url += "?" + canonicalQuery }
        let payloadHash = body.map { signPayload ? Digest.hash(.sha256, $0).hexString : SigV4Signer.unsignedPayload }
            ?? SigV4Signer.emptyPayloadHash
        let target = key.map { "s3://\(config.bucket)/\($0)" } ?? "s3://\(config.bucket)"
        var lastProblem = ""
        for attempt in 0...config.retries {
            if attempt > 0 {
                let ceiling = min(config.retryBaseDelay * pow(2, Double(attempt - 1)), 20)
                let delay = Double.random(in: ceiling / 2...ceiling)
                onRetry?("retrying \(operation) \(target) in \(String(format: "%.1f", delay)) s after: \(lastProblem)")
                Thread.sleep(forTimeInterval: delay)
            }
            var requestHeaders = headers
            beforeAttempt?(&requestHeaders)
            let date = Date()
            requestHeaders += [("Host", config.authority), ("x-amz-date", SigV4Signer.amzDate(date)), ("x-amz-content-sha256", payloadHash)]
            let signable = signer.withSecurityHeaders(SigV4Signer.Request(method: method, path: path, query: query,
                                                                          headers: requestHeaders, payloadHash: payloadHash))
            let request = HTTPRequest(method: method, url: url,
                                      headers: signable.headers + [("Authorization", signer.authorization(signable, date: date))],
                                      body: body)
            let response: HTTPResponse
            do {
                response = try http.perform(request, options: options, sink: sink)
            } catch let failure as HTTPTransportError {
                lastProblem = failure.message
                if failure.isRetryable { continue }
                throw BackupError.storageUnavailable("cannot \(operation) \(target): \(failure.message); check S3_ENDPOINT and S3_CA_BUNDLE")
            }
            if (200..<300).contains(response.status) || allowedStatus.contains(response.status) { return response }
            let document = S3ErrorDocument(response.body)
            let code = document?.code ?? response.headers["x-amz-error-code"] ?? ""
            if Self.isRetryable(status: response.status, code: code) {
                lastProblem = "HTTP \(response.status) \(code)".trimmingCharacters(in: .whitespaces)
                continue
            }
            throw error(status: response.status, code: code, message: document?.message ?? "", operation: operation, target: target)
        }
        throw BackupError.storageUnavailable("cannot \(operation) \(target): gave up after \(config.retries + 1) attempts (last: \(lastProblem)); check that \(config.scheme)://\(config.authority) is reachable, or raise BACKUP_S3_RETRIES")
    }

    static func isRetryable(status: Int, code: String) -> Bool {
        [500, 502, 503, 504, 408, 429].contains(status)
            || ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed"].contains(code)
    }

    /// The user-facing error for an S3 error answer. Never includes the secret.
    private func error(status: Int, code: String, message: String, operation: String, target: String) -> BackupError {
        switch code {
        case "SignatureDoesNotMatch":
            return .configuration("S3 rejected the request signature for access key \(config.accessKey): the secret key does not match it; check S3_SECRET_KEY")
        case "InvalidAccessKeyId":
            return .configuration("S3 does not know the access key \(config.accessKey); check S3_ACCESS_KEY")
        case "AccessDenied", "AllAccessDisabled":
            return .configuration("S3 denied access to \(operation) \(target) for access key \(config.accessKey); grant the key s3:GetObject, PutObject, DeleteObject and ListBucket on the bucket")
        case "NoSuchBucket":
            return .configuration("the bucket '\(config.bucket)' does not exist at \(config.scheme)://\(config.host)\(config.port.map { ":\($0)" } ?? ""); create it or fix S3_BUCKET")
        case "InvalidBucketName":
            return .configuration("'\(config.bucket)' is not a valid bucket name; fix S3_BUCKET")
        default:
            if status == 403 {
                return .configuration("S3 refused to \(operation) \(target) (HTTP 403): check S3_ACCESS_KEY, S3_SECRET_KEY and the key's permissions")
            }
            let detail = [code, message].filter { !$0.isEmpty }.joined(separator: ": ")
            return .storageUnavailable("S3 refused to \(operation) \(target) (HTTP \(status)\(detail.isEmpty ? "" : ", \(detail)"))")
        }
    }
}
