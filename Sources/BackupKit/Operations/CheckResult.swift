/// What `clean-backup --check` found (its `--json` shape, where object keys are `key`).
package struct CheckResult: Encodable, Sendable {
    package struct Damage: Encodable, Sendable {
        package let objectKey: String
        package let problem: String

        enum CodingKeys: String, CodingKey {
            case problem
            case objectKey = "key"
        }
    }

    /// True when every incremental backup's blocks are all stored (orphans are no damage).
    package var ok: Bool { damaged.isEmpty && unauthenticated.isEmpty }
    /// Backup objects whose metadata does not verify (forged, renamed, re-dated, Laju's).
    package var unauthenticated: [Damage] = []
    /// Names written from more than one host or path: each name with its `host:path` origins.
    package var sharedNames: [SharedName] = []

    package struct SharedName: Encodable, Sendable {
        package let name: String
        package let origins: [String]
    }
    /// Incremental backups whose manifest opened.
    package var backupsChecked = 0
    /// Full backups in scope (single objects, not checked here: see `restore --verify-only`).
    package var fullBackups = 0
    /// Manifest entries checked.
    package var blocksChecked = 0
    /// Packs some incremental backup names.
    package var packsInUse = 0
    /// Packs named by a manifest but gone from storage.
    package var packsMissing: [String] = []
    /// Incremental backups that cannot be restored, and why.
    package var damaged: [Damage] = []
    /// Packs no backup names, older than the grace period: the next clean deletes them.
    package var orphanedPacks: [String] = []
    package var orphanedBytes: Int64 = 0
    /// Packs no backup names yet, younger than the grace period (a backup may be writing its manifest).
    package var recentUnusedPacks = 0

    enum CodingKeys: String, CodingKey {
        case ok, backupsChecked, fullBackups, blocksChecked, packsInUse, packsMissing, damaged, orphanedPacks,
             orphanedBytes, recentUnusedPacks, unauthenticated, sharedNames
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(backupsChecked, forKey: .backupsChecked)
        try container.encode(fullBackups, forKey: .fullBackups)
        try container.encode(blocksChecked, forKey: .blocksChecked)
        try container.encode(packsInUse, forKey: .packsInUse)
        try container.encode(packsMissing, forKey: .packsMissing)
        try container.encode(damaged, forKey: .damaged)
        try container.encode(orphanedPacks, forKey: .orphanedPacks)
        try container.encode(orphanedBytes, forKey: .orphanedBytes)
        try container.encode(recentUnusedPacks, forKey: .recentUnusedPacks)
        try container.encode(unauthenticated, forKey: .unauthenticated)
        try container.encode(sharedNames, forKey: .sharedNames)
    }
}
