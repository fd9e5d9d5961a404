import CCurl

/// A failure below HTTP: DNS, connect, TLS, timeout, connection reset.
struct HTTPTransportError: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { message }

    /// Whether trying again may help: not for bad URLs, a name that does not resolve (a typo
    /// in the endpoint), a failed TLS handshake or verification (https against a plain-HTTP
    /// port, a wrong CA), or aborted callbacks.
    var isRetryable: Bool {
        switch CURLcode(UInt32(code)) {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_PEER_FAILED_VERIFICATION,
             CURLE_SSL_CACERT_BADFILE, CURLE_ABORTED_BY_CALLBACK, CURLE_WRITE_ERROR, CURLE_READ_ERROR,
             CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SSL_CONNECT_ERROR:
            return false
        default:
            return true
        }
    }

    /// The real fix for a failure that is not retried, naming `endpoint`.
    func fix(endpoint: String) -> String {
        switch CURLcode(UInt32(code)) {
        case CURLE_COULDNT_RESOLVE_HOST:
            return "the host of \(endpoint) does not resolve: check S3_ENDPOINT (and S3_REGION) for a typo"
        case CURLE_SSL_CONNECT_ERROR:
            return "no TLS handshake with \(endpoint): if that endpoint speaks plain HTTP, write http:// in S3_ENDPOINT"
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            return "the TLS certificate of \(endpoint) does not verify: check S3_ENDPOINT, or set S3_CA_BUNDLE to the CA that signed it"
        default:
            return "check S3_ENDPOINT (\(endpoint)) and S3_CA_BUNDLE"
        }
    }
}
