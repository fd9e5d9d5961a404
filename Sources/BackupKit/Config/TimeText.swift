import Foundation

/// Points in time written by people (`restore --at`): ISO-8601 dates and times, with or
/// without a zone. Without one the time is local (the `TZ` environment variable, else the
/// system's zone). A date alone means the end of that day: "what we had on Friday" is the
/// last backup taken on Friday.
///
///     2026-11-20T15:00:00Z   2026-11-20T15:00+01:00   2026-11-20T15:00:00.250
///     2026-11-20 15:00       2026-11-20
package enum TimeText {
    private static var pattern: Regex<(Substring, Substring, Substring, Substring, Substring?, Substring?, Substring?, Substring?, Substring?)> { #/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/# }

    /// The instant `text` names, nil when it is not an ISO-8601 date or time.
    package static func date(_ text: String, timeZone: TimeZone = .current) -> Date? {
        guard let match = text.trimmingCharacters(in: .whitespaces).wholeMatch(of: pattern) else { return nil }
        var zone = timeZone
        if let offset = match.8 {
            if offset == "Z" || offset == "z" {
                zone = TimeZone(secondsFromGMT: 0)!
            } else {
                let digits = offset.dropFirst().filter(\.isNumber)
                let hours = Int(digits.prefix(2))!, minutes = digits.count > 2 ? Int(digits.dropFirst(2))! : 0
                guard hours <= 23, minutes <= 59 else { return nil }
                zone = TimeZone(secondsFromGMT: (offset.first == "-" ? -1 : 1) * (hours * 3600 + minutes * 60))!
            }
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var parts = DateComponents(year: Int(match.1)!, month: Int(match.2)!, day: Int(match.3)!)
        let dateOnly = match.4 == nil
        parts.hour = match.4.map { Int($0)! } ?? 0
        parts.minute = match.5.map { Int($0)! } ?? 0
        parts.second = match.6.map { Int($0)! } ?? 0
        guard (1...12).contains(parts.month!), (1...31).contains(parts.day!), parts.hour! <= 23, parts.minute! <= 59,
              parts.second! <= 59, let start = calendar.date(from: parts),
              calendar.component(.day, from: start) == parts.day! else { return nil }
        if dateOnly { return calendar.date(byAdding: .day, value: 1, to: start)!.addingTimeInterval(-0.001) }
        let fraction = match.7.map { Double("0." + $0)! } ?? 0
        return start.addingTimeInterval(fraction)
    }
}
