import Foundation

/// The `restore --list` result: every backup in scope, newest first. Listing rebuilds a
/// lost catalog: objects without a row are re-indexed from their own metadata. Its `--json`
/// shape calls object keys `key`.
package struct BackupListing: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        let objectKey: String
        let createdAt: Int64
        let created: String
        let size: Int64
        let storage: StorageKind
        let database: String?
        let inCatalog: Bool
        let keepForever: Bool
        /// Whether its metadata verifies; only authenticated backups are chosen or deleted.
        let authenticated: Bool
        /// Why not, when it does not.
        let problem: String?
        /// `full` or `incremental`.
        let kind: String
        /// Bytes of the database it restores (its sealed `source-size`), when known.
        let restoredSize: Int64?

        enum CodingKeys: String, CodingKey {
            case createdAt, created, size, storage, database, inCatalog, keepForever, authenticated, problem, kind, restoredSize
            case objectKey = "key"
        }
    }

    var ok = true
    /// How a person sees it: the zone times are shown in (the zone `--at` reads), exact bytes.
    var zone: TimeZone = .current
    var exactBytes = false
    /// Where the backups were looked for (a folder, `s3://bucket/prefix`).
    let location: String
    let backups: [Item]
    let reindexed: [String]
    let missingObjects: [String]

    /// The backups in scope; with `takenBy` (milliseconds since the epoch), only those taken at or before it.
    enum CodingKeys: String, CodingKey { case ok, location, backups, reindexed, missingObjects }

    package static func load(settings: Settings, console: Console, takenBy: Int64? = nil) throws -> BackupListing {
        let repository = try BackupRepository(settings: settings, catalog: .rebuild, console: console)
        let inventory = try repository.inventory(reindex: repository.catalog != nil)
        if !inventory.reindexed.isEmpty {
            console.info("re-indexed \(inventory.reindexed.count) backup(s) that had no catalog row")
        }
        for key in inventory.missingObjects {
            console.warning("the catalog lists \(key) but storage no longer has it")
        }
        let limit = takenBy ?? .max
        let items = inventory.entries.filter { $0.createdAt <= limit }.map {
            Item(objectKey: $0.objectKey, createdAt: $0.createdAt, created: Formatting.iso8601(millis: $0.createdAt), size: $0.size,
                 storage: $0.storage, database: $0.databaseName, inCatalog: $0.record != nil,
                 keepForever: $0.keepForever, authenticated: $0.isAuthenticated, problem: $0.authenticity.problem,
                 kind: $0.isIncremental ? "incremental" : "full", restoredSize: $0.metadata?.count(ObjectMetadata.Field.sourceSize))
        }
        return BackupListing(location: repository.location, backups: items, reindexed: inventory.reindexed,
                             missingObjects: inventory.missingObjects)
    }
}
