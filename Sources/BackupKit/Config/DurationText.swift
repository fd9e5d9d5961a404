import Foundation

/// Durations written for people in settings: `23h`, `90m`, `1d12h`, `2w`, `45s`, or plain
/// seconds (`3600`).
package enum DurationText {
    /// The longest duration a setting may say: 100 years (more is a typo, or an attack).
    package static let maximum: TimeInterval = 100 * 365 * 86_400

    /// Seconds in `text`, nil when it is not a duration of at most `maximum`: digits with
    /// an optional fraction before each unit, never `inf`, `nan` or an exponent.
    package static func seconds(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.isEmpty { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        var total = 0.0
        var number = ""
        func take(_ unit: Double) -> Bool {
            guard number.count <= 15, number.filter({ $0 == "." }).count <= 1, number.contains(where: \.isNumber),
                  let value = Double(number) else { return false }
            total += value * unit
            number = ""
            return true
        }
        for c in trimmed {
            if (c.isASCII && c.isNumber) || c == "." {
                number.append(c)
            } else if let unit = units[c] {
                guard take(unit) else { return nil }
            } else if c != " " {
                return nil
            }
        }
        // A plain number alone is seconds; a number after a unit (`12h3`) is a typo.
        if !number.isEmpty {
            guard total == 0, number.count == trimmed.filter({ $0 != " " }).count, take(1) else { return nil }
        }
        return total.isFinite && total <= maximum ? total : nil
    }
}

extension Environment {
    /// A duration setting (`BACKUP_MIN_INTERVAL=23h`), nil when unset.
    package func duration(_ name: String) throws -> TimeInterval? {
        guard let text = self[name] else { return nil }
        guard let seconds = DurationText.seconds(text) else {
            throw BackupError.configuration("\(name)=\(text) is not a duration of at most 100 years: write it like 23h, 90m, 7d or 1d12h")
        }
        return seconds
    }
}
