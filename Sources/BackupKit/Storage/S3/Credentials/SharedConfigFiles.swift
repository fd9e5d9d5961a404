import Foundation

/// The AWS CLI's shared files: `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`) and
/// `~/.aws/config` (`AWS_CONFIG_FILE`), INI files whose sections are profiles: `[name]` in
/// the credentials file, `[profile name]` (or `[default]`) in the config file.
struct SharedConfigFiles: Sendable {
    let credentialsPath: String
    let configPath: String
    /// Settings per profile, credentials file over config file.
    private let profiles: [String: [String: String]]

    init(environment env: Environment) {
        let home = env["HOME"] ?? NSHomeDirectory()
        credentialsPath = env["AWS_SHARED_CREDENTIALS_FILE"].map { Self.expand($0, home: home) } ?? home + "/.aws/credentials"
        configPath = env["AWS_CONFIG_FILE"].map { Self.expand($0, home: home) } ?? home + "/.aws/config"
        var merged: [String: [String: String]] = [:]
        for (section, values) in Self.parse(path: configPath) {
            let name = section == "default" ? "default" : section.hasPrefix("profile ") ? String(section.dropFirst(8)).trimmingCharacters(in: .whitespaces) : nil
            guard let name else { continue }
            merged[name, default: [:]].merge(values) { $1 }
        }
        for (section, values) in Self.parse(path: credentialsPath) {
            merged[section, default: [:]].merge(values) { $1 }
        }
        profiles = merged
    }

    /// The settings of `profile`, nil when neither file has it.
    func profile(_ name: String) -> [String: String]? { profiles[name] }

    static func expand(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }

    /// Sections of an INI file with their `name = value` lines (names lower-cased); empty
    /// when the file is missing. `#` and `;` start comments.
    static func parse(path: String) -> [String: [String: String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var sections: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if let current, sections[current] == nil { sections[current] = [:] }
            } else if let current, let equals = line.firstIndex(of: "=") {
                let name = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                sections[current]?[name] = value
            }
        }
        return sections
    }
}

