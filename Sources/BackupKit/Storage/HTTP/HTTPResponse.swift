import Foundation

/// An HTTP response. `body` holds the whole body unless it was streamed to a sink.
struct HTTPResponse {
    let status: Int
    /// Header names lower-cased.
    let headers: [String: String]
    let body: [UInt8]

    /// The `Date` header as a point in time.
    var date: Date? {
        headers["date"].flatMap(S3Time.millis(http:)).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// `Retry-After` in seconds (given as seconds or as an HTTP date), nil when absent.
    func retryAfter(now: Date = Date()) -> TimeInterval? {
        guard let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(text) { return max(0, seconds) }
        return S3Time.millis(http: text).map { max(0, Double($0) / 1000 - now.timeIntervalSince1970) }
    }
}
