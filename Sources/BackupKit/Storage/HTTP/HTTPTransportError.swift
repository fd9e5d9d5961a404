import CCurl

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
