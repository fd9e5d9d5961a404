import ArgumentParser

// Flag values become typed at parse time: a bad one is a usage error (64) naming the flag and
// the values it takes, never a configuration error naming an environment variable.

extension StorageKind: ExpressibleByArgument, CaseIterable {
    package static var allCases: [StorageKind] { [.local, .s3] }
}

extension CompressionAlgorithm: ExpressibleByArgument {}

/// `--prefix`: checked as the setting is (no `.` or `..` segment).
package struct PrefixArgument: ExpressibleByArgument, Sendable {
    package let text: String

    package init?(argument: String) {
        guard (try? Settings.normalizedPrefix(argument)) != nil else { return nil }
        text = argument
    }

    package static var defaultCompletionKind: CompletionKind { .default }
}
