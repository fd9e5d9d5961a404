import CCurl

/// What libcurl's C callbacks of one transfer read and write: the request body and the
/// response as it arrives. Lives for one `CurlHandle.perform`.
final class CurlTransfer {
    let handle: UnsafeMutableRawPointer
    let body: HTTPBody?
    var bodyOffset: Int64 = 0
    var readError: Error?
    let sink: CurlHandle.BodySink?
    var sinkError: Error?
    var headers: [String: String] = [:]
    var collected: [UInt8] = []

    init(handle: UnsafeMutableRawPointer, body: HTTPBody?, sink: CurlHandle.BodySink?) {
        self.handle = handle
        self.body = body
        self.sink = sink
    }

    var status: Int {
        var code = 0
        CCurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    static func from(_ user: UnsafeMutableRawPointer?) -> CurlTransfer {
        Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    }
}

func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let transfer = CurlTransfer.from(user)
    let length = size * count
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    let status = transfer.status
    if let sink = transfer.sink, (200..<300).contains(status) {
        do { try sink(status, transfer.headers, bytes) } catch {
            transfer.sinkError = error
            return 0 // makes libcurl stop with CURLE_WRITE_ERROR
        }
    } else {
        transfer.collected.append(contentsOf: bytes)
    }
    return length
}

func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let transfer = CurlTransfer.from(user)
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        transfer.headers = [:] // a new response (after 100 Continue or a redirect)
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        transfer.headers[name] = value
    }
    return length
}

func curlReadBody(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let transfer = CurlTransfer.from(user)
    guard let body = transfer.body, let buffer else { return 0 }
    let n: Int
    do {
        n = try body.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count), at: transfer.bodyOffset)
    } catch {
        transfer.readError = error
        return Int(CURL_READFUNC_ABORT)
    }
    if n > 0 {
        let half = body.count / 2
        transfer.bodyOffset += Int64(n)
        // Tests only: freeze with a request's body half sent.
        if Failpoint.midPut.isSelected && transfer.bodyOffset >= half && transfer.bodyOffset - Int64(n) < half {
            Failpoint.midPut.reach()
        }
    }
    return n
}

/// Rewinds the body (libcurl asks before re-sending it on a new connection).
func curlSeekBody(_ user: UnsafeMutableRawPointer?, _ offset: curl_off_t, _ origin: Int32) -> Int32 {
    let transfer = CurlTransfer.from(user)
    guard let body = transfer.body, origin == SEEK_SET, offset >= 0, offset <= body.count else {
        return Int32(CURL_SEEKFUNC_CANTSEEK)
    }
    transfer.bodyOffset = Int64(offset)
    return Int32(CURL_SEEKFUNC_OK)
}
