import Foundation

/// S3's REST API over one libcurl handle. Every request is signed with SigV4 for the
/// session's region and clock, carries a `Content-Length`, and is retried by the session's
/// `S3RetryPolicy` on connection errors, 408/429/500/502/503/504, `SlowDown`,
/// `RequestTimeout`, `InternalError`, and on a 2xx whose body is an `<Error>` or is not the
/// document the operation answers with. A bucket in another region and a skewed clock are
/// corrected once, then the request goes on. Auth errors are not retried. Not thread-safe:
/// one thread at a time (`S3ClientPool` hands clients over between threads, hence the
/// unchecked `Sendable`).
final class S3Client: @unchecked Sendable {
    let session: S3Session
    private var config: S3Configuration { session.config }
    private let http = CurlHandle()
    private let options: HTTPOptions
    /// Objects per ListObjectsV2 page (`BACKUP_S3_LIST_PAGE_SIZE`, default 1000).
    var listPageSize = 1000

    /// The multipart upload is gone (completed by an earlier attempt whose answer was lost,
    /// or aborted): the caller decides which.
    struct NoSuchUpload: Error {}

    init(session: S3Session) {
        self.session = session
        options = HTTPOptions(connectTimeoutSeconds: session.config.connectTimeout, caBundle: session.config.caBundle)
    }

    // MARK: Objects

    /// PutObject with `Content-MD5`.
    func putObject(objectKey key: String, body: HTTPBody, headers: [(String, String)]) throws {
        _ = try send("PUT", objectKey: key, headers: headers + [("Content-MD5", try Self.contentMD5(body))], body: body,
                     signPayload: false, operation: "upload")
    }

    /// The base64 MD5 of `body`, as `Content-MD5` carries it.
    static func contentMD5(_ body: HTTPBody) throws -> String {
        let md5 = Digest(.md5)
        try body.forEachChunk { md5.update($0) }
        return Data(md5.finish()).base64EncodedString()
    }

