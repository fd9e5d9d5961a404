import Foundation

/// The backups under the prefix: storage is the truth, the catalog the fast index, and
/// the MAC of each record (`MetadataSeal`) decides what may be believed. Objects without a
/// row are judged by their own metadata. Listing writes nothing: `reindex` gives the
/// authenticated ones a row, when a caller asks.
package struct Inventory {
    /// Every backup-shaped object in scope, newest first, authenticated or not.
    package var entries: [BackupEntry]
    /// Keys that got a catalog row from their metadata (`reindex`).
    package var reindexed: [String] = []
    /// Authenticated objects without a catalog row: the rows `reindex` would write.
    var unindexed: [BackupRecord] = []
    /// Live catalog rows whose object is gone from storage.
    package var missingObjects: [String]

    /// The entries whose records verify, newest first: the only ones chosen, counted,
    /// ranked or deleted.
    package var trusted: [BackupEntry] { entries.filter(\.isAuthenticated) }
    /// The authenticated entries taken from `origin` (this host, the configured path): the
    /// only ones the minimum interval, `--status` ages and the next incremental's base rest
    /// on, so a copy of another store's backup of the same name (same key) decides nothing here.
    package func own(_ origin: DatabaseOrigin) -> [BackupEntry] { trusted.filter { $0.isFrom(origin) } }

    /// The entries that do not verify: listed and reported, never chosen nor deleted.
    package var untrusted: [BackupEntry] { entries.filter { !$0.isAuthenticated } }

    /// Names whose authenticated backups were written from more than one host or path (two
    /// servers' `app.db` under one name), each with where from: `host:path`, sorted.
    package var sharedNames: [(name: String, origins: [String])] {
        var origins: [String: Set<String>] = [:]
        for entry in trusted {
            guard let name = entry.databaseName, let path = entry.metadata?[ObjectMetadata.Field.databasePath] else { continue }
            origins[name, default: []].insert("\(entry.metadata?[ObjectMetadata.Field.host] ?? "?"):\(path)")
        }
        return origins.filter { $0.value.count > 1 }.map { ($0.key, $0.value.sorted()) }.sorted { $0.name < $1.name }
    }

    /// The one-line warning for a shared name.
    package static func sharedNameWarning(_ shared: (name: String, origins: [String])) -> String {
        "backups named \(shared.name) were written from \(shared.origins.count) places (\(shared.origins.joined(separator: ", "))): they share one history, so retention and restore mix them; give each database its own name (BACKUP_DB_PATH=NAME=PATH)"
    }

    /// Writes the rows of `unindexed` into `catalog` (each from the object's own authenticated
    /// metadata); a row that cannot be written is warned and left for the next time.
    mutating func reindex(into catalog: BackupCatalog, console: Console) {
        for row in unindexed {
            do {
                try catalog.insert(row)
            } catch {
                console.warning("could not re-index \(row.objectKey) into the catalog: \(error)")
                continue
            }
            reindexed.append(row.objectKey)
            for index in entries.indices where entries[index].objectKey == row.objectKey { entries[index].record = row }
        }
        unindexed = []
    }

    /// Lists storage under `prefix` and joins it with `catalog`, writing nothing. Keeps only
    /// the backups of `databaseName` when it is given. Without `ring` nothing can be verified.
    static func load(storage: any ObjectStorage, prefix: String, catalog: BackupCatalog?, ring: KeyRing?,
                     databaseName: String?, console: Console) throws -> Inventory {
        let objects = try storage.list(prefix: prefix).filter { ObjectKey.isBackup($0.objectKey) }
        var records: [String: BackupRecord] = [:]
        if let catalog {
            do {
                for record in try catalog.records() { records[record.objectKey] = record }
            } catch {
                console.warning("the catalog \(catalog.path) could not be read (\(error)); using storage alone")
            }
        }
        var entries: [BackupEntry] = []
        var unindexed: [BackupRecord] = []
        for object in objects {
            let keyName = ObjectKey.databaseName(of: object.objectKey, prefix: prefix)
            // Keys are made from the database's name, so another database's key is never in
            // scope: skipped before its metadata is read (no HEAD per foreign object).
            if let databaseName, let keyName, keyName != databaseName { continue }
            let record = records[object.objectKey]
            var judged = judge(record?.sealedMetadata, objectKey: object.objectKey, size: object.size, ring: ring)
            if !judged.authenticity.isAuthenticated {
                // The row proves nothing (none, an earlier version's, altered): the object's own metadata may.
                let claimed = (try? storage.head(objectKey: object.objectKey).metadata) ?? ObjectMetadata()
                let fromObject = judge(claimed, objectKey: object.objectKey, size: object.size, ring: ring)
                if fromObject.authenticity.isAuthenticated || record?.sealedMetadata == nil { judged = fromObject }
                if fromObject.authenticity.isAuthenticated, record == nil {
                    unindexed.append(BackupRecord(objectKey: object.objectKey, sealed: claimed, storage: storage))
                }
            }
            let metadata = judged.authenticity.isAuthenticated ? judged.metadata : nil
            let name = metadata?[ObjectMetadata.Field.database] ?? keyName
            if let databaseName, name != databaseName { continue }
            if let row = record, row.deletedAt != nil {
                console.detail("\(object.objectKey) is marked deleted in the catalog but still stored; it is treated as live")
            }
            let claimedTime = metadata?.createdAt ?? record?.uploadedAt ?? judged.metadata?.createdAt ?? object.lastModified
            entries.append(BackupEntry(objectKey: object.objectKey, createdAt: claimedTime, size: object.size, storage: storage.kind,
                                       databaseName: name, record: record, metadata: metadata, authenticity: judged.authenticity))
        }
        entries.sort { ($0.createdAt, $0.objectKey) > ($1.createdAt, $1.objectKey) }
        let stored = Set(objects.map(\.objectKey))
        // Only rows of this storage location: a row another bucket or folder wrote is not missing here.
        let here = storage.location(of: "")
        let missing = records.values.filter {
            ($0.location == nil ? $0.storage == storage.kind.rawValue : $0.location == here)
                && $0.deletedAt == nil && !stored.contains($0.objectKey) && $0.objectKey.hasPrefix(prefix)
                && (databaseName == nil || ObjectKey.databaseName(of: $0.objectKey, prefix: prefix) == databaseName)
        }.map(\.objectKey).sorted()
        var inventory = Inventory(entries: entries, missingObjects: missing)
        let listed = Set(entries.map(\.objectKey))
        inventory.unindexed = unindexed.filter { listed.contains($0.objectKey) }
        return inventory
    }

    private static func judge(_ metadata: ObjectMetadata?, objectKey: String, size: Int64,
                              ring: KeyRing?) -> (metadata: ObjectMetadata?, authenticity: Authenticity) {
        guard let metadata else { return (nil, .unauthenticated("it has no metadata")) }
        guard let ring else { return (metadata, .unauthenticated("no key is configured to verify it")) }
        return (metadata, ring.authenticate(metadata, objectKey: objectKey, storedSize: size))
    }
}
