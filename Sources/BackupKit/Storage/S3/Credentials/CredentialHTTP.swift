import Foundation

/// Plain HTTP calls to credential endpoints (instance metadata, container agent, STS):
/// short timeouts and three attempts, since these services answer at once or not at all.
enum CredentialHTTP {
    static let options = HTTPOptions(connectTimeoutSeconds: 1, stallTimeoutSeconds: 5, totalTimeoutSeconds: 10)

    /// The response of the first attempt that got one; throws `configuration` naming `source`
    /// when every attempt failed below HTTP or with a 5xx.
    static func send(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                     source: String, fix: String) throws -> HTTPResponse {
        let http = CurlHandle()
        var problem = ""
        for attempt in 0..<3 {
            if attempt > 0 { Thread.sleep(forTimeInterval: 0.2 * Double(attempt)) }
            do {
                let response = try http.perform(HTTPRequest(method: method, url: url, headers: headers, body: body.map(HTTPBody.bytes)), options: options)
                if response.status >= 500 {
                    problem = "HTTP \(response.status)"
                    continue
                }
                return response
            } catch let failure as HTTPTransportError {
                problem = failure.message
                if !failure.isRetryable { break }
            }
        }
        throw BackupError.configuration("cannot get S3 credentials from \(source) (\(problem)); \(fix)")
    }
}
