import Foundation

/// Parses `.env` files the way dotenv does: `NAME=value` lines, `#` comments, optional
/// `export ` prefix, single or double quotes (double quotes understand `\n`), inline
/// `#` comments after unquoted values.
package enum DotEnv {
    package static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let name = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { continue }
            values[name] = value(String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces))
        }
        return values
    }

    private static func value(_ raw: String) -> String {
        guard let first = raw.first else { return "" }
        if first == "\"" || first == "'" {
            let body = raw.dropFirst()
            let end = body.firstIndex(of: first) ?? body.endIndex
            let inner = String(body[..<end])
            return first == "\"" ? inner.replacingOccurrences(of: "\\n", with: "\n") : inner
        }
        if let hash = raw.range(of: " #") {
            return raw[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
        }
        return raw
    }
}
