import Foundation

/// One backup as the operations see it: an object in storage, with its catalog row if any,
/// and whether what it says about itself is authenticated.
package struct BackupEntry: Sendable {
    package let objectKey: String
    /// Milliseconds since the epoch. For an authenticated entry, its sealed `created-at`;
    /// otherwise only what it claims (shown, never used for a decision).
    package let createdAt: Int64
    package let size: Int64
    package let storage: StorageKind
    /// The database name: the authenticated `db-name`, else what the key's shape says.
    package let databaseName: String?
    /// The catalog row, nil when the catalog has none (or could not be read).
    package var record: BackupRecord?
    /// The authenticated metadata (the catalog row's when it verifies, else the object's);
    /// nil for an unauthenticated entry.
    package let metadata: ObjectMetadata?
    package let authenticity: Authenticity
    /// Never deleted by clean: the authenticated metadata says `keep=forever`.
    package var keepForever: Bool { metadata?.keptForever ?? false }
    package var isAuthenticated: Bool { authenticity.isAuthenticated }
    /// Where it was taken (`host:path`, sealed); "" when it records no path (adopted objects).
    package var originKey: String {
        guard let path = metadata?[ObjectMetadata.Field.databasePath] else { return "" }
        return "\(metadata?[ObjectMetadata.Field.host] ?? "?"):\(path)"
    }

    /// Whether it was taken from `origin`'s path on `origin`'s host (or records no place).
    package func isFrom(_ origin: DatabaseOrigin) -> Bool {
        originKey.isEmpty || originKey == "\(origin.host):\(origin.path)"
    }

    /// An incremental backup (its object is a manifest).
    package var isIncremental: Bool { ObjectKey.isManifest(objectKey) }

    /// Seconds since the backup was made, never negative (clocks disagree).
    package func age(at now: Date = Date()) -> TimeInterval {
        max(0, now.timeIntervalSince1970 - Double(createdAt) / 1000)
    }
}
