import Foundation

/// Which database a backup is of: its name, which keys, retention, `--at`, `--target`,
/// metrics and pings go by (a configured name, by default the file name), and beside it the
/// absolute path and the host it was taken on, so one name written from two places shows.
package struct DatabaseOrigin: Sendable, Equatable {
    package let name: String
    package let path: String
    package let host: String

    package init(name: String, path: String, host: String = DatabaseOrigin.thisHost) {
        self.name = name
        self.path = path
        self.host = host
    }

    /// This machine's host name.
    package static let thisHost: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(cString: buffer)
    }()
}
