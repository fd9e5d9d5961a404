/// An HTTP request for `CurlHandle`.
struct HTTPRequest {
    var method: String
    var url: String
    var headers: [(String, String)]
    /// The body to send, nil for none. Every request carries a `Content-Length`, `0` without a body.
    var body: HTTPBody?
}

