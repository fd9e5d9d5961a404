import Foundation

/// What a clean run did (the `--json` shape of `clean-backup`).
package struct CleanResult: Codable, Sendable {
    package struct Failure: Codable, Sendable {
        package let key: String
        package let error: String
    }

    package struct Kept: Codable, Sendable {
        package let key: String
        package let reasons: [String]
    }

    /// False when some deletions failed (the run exits 1).
    package var ok: Bool { failed.isEmpty }
    package let dryRun: Bool
    package let policy: String
    package let deleted: [String]
    package let kept: [Kept]
    package let failed: [Failure]
    package let reindexed: [String]
    package let abandonedUploadsRemoved: Int
    /// Stored bytes of the backups kept.
    package let keptBytes: Int64
}