    /// HeadObject: size, time, ETag and `x-amz-meta-*` metadata; nil when there is no such object.
    func headObject(objectKey key: String) throws -> (object: StoredObject, metadata: ObjectMetadata)? {
        let response = try send("HEAD", objectKey: key, operation: "read metadata of", allowedStatus: [404])
        if response.status == 404 {
            try requireBucket(under: key)
            return nil
        }
        var metadata = ObjectMetadata()
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = S3Storage.metadataValue(fromHeader: value)
        }
        let size = Int64(response.headers["content-length"] ?? "") ?? 0
        let modified = response.headers["last-modified"].flatMap(S3Time.millis(http:)) ?? Formatting.nowMillis()
        return (StoredObject(objectKey: key, size: size, lastModified: modified, version: response.headers["etag"]), metadata)
    }

    /// GetObject streamed to `sink`. A connection lost mid-way resumes with a Range request
    /// from the first byte not yet delivered, `If-Match` the ETag of the first answer, so
    /// `sink` sees every byte exactly once, all of one version of the object. Throws
    /// `objectChanged` when the object was replaced in between.
    /// With `range`, only those bytes of the object (a Range request, resumed the same way).
    /// With `ifMatch`, every request asks for that version (ETag) from the first byte on.
    func getObject(objectKey key: String, range: Range<Int64>? = nil, ifMatch: String? = nil,
                   to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try withoutActuallyEscaping(sink) { sink in try getObject(objectKey: key, range: range, ifMatch: ifMatch, escapingSink: sink) }
    }

    private func getObject(objectKey key: String, range: Range<Int64>?, ifMatch: String?,
                           escapingSink sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        var delivered: Int64 = 0
        var resumedFrom: Int64 = 0
        var skipped: Int64 = 0
        var etag: String? = ifMatch
        let first = range?.lowerBound ?? 0
        let response = try send("GET", objectKey: key, operation: "download", allowedStatus: [404, 412], beforeAttempt: { headers in
            resumedFrom = delivered
            skipped = 0
            if let range {
                headers.append(("Range", "bytes=\(first + delivered)-\(range.upperBound - 1)"))
                if delivered > 0 || ifMatch != nil, let etag { headers.append(("If-Match", etag)) }
            } else if delivered > 0 || ifMatch != nil {
                if delivered > 0 { headers.append(("Range", "bytes=\(delivered)-")) }
                if let etag { headers.append(("If-Match", etag)) }
            }
        }, sink: { status, headers, bytes in
            if etag == nil { etag = headers["etag"] }
            var chunk = bytes
            // A server that ignored the Range header resends from the start: drop what was delivered.
            if status == 200 && skipped < first + resumedFrom {
                let drop = Int(min(Int64(chunk.count), first + resumedFrom - skipped))
                skipped += Int64(drop)
                chunk = UnsafeRawBufferPointer(rebasing: chunk[drop...])
                if chunk.isEmpty { return }
            }
            if let range, status == 200 {
                // The whole object came back: keep only the range's bytes.
                let left = range.count - Int(delivered)
                if left <= 0 { return }
                if chunk.count > left { chunk = UnsafeRawBufferPointer(rebasing: chunk[0..<left]) }
            }
            try sink(chunk)
            delivered += Int64(chunk.count)
        })
        if response.status == 412 { throw BackupError.objectChanged(objectKey: key) }
        if response.status == 404 {
            if S3ErrorDocument(response.body)?.code == "NoSuchBucket" { try requireBucket(under: key) }
            throw BackupError.backupNotFound(objectKey: key)
        }
    }

    /// DeleteObject; a missing object is not an error. With `versionId`, that version itself
    /// goes (no delete marker is left).
    func deleteObject(objectKey key: String, versionId: String? = nil) throws {
        if let versionId {
            _ = try send("DELETE", objectKey: key, query: [("versionId", versionId)], operation: "delete the version of", allowedStatus: [404])
        } else {
            _ = try send("DELETE", objectKey: key, operation: "delete", allowedStatus: [404])
        }
    }

    /// The object's current version and Object Lock retention, from a HEAD; nil when there
    /// is no such object.
    func lockState(objectKey key: String) throws -> ObjectLockState? {
        let response = try send("HEAD", objectKey: key, operation: "read metadata of", allowedStatus: [404])
        if response.status == 404 { return nil }
        return ObjectLockState(versionId: response.headers["x-amz-version-id"].flatMap { $0 == "null" ? nil : $0 },
                               mode: response.headers["x-amz-object-lock-mode"],
                               retainUntil: response.headers["x-amz-object-lock-retain-until-date"].flatMap(ObjectLockSettings.date))
    }

    /// PutObjectRetention: `mode` until `until`.
    func putRetention(objectKey key: String, mode: ObjectLockSettings.Mode, until: Date) throws {
        let xml = "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>\(mode.header)</Mode><RetainUntilDate>\(ObjectLockSettings.text(until))</RetainUntilDate></Retention>"
        let body = HTTPBody.bytes(Array(xml.utf8))
        _ = try send("PUT", objectKey: key, query: [("retention", "")],
                     headers: [("Content-Type", "application/xml"), ("Content-MD5", try Self.contentMD5(body))], body: body,
                     operation: "extend the retention of")
    }

    /// ListObjectsV2 over every page, keys URL-encoded on the wire (a key may hold
    /// characters XML 1.0 cannot carry) and decoded here. A page that does not parse, or
    /// says it is truncated without a continuation token, fails the listing: a short list
    /// would make retention and restore act on part of the truth.
    func listObjects(prefix: String) throws -> [StoredObject] {
        var objects: [StoredObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(listPageSize)), ("encoding-type", "url")]
            if let token { query.append(("continuation-token", token)) }
            let root = try document("GET", objectKey: nil, query: query, operation: "list", expectedRoot: "ListBucketResult")
            let encoded = root.value("EncodingType") == "url"
            for item in root.all("Contents") {
                guard let raw = item.value("Key") else { continue }
                // An unreadable date counts as now: unknown age never makes a backup look old.
                objects.append(StoredObject(objectKey: encoded ? URIEncoding.decodeFormValue(raw) : raw,
                                            size: Int64(item.value("Size") ?? "") ?? 0,
                                            lastModified: item.value("LastModified").flatMap(S3Time.millis(iso:)) ?? Formatting.nowMillis(),
                                            version: item.value("ETag")))
            }
            token = nil
            if root.value("IsTruncated") == "true" {
                guard let next = root.value("NextContinuationToken"), !next.isEmpty else {
                    throw BackupError.storageUnavailable("S3 said the listing of s3://\(config.bucket)/\(prefix) goes on but gave no continuation token; the server is not S3-compatible here")
                }
                token = next
            }
        } while token != nil
        return objects
    }

    // MARK: Multipart

    func createMultipartUpload(objectKey key: String, headers: [(String, String)]) throws -> String {
        let root = try document("POST", objectKey: key, query: [("uploads", "")], headers: headers, operation: "start a multipart upload of",
                                expectedRoot: "InitiateMultipartUploadResult")
        guard let id = root.value("UploadId"), !id.isEmpty else {
            throw BackupError.storageUnavailable("S3 started a multipart upload of \(key) without an UploadId; check S3_ENDPOINT")
        }
        return id
    }

    /// UploadPart with `Content-MD5`; returns the part's ETag.
    func uploadPart(objectKey key: String, uploadId: String, number: Int, body: HTTPBody) throws -> String {
        let response = try send("PUT", objectKey: key, query: [("partNumber", String(number)), ("uploadId", uploadId)],
                                headers: [("Content-MD5", try Self.contentMD5(body))], body: body, signPayload: false,
                                operation: "upload part \(number) of")
        guard let etag = response.headers["etag"] else {
            throw BackupError.storageUnavailable("S3 accepted part \(number) of \(key) without an ETag; check S3_ENDPOINT")
        }
        return etag
    }

    /// CompleteMultipartUpload. Throws `NoSuchUpload` when the upload is gone.
    func completeMultipartUpload(objectKey key: String, uploadId: String, parts: [String]) throws {
        var xml = "<CompleteMultipartUpload>"
        for (index, etag) in parts.enumerated() {
            let escaped = etag.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(escaped)</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        _ = try document("POST", objectKey: key, query: [("uploadId", uploadId)], headers: [("Content-Type", "application/xml")],
                         body: .bytes(Array(xml.utf8)), operation: "complete the multipart upload of",
                         expectedRoot: "CompleteMultipartUploadResult")
    }

    func abortMultipartUpload(objectKey key: String, uploadId: String) throws {
        _ = try send("DELETE", objectKey: key, query: [("uploadId", uploadId)], operation: "abort the multipart upload of", allowedStatus: [404])
    }

    /// ListMultipartUploads over every page, keys URL-encoded on the wire as in `listObjects`.
    func listMultipartUploads(prefix: String) throws -> [S3MultipartUpload] {
        var uploads: [S3MultipartUpload] = []
        var markers: (objectKey: String, id: String)?
        repeat {
            var query = [("uploads", ""), ("prefix", prefix), ("encoding-type", "url")]
            if let markers { query += [("key-marker", markers.objectKey), ("upload-id-marker", markers.id)] }
            let root = try document("GET", objectKey: nil, query: query, operation: "list multipart uploads in",
                                    expectedRoot: "ListMultipartUploadsResult")
            let decode = { (raw: String) in root.value("EncodingType") == "url" ? URIEncoding.decodeFormValue(raw) : raw }
            for upload in root.all("Upload") {
                guard let key = upload.value("Key"), let id = upload.value("UploadId") else { continue }
                uploads.append(S3MultipartUpload(objectKey: decode(key), uploadId: id,
                                                 initiated: upload.value("Initiated").flatMap(S3Time.millis(iso:)) ?? Formatting.nowMillis()))
            }
            markers = nil
            if root.value("IsTruncated") == "true" {
                guard let key = root.value("NextKeyMarker"), let id = root.value("NextUploadIdMarker") else {
                    throw BackupError.storageUnavailable("S3 said the list of multipart uploads under s3://\(config.bucket)/\(prefix) goes on but gave no markers; the server is not S3-compatible here")
                }
                markers = (decode(key), id)
            }
        } while markers != nil
        return uploads
    }

    // MARK: Requests

    /// Throws the configuration error for a missing bucket, if it is missing. The probe lists
    /// nothing under `prefix` (the key asked for): a policy that grants s3:ListBucket only under
    /// the backups' prefix (the README's) allows it, where a listing of the whole bucket is denied.
    func requireBucket(under prefix: String) throws {
        _ = try send("GET", objectKey: nil, query: [("list-type", "2"), ("prefix", prefix), ("max-keys", "0")], operation: "list")
    }

    /// Signs and sends one request, retrying what is worth retrying (see the type's comment).
    /// Statuses in `allowedStatus` are returned to the caller instead of thrown.
    func send(_ method: String, objectKey key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
              body: HTTPBody? = nil, signPayload: Bool = true, operation: String, allowedStatus: Set<Int> = [],
              beforeAttempt: ((inout [(String, String)]) -> Void)? = nil,
              sink: CurlHandle.BodySink? = nil) throws -> HTTPResponse {
        try exchange(method, objectKey: key, query: query, headers: headers, body: body, signPayload: signPayload, operation: operation,
                     allowedStatus: allowedStatus, expectedRoot: nil, beforeAttempt: beforeAttempt, sink: sink).response
    }

    /// `send` for an operation that answers with an XML document: its root, already checked
    /// to be `expectedRoot` (anything else was retried).
    func document(_ method: String, objectKey key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
                  body: HTTPBody? = nil, operation: String, expectedRoot: String) throws -> S3XMLElement {
        let answer = try exchange(method, objectKey: key, query: query, headers: headers, body: body, signPayload: true, operation: operation,
                                  allowedStatus: [], expectedRoot: expectedRoot, beforeAttempt: nil, sink: nil)
        guard let root = answer.root else { throw BackupError.unexpected("S3 answered \(operation) without a document") }
        return root
    }

    /// The request loop behind `send` and `document`. With `expectedRoot`, a 2xx answer must
    /// be that XML document; it comes back parsed.
    private func exchange(_ method: String, objectKey key: String?, query: [(String, String)], headers: [(String, String)],
                          body: HTTPBody?, signPayload: Bool, operation: String, allowedStatus: Set<Int>,
                          expectedRoot: String?, beforeAttempt: ((inout [(String, String)]) -> Void)?,
                          sink: CurlHandle.BodySink?) throws -> (response: HTTPResponse, root: S3XMLElement?) {
        let path = config.path(for: key)
        let payloadHash: String
        switch body {
        case nil: payloadHash = SigV4Signer.emptyPayloadHash
        case .bytes(let bytes) where signPayload: payloadHash = Digest.hash(.sha256, bytes).hexString
        default: payloadHash = SigV4Signer.unsignedPayload
        }
        let target = key.map { "s3://\(config.bucket)/\($0)" } ?? "s3://\(config.bucket)"
        let policy = config.retryPolicy
        let started = Date()
        var retry = 0
        var lastProblem = ""
        var regionCorrected = false
        var clockCorrected = false
        while true {
            var retryAfter: TimeInterval?
            let signer = try session.signer()
            let authority = session.authority
            var url = "\(config.scheme)://\(authority)\(signer.canonicalPath(path))"
            let canonicalQuery = signer.canonicalQuery(query)
            if !canonicalQuery.isEmpty { url += "?" + canonicalQuery }
            var requestHeaders = headers
            beforeAttempt?(&requestHeaders)
            let date = session.now()
            requestHeaders += [("Host", authority), ("x-amz-date", SigV4Signer.amzDate(date)), ("x-amz-content-sha256", payloadHash)]
            let signable = signer.withSecurityHeaders(SigV4Signer.Request(method: method, path: path, query: query,
                                                                          headers: requestHeaders, payloadHash: payloadHash))
            let request = HTTPRequest(method: method, url: url,
                                      headers: signable.headers + [("Authorization", signer.authorization(signable, date: date))],
                                      body: body)
            attempt: do {
                let response: HTTPResponse
                do {
                    response = try http.perform(request, options: options, sink: sink)
                } catch let failure as HTTPTransportError {
                    lastProblem = failure.message
                    if failure.isRetryable { break attempt }
                    throw BackupError.storageUnavailable("cannot \(operation) \(target): \(failure.message); \(failure.fix(endpoint: "\(config.scheme)://\(authority)"))")
                }
                let root = S3XMLElement.parse(response.body)
                let document = S3ErrorDocument(parsed: root)
                if (200..<300).contains(response.status) {
                    guard let expectedRoot else { return (response, root) }
                    // AWS documents 200 answers whose body is an <Error> (Complete, copies):
                    // retried like a 500, as are bodies that are not the expected document.
                    if let document {
                        if document.code == "NoSuchUpload" { throw NoSuchUpload() }
                        lastProblem = "HTTP \(response.status) with an error document: \(document.code) \(document.message)"
                    } else if root?.name == expectedRoot {
                        return (response, root)
                    } else {
                        lastProblem = "HTTP \(response.status) with a body that is not a \(expectedRoot)"
                    }
                    break attempt
                }
                if allowedStatus.contains(response.status) { return (response, root) }
                let code = document?.code ?? response.headers["x-amz-error-code"] ?? ""
                if code == "NoSuchUpload" { throw NoSuchUpload() }
                if !regionCorrected, [301, 307, 400].contains(response.status),
                   let region = response.headers["x-amz-bucket-region"] ?? root?.value("Region"),
                   session.adoptRegion(region) {
                    regionCorrected = true
                    continue
                }
                if !clockCorrected, code == "RequestTimeTooSkewed", let serverDate = response.date {
                    clockCorrected = true
                    session.adoptClock(serverDate: serverDate)
                    continue
                }
                guard Self.isRetryable(status: response.status, code: code) else {
                    throw error(status: response.status, code: code, message: document?.message ?? "", operation: operation, target: target)
                }
                lastProblem = "HTTP \(response.status) \(code)".trimmingCharacters(in: .whitespaces)
                retryAfter = response.retryAfter()
            }
            retry += 1
            let delay = policy.delay(retry: retry, retryAfter: retryAfter)
            let elapsed = Date().timeIntervalSince(started)
            guard policy.allows(retry: retry, delay: delay, elapsed: elapsed) else {
                let why = retry > policy.retries ? "gave up after \(retry) attempts" : "gave up after \(Int(elapsed)) s and \(retry) attempts"
                throw BackupError.storageUnavailable("cannot \(operation) \(target): \(why) (last: \(lastProblem)); check that \(config.scheme)://\(session.authority) is reachable, or raise BACKUP_S3_RETRIES or BACKUP_S3_RETRY_SECONDS")
            }
            session.log.detail("retrying \(operation) \(target) in \(String(format: "%.1f", delay)) s after: \(lastProblem)")
            Thread.sleep(forTimeInterval: delay)
        }
    }

    /// The IAM action an S3 operation needs, to name what a denied key lacks.
    static func iamAction(for operation: String) -> String {
        switch operation {
        case "delete": return "s3:DeleteObject"
        case "delete the version of": return "s3:DeleteObjectVersion"
        case "extend the retention of": return "s3:PutObjectRetention"
        case "download", "read metadata of": return "s3:GetObject"
        case "list": return "s3:ListBucket"
        case "list multipart uploads in": return "s3:ListBucketMultipartUploads"
        case "abort the multipart upload of": return "s3:AbortMultipartUpload"
        default: return "s3:PutObject"   // upload, the multipart steps
        }
    }

    static func isRetryable(status: Int, code: String) -> Bool {
        [500, 502, 503, 504, 408, 429].contains(status)
            || ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable"].contains(code)
    }

    /// The user-facing error for an S3 error answer. Never includes the secret.
    private func error(status: Int, code: String, message: String, operation: String, target: String) -> BackupError {
        let accessKey = (try? session.credentials.current().accessKey) ?? "?"
        let source = config.credentialSource
        let fromEnvironment = source.hasPrefix("environment")
        switch code {
        case "SignatureDoesNotMatch":
            return .configuration("S3 rejected the request signature for access key \(accessKey): the secret key does not match it; check \(fromEnvironment ? "S3_SECRET_KEY" : source)")
        case "InvalidAccessKeyId":
            return .configuration("S3 does not know the access key \(accessKey); check \(fromEnvironment ? "S3_ACCESS_KEY" : source)")
        case "AccessDenied", "AllAccessDisabled":
            return .configuration("S3 denied access to \(operation) \(target) for access key \(accessKey): it lacks \(Self.iamAction(for: operation)); grant it as the README's IAM policy for this executable lists")
        case "NoSuchBucket":
            return .configuration("the bucket '\(config.bucket)' does not exist at \(config.scheme)://\(config.host)\(config.port.map { ":\($0)" } ?? ""); create it or fix S3_BUCKET")
        case "InvalidBucketName":
            return .configuration("'\(config.bucket)' is not a valid bucket name; fix S3_BUCKET")
        case "RequestTimeTooSkewed":
            return .configuration("S3 refused the request time although it was corrected by the server's Date: fix this machine's clock (NTP)")
        default:
            if status == 501 && config.serverSideEncryption {
                return .configuration("S3 answered 501 Not Implemented to \(operation) \(target) with server-side encryption: Cloudflare R2 (and some other stores) do not take x-amz-server-side-encryption; unset BACKUP_SSE (R2 encrypts every object at rest)")
            }
            if [301, 307, 400].contains(status) && (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed") {
                return .configuration("S3 sent \(operation) \(target) elsewhere (HTTP \(status) \(code)) while signing for region \(session.region): set S3_REGION to the bucket's region, or S3_ENDPOINT to its endpoint")
            }
            if status == 403 {
                return .configuration("S3 refused to \(operation) \(target) (HTTP 403): check the credentials from \(source) and their permissions")
            }
            let detail = [code, message].filter { !$0.isEmpty }.joined(separator: ": ")
            return .storageUnavailable("S3 refused to \(operation) \(target) (HTTP \(status)\(detail.isEmpty ? "" : ", \(detail)"))")
        }
    }
}
