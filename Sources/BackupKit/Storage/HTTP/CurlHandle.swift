import CCurl

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

    /// Receives a 2xx response body as it arrives, with the status (200, or 206 for a range)
    /// and the response's headers (names lower-cased).
    typealias BodySink = (_ status: Int, _ headers: [String: String], _ bytes: UnsafeRawBufferPointer) throws -> Void

    /// Runs `request`. A 2xx body goes to `sink` when one is given (any other body is
    /// collected for the error message). Throws `HTTPTransportError` below HTTP, or what
    /// `sink` threw.
    func perform(_ request: HTTPRequest, options: HTTPOptions, sink: BodySink? = nil) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let transfer = CurlTransfer(handle: handle, body: request.body, sink: sink)
        let unmanaged = Unmanaged.passRetained(transfer)
        defer { unmanaged.release() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        // An empty value removes a header libcurl would add itself: no 100-continue round trip.
        // A request without a body still says so: proxies and some S3 servers (Ceph, GCS)
        // answer 411 to a PUT or POST without a length.
        var headers = request.headers + [("Expect", ""), ("Accept", "")]
        if request.body == nil { headers.append(("Content-Length", "0")) }
        for (name, value) in headers {
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
            if let total = options.totalTimeoutSeconds { CCurl_setopt_long(handle, CURLOPT_TIMEOUT, total) }
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
                // libcurl re-sends the body when a reused connection turns out dead: rewind it.
                CCurl_setopt_pointer(handle, CURLOPT_SEEKDATA, unmanaged.toOpaque())
                CCurl_setopt_seek_function(handle, curlSeekBody)
            }

            let rc = curl_easy_perform(handle)
            if let failure = transfer.sinkError ?? transfer.readError { throw failure }
            guard rc == CURLE_OK else {
                let detail = String(cString: errors.baseAddress!)
                let text = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
                throw HTTPTransportError(code: Int32(rc.rawValue), message: text)
            }
        }
        return HTTPResponse(status: transfer.status, headers: transfer.headers, body: transfer.collected)
    }
}
