import Foundation

/// The outcome of `backup`: a new backup, or a skip.
package enum BackupOutcome: Encodable, Sendable {
    case completed(BackupResult)
    case skipped(BackupSkipped)

    package func encode(to encoder: Encoder) throws {
        switch self {
        case .completed(let result): try result.encode(to: encoder)
        case .skipped(let skip): try skip.encode(to: encoder)
        }
    }
}
