import Foundation
import Testing
@testable import BackupKit

/// The signer against AWS's SigV4 test suite (generic mode; files in Fixtures/sigv4, from
/// botocore's copy, Apache-2.0) and S3's own documented examples (S3 mode).
struct SigV4Tests {
    /// One vector folder: the request and the expected canonical request, string to sign
    /// and Authorization header.
    struct Vector: CustomStringConvertible, Sendable {
        let name: String
        let folder: String
        var description: String { name }
    }

    static let suiteRoot = Fixtures.path("sigv4")

    /// Every folder holding NAME.req, except post-sts-header-after, whose token is added after signing.
    static let vectors: [Vector] = {
        guard let walker = FileManager.default.enumerator(atPath: suiteRoot) else { return [] }
        var found: [Vector] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".req") else { continue }
            let name = ((relative as NSString).lastPathComponent as NSString).deletingPathExtension
            if name == "post-sts-header-after" { continue }
            found.append(Vector(name: name, folder: suiteRoot + "/" + (relative as NSString).deletingLastPathComponent))
        }
        return found.sorted { $0.name < $1.name }
    }()

    static let date = Date(timeIntervalSince1970: 1_440_938_160) // 20150830T123600Z

    /// Parses an HTTP request file of the suite: request line, headers (continuation lines
    /// start with white space), blank line, body.
    static func parse(_ text: String) -> SigV4Signer.Request {
        let parts = text.components(separatedBy: "\n\n")
        var lines = parts[0].components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [(String, String)] = []
        if pathPart.count == 2 {
            for pair in pathPart[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append((URIEncoding.decode(String(kv[0])), kv.count > 1 ? URIEncoding.decode(String(kv[1])) : ""))
            }
        }
        var headers: [(String, String)] = []
        for line in lines {
            if line.first == " " || line.first == "\t", let last = headers.popLast() {
                headers.append((last.0, last.1 + "\n" + line))
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        let body = parts.count > 1 ? parts[1...].joined(separator: "\n\n") : ""
        return SigV4Signer.Request(method: method, path: String(pathPart[0]), query: query, headers: headers,
                                   payloadHash: Digest.hash(.sha256, Array(body.utf8)).hexString)
    }

    @Test("the suite has vectors to run")
    func suiteIsPresent() {
        #expect(Self.vectors.count >= 25)
    }

    @Test("AWS's SigV4 test suite: canonical request, string to sign and Authorization match", arguments: vectors)
    func awsTestSuite(_ vector: Vector) throws {
        func read(_ ext: String) throws -> String {
            try String(contentsOfFile: "\(vector.folder)/\(vector.name).\(ext)", encoding: .utf8)
        }
        // The session-token vector's token, which the signer adds to the request itself.
        let token = vector.name.contains("session-token") ? "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267" : nil
        let signer = SigV4Signer(accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                 sessionToken: token, region: "us-east-1", service: "service", mode: .generic)
        let request = signer.withSecurityHeaders(Self.parse(try read("req")))
        let canonical = signer.canonicalRequest(request)
        #expect(canonical == (try read("creq")))
        let toSign = signer.stringToSign(canonicalRequest: canonical, date: Self.date)
        #expect(toSign == (try read("sts")))
        #expect(signer.authorization(request, date: Self.date) == (try read("authz")))
    }

    // S3's documented examples ("Signature Calculations for the Authorization Header").
    static let s3Signer = SigV4Signer(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600) // 20130524T000000Z
    static let empty = SigV4Signer.emptyPayloadHash

    static func s3Headers(_ extra: [(String, String)], payload: String = empty) -> [(String, String)] {
        [("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", payload)] + extra
    }

    @Test("S3 example: GET Object with a Range header")
    func s3GetObject() {
        let request = SigV4Signer.Request(method: "GET", path: "/test.txt", headers: Self.s3Headers([("Range", "bytes=0-9")]), payloadHash: Self.empty)
        #expect(Self.s3Signer.authorization(request, date: Self.s3Date)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("S3 example: PUT Object, a '$' in the key encoded once")
    func s3PutObject() {
        let payload = Digest.hash(.sha256, Array("Welcome to Amazon S3.".utf8)).hexString
        let request = SigV4Signer.Request(method: "PUT", path: "/test$file.text",
                                          headers: Self.s3Headers([("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")], payload: payload),
                                          payloadHash: payload)
        #expect(Self.s3Signer.canonicalRequest(request).split(separator: "\n")[1] == "/test%24file.text")
        #expect(Self.s3Signer.authorization(request, date: Self.s3Date).hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    @Test("S3 examples: GET Bucket lifecycle and a list with query parameters")
    func s3BucketQueries() {
        let lifecycle = SigV4Signer.Request(method: "GET", path: "/", query: [("lifecycle", "")], headers: Self.s3Headers([]), payloadHash: Self.empty)
        #expect(Self.s3Signer.authorization(lifecycle, date: Self.s3Date).hasSuffix("Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
        let list = SigV4Signer.Request(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: Self.s3Headers([]), payloadHash: Self.empty)
        #expect(Self.s3Signer.authorization(list, date: Self.s3Date).hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
    }

    @Test("S3 mode keeps keys as S3 stores them: no normalisation, each byte encoded once",
          arguments: [("/b/a b+c:d=e", "/b/a%20b%2Bc%3Ad%3De"), ("/b/x//y/./z/../w", "/b/x//y/./z/../w"),
                      ("/b/ü/é", "/b/%C3%BC/%C3%A9"), ("/b/100%", "/b/100%25")])
    func s3KeyEncoding(_ raw: String, _ encoded: String) {
        #expect(Self.s3Signer.canonicalPath(raw) == encoded)
    }
}
