import Foundation

/// AWS Signature Version 4 as a pure value: no I/O, the date passed in, one function per
/// stage of AWS's document (canonical request, string to sign, signature), each reachable
/// from tests.
///
/// Two modes: `.s3` signs the path as given, each segment URI-encoded once, with no
/// normalisation (S3's rule: `a//b` and `a/./b` are distinct keys); `.generic` normalises the
/// path (removes dot segments and empty segments) first, as the other AWS services do.
package struct SigV4Signer: Sendable {
    package enum Mode: Sendable { case s3, generic }

    /// A request as signing sees it. `path` and `query` are raw (not percent-encoded).
    package struct Request: Sendable {
        package var method: String
        package var path: String
        package var query: [(String, String)]
        package var headers: [(String, String)]
        /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
        package var payloadHash: String

        package init(method: String, path: String, query: [(String, String)] = [], headers: [(String, String)], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    package static let unsignedPayload = "UNSIGNED-PAYLOAD"
    package static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    package let accessKey: String
    private let secretKey: String
    /// Temporary credentials' token, signed as `X-Amz-Security-Token`.
    private let sessionToken: String?
    package let region: String
    package let service: String
    package let mode: Mode

    package init(accessKey: String, secretKey: String, sessionToken: String? = nil, region: String, service: String = "s3", mode: Mode = .s3) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
        self.mode = mode
    }

    /// `20150830T123600Z` for `date`.
    package static func amzDate(_ date: Date) -> String {
        Formatting.compactUTC(date)
    }

    /// `request` with the headers signing requires besides the caller's: the session token.
    package func withSecurityHeaders(_ request: Request) -> Request {
        var out = request
        if let sessionToken { out.headers.append(("X-Amz-Security-Token", sessionToken)) }
        return out
    }

    /// The path as it goes in the canonical request and on the wire.
    package func canonicalPath(_ path: String) -> String {
        var raw = path.isEmpty ? "/" : path
        if mode == .generic { raw = Self.normalized(raw) }
        return URIEncoding.encode(raw, keepSlash: true)
    }

    /// The query string, sorted by encoded name then value.
    package func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map {
            (URIEncoding.encode($0.0, keepSlash: false), URIEncoding.encode($0.1, keepSlash: false))
        }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    /// Lower-cased names, values trimmed with inner runs of spaces folded, repeated names
    /// joined with commas in the order given; sorted by name.
    package func canonicalHeaders(_ headers: [(String, String)]) -> (text: String, signed: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let folded = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
            merged[name.lowercased(), default: []].append(folded)
        }
        let names = merged.keys.sorted()
        let text = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (text, names.joined(separator: ";"))
    }

    package func canonicalRequest(_ request: Request) -> String {
        let headers = canonicalHeaders(request.headers)
        return [request.method, canonicalPath(request.path), canonicalQuery(request.query),
                headers.text, headers.signed, request.payloadHash].joined(separator: "\n")
    }

    package func scope(_ date: Date) -> String {
        "\(Self.amzDate(date).prefix(8))/\(region)/\(service)/aws4_request"
    }

    package func stringToSign(canonicalRequest: String, date: Date) -> String {
        ["AWS4-HMAC-SHA256", Self.amzDate(date), scope(date),
         Digest.hash(.sha256, Array(canonicalRequest.utf8)).hexString].joined(separator: "\n")
    }

    package func signature(stringToSign: String, date: Date) -> String {
        var key = HMACSHA256.mac(key: Array("AWS4\(secretKey)".utf8), message: Array(Self.amzDate(date).prefix(8).utf8))
        for part in [region, service, "aws4_request"] { key = HMACSHA256.mac(key: key, message: Array(part.utf8)) }
        return HMACSHA256.mac(key: key, message: Array(stringToSign.utf8)).hexString
    }

    /// The `Authorization` header value for `request` signed at `date`.
    package func authorization(_ request: Request, date: Date) -> String {
        let canonical = canonicalRequest(request)
        let signed = canonicalHeaders(request.headers).signed
        let signature = signature(stringToSign: stringToSign(canonicalRequest: canonical, date: date), date: date)
        return "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope(date)), SignedHeaders=\(signed), Signature=\(signature)"
    }

    /// RFC 3986 dot-segment removal plus empty-segment folding, for generic mode.
    static func normalized(_ path: String) -> String {
        var out: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = out.popLast(); continue }
            out.append(segment)
        }
        let joined = "/" + out.joined(separator: "/")
        return path.hasSuffix("/") && joined != "/" ? joined + "/" : joined
    }
}
