import Foundation

/// What a clean run did (the `--json` shape of `clean-backup`, where object keys are `key`).
package struct CleanResult: Encodable, Sendable {
    package struct Failure: Encodable, Sendable {
        package let objectKey: String
        package let error: String

        enum CodingKeys: String, CodingKey {
            case error
            case objectKey = "key"
        }
    }

    package struct Kept: Encodable, Sendable {
        package let objectKey: String
        package let reasons: [String]

        enum CodingKeys: String, CodingKey {
            case reasons
            case objectKey = "key"
        }
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
    /// Packs of incremental backups deleted because no kept backup uses them.
    package let packsDeleted: [String]
    /// Packs kept: in use, or younger than the grace period.
    package let packsKept: Int
    /// Backup-shaped objects whose metadata does not verify: never deleted nor counted.
    package var unauthenticated: [String] = []
    /// Authenticated backups that would not restore (a pack missing, a manifest unreadable):
    /// never counted as the backup retention keeps, never deleted.
    package var unrestorable: [Failure] = []

    enum CodingKeys: String, CodingKey {
        case ok, dryRun, policy, deleted, kept, failed, reindexed, abandonedUploadsRemoved, keptBytes, packsDeleted, packsKept
        case unauthenticated, unrestorable
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(policy, forKey: .policy)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(kept, forKey: .kept)
        try container.encode(failed, forKey: .failed)
        try container.encode(reindexed, forKey: .reindexed)
        try container.encode(abandonedUploadsRemoved, forKey: .abandonedUploadsRemoved)
        try container.encode(keptBytes, forKey: .keptBytes)
        try container.encode(packsDeleted, forKey: .packsDeleted)
        try container.encode(packsKept, forKey: .packsKept)
        try container.encode(unauthenticated, forKey: .unauthenticated)
        try container.encode(unrestorable, forKey: .unrestorable)
    }
}
