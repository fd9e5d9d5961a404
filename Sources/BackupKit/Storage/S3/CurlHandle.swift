import CCurl
import Foundation

/// An HTTP request for `CurlHandle`.
struct HTTPRequest {
    var method: String
    var url: String
    var headers: [(String, String)]
    /// The body to send (PUT/POST), nil for none.
    var body: [UInt8]?
}

/// An HTTP response. `body` holds the whole body unless it was streamed to a sink.
struct HTTPResponse {
    let status: Int
    /// Header names lower-cased.
    let headers: [String: String]
    let body: [UInt8]
}

/// A failure below HTTP: DNS, connect, TLS, timeout, connection reset.
struct HTTPTransportError: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { message }

    /// Whether trying again may help (everything but bad URLs, TLS verification and aborted callbacks).
    var isRetryable: Bool {
        switch CURLcode(UInt32(code)) {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_PEER_FAILED_VERIFICATION,
             CURLE_SSL_CACERT_BADFILE, CURLE_ABORTED_BY_CALLBACK, CURLE_WRITE_ERROR, CURLE_READ_ERROR:
            return false
        default:
            return true
        }
    }
}

/// Transport settings shared by every request of a client.
struct HTTPOptions: Sendable {
    var connectTimeoutSeconds = 10
    /// A transfer slower than 1 byte/s for this long is cut (and retried).
    var stallTimeoutSeconds = 30
    var caBundle: String?
}

/// One libcurl easy handle, reused across requests so connections stay open. Owns the
/// handle and everything libcurl points into; not for use from two threads at once.
final class CurlHandle {
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    private let handle: UnsafeMutableRawPointer
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init() {
        _ = CurlHandle.globalInit
        handle = curl_easy_init()
    }

    deinit { curl_easy_cleanup(handle) }

    /// Receives a 2xx response body as it arrives, with the status (200, or 206 for a range).
    typealias BodySink = (_ status: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void

    /// Runs `request`. A 2xx body goes to `sink` when one is given (any other body is
    /// collected for the error message). Throws `HTTPTransportError` below HTTP, or what
    /// `sink` threw.
    func perform(_ request: HTTPRequest, options: HTTPOptions, sink: BodySink? = nil) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let context = TransferContext(handle: handle, body: request.body, sink: sink)
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        // An empty value removes a header libcurl would add itself: no 100-continue round trip.
        for (name, value) in request.headers + [("Expect", ""), ("Accept", "")] {
            headerList = curl_slist_append(headerList, value.isEmpty ? "\(name):" : "\(name): \(value)")
        }
        defer { curl_slist_free_all(headerList) }

        try errorBuffer.withUnsafeMutableBufferPointer { errors in
            errors[0] = 0
            CCurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
            CCurl_setopt_string(handle, CURLOPT_URL, request.url)
            CCurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
            CCurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            CCurl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1)
            CCurl_setopt_long(handle, CURLOPT_NOPROGRESS, 1)
            CCurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
            CCurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds)
            CCurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            CCurl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, options.stallTimeoutSeconds)
            CCurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
            CCurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
            if let bundle = options.caBundle { CCurl_setopt_string(handle, CURLOPT_CAINFO, bundle) }
            CCurl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
            CCurl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, curlWriteBody)
            CCurl_setopt_pointer(handle, CURLOPT_HEADERDATA, unmanaged.toOpaque())
            CCurl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader)

            switch request.method {
            case "GET":
                CCurl_setopt_long(handle, CURLOPT_HTTPGET, 1)
            case "HEAD":
                CCurl_setopt_long(handle, CURLOPT_NOBODY, 1)
            default:
                CCurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            }
            if let body = request.body {
                CCurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
                CCurl_setopt_int64(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(body.count))
                CCurl_setopt_pointer(handle, CURLOPT_READDATA, unmanaged.toOpaque())
                CCurl_setopt_read_function(handle, curlReadBody)
            }

            let rc = curl_easy_perform(handle)
            if let failure = context.sinkError { throw failure }
            guard rc == CURLE_OK else {
                let detail = String(cString: errors.baseAddress!)
                let text = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
                throw HTTPTransportError(code: Int32(rc.rawValue), message: text)
            }
        }
        var status = 0
        CCurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: context.headers, body: context.collected)
    }
}

/// What the C callbacks of one transfer read and write.
private final class TransferContext {
    let handle: UnsafeMutableRawPointer
    let body: [UInt8]?
    var bodyOffset = 0
    let sink: CurlHandle.BodySink?
    var sinkError: Error?
    var headers: [String: String] = [:]
    var collected: [UInt8] = []

    init(handle: UnsafeMutableRawPointer, body: [UInt8]?, sink: CurlHandle.BodySink?) {
        self.handle = handle
        self.body = body
        self.sink = sink
    }

    var status: Int {
        var code = 0
        CCurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }
}

private func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    let status = context.status
    if let sink = context.sink, (200..<300).contains(status) {
        do { try sink(status, bytes) } catch {
            context.sinkError = error
            return 0 // makes libcurl stop with CURLE_WRITE_ERROR
        }
    } else {
        context.collected.append(contentsOf: bytes)
    }
    return length
}

private func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        context.headers = [:] // a new response (after 100 Continue or a redirect)
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        context.headers[name] = value
    }
    return length
}

private func curlReadBody(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
    guard let body = context.body, let buffer else { return 0 }
    let n = min(size * count, body.count - context.bodyOffset)
    if n > 0 {
        body.withUnsafeBytes { src in
            UnsafeMutableRawPointer(buffer).copyMemory(from: src.baseAddress! + context.bodyOffset, byteCount: n)
        }
        context.bodyOffset += n
        // Tests only: freeze with a request's body half sent.
        if Failpoint.isActive && context.bodyOffset >= body.count / 2 && context.bodyOffset - n < body.count / 2 {
            Failpoint.reach("mid-put")
        }
    }
    return n
}
