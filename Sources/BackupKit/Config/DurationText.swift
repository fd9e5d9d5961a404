import Foundation

/// Durations written for people in settings: `23h`, `90m`, `1d12h`, `2w`, `45s`, or plain
/// seconds (`3600`).
package enum DurationText {
    /// Seconds in `text`, nil when it is not a duration.
    package static func seconds(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.isEmpty { return nil }
        if let plain = Double(trimmed) { return plain >= 0 ? plain : nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        var total = 0.0
        var number = ""
        for c in trimmed {
            if c.isNumber || c == "." {
                number.append(c)
            } else if let unit = units[c], let value = Double(number) {
                total += value * unit
                number = ""
            } else if c != " " {
                return nil
            }
        }
        return number.isEmpty ? total : nil
    }
}

extension Environment {
    /// A duration setting (`BACKUP_MIN_INTERVAL=23h`), nil when unset.
    package func duration(_ name: String) throws -> TimeInterval? {
        guard let text = self[name] else { return nil }
        guard let seconds = DurationText.seconds(text) else {
            throw BackupError.configuration("\(name)=\(text) is not a duration: write it like 23h, 90m, 7d or 1d12h")
        }
        return seconds
    }
}
