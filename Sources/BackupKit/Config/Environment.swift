import Foundation

/// The settings environment: the process's variables over those of a `.env` file, as dotenv
/// loads it (a variable already set in the process wins). Flags win over both; that merge
/// happens in `Settings`.
package struct Environment: Sendable {
    package private(set) var values: [String: String]

    package init(_ values: [String: String]) {
        self.values = values
    }

    /// Loads the process environment over `envFile`, or over `./.env` when it exists.
    /// An explicitly named file that cannot be read is a configuration error.
    package static func load(envFile: String?, process: [String: String] = ProcessInfo.processInfo.environment) throws -> Environment {
        var merged: [String: String] = [:]
        let path = envFile ?? ".env"
        if Files.exists(path) || envFile != nil {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw BackupError.configuration("cannot read the env file \(path): check --env-file and its permissions")
            }
            merged = DotEnv.parse(text)
        }
        for (name, value) in process { merged[name] = value }
        return Environment(merged)
    }

    /// The value of `name`, nil when unset or empty.
    package subscript(name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// The first set variable among `names`, with the name that supplied it.
    package func first(_ names: [String]) -> (name: String, value: String)? {
        for name in names { if let value = self[name] { return (name, value) } }
        return nil
    }

    /// An integer setting within `range`, nil when unset.
    package func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw BackupError.configuration("\(name)=\(text) is not a whole number from \(range.lowerBound) to \(range.upperBound): fix it in the environment or .env")
        }
        return value
    }
}
