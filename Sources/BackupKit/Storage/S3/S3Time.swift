import Foundation

/// S3's timestamps: `2026-11-23T06:15:00.000Z` in listings, RFC 1123 in headers.
enum S3Time {
    static func millis(iso text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }

    static func date(iso text: String) -> Date? {
        millis(iso: text).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    static func millis(http text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }
}
