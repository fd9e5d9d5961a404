import Foundation

/// One backup as the operations see it: an object in storage, with its catalog row if any.
package struct BackupEntry: Sendable {
    package let key: String
    /// Milliseconds since the epoch: the catalog's `uploaded_at`, else the object's
    /// `created-at` metadata, else its modification time.
    package let createdAt: Int64
    package let size: Int64
    package let storage: StorageKind
    package let databaseName: String?
    /// The catalog row, nil when the catalog has none (or could not be read).
    package let record: BackupRecord?

    /// Seconds since the backup was made, never negative (clocks disagree).
    package func age(at now: Date = Date()) -> TimeInterval {
        max(0, now.timeIntervalSince1970 - Double(createdAt) / 1000)
    }
}

/// The backups under the prefix: storage is the truth, the catalog the fast index.
/// Objects without a row are re-indexed from their own metadata when asked.
package struct Inventory {
    /// Newest first.
    package var entries: [BackupEntry]
    /// Keys that got a catalog row from their metadata during this load.
    package var reindexed: [String]
    /// Live catalog rows whose object is gone from storage.
    package var missingObjects: [String]

    /// Lists storage under `prefix` and joins it with `catalog`. Keeps only the backups of
    /// `databaseName` when it is given.
    static func load(storage: any ObjectStorage, prefix: String, catalog: BackupCatalog?,
                            databaseName: String?, reindex: Bool, console: Console) throws -> Inventory {
        let objects = try storage.list(prefix: prefix).filter { BackupKey.isBackup($0.key) }
        var records: [String: BackupRecord] = [:]
        if let catalog {
            do {
                for record in try catalog.records() { records[record.key] = record }
            } catch {
                console.warning("the catalog \(catalog.path) could not be read (\(error)); using storage alone")
            }
        }
        var entries: [BackupEntry] = []
        var reindexed: [String] = []
        for object in objects {
            let name = BackupKey.databaseName(of: object.key, prefix: prefix)
            if let databaseName, name != databaseName { continue }
            var record = records[object.key]
            var createdAt = record?.uploadedAt ?? object.lastModified
            if record == nil, let metadata = try? storage.head(key: object.key).metadata {
                createdAt = metadata.createdAt ?? object.lastModified
                if reindex, let catalog {
                    let row = BackupRecord(object: object, metadata: metadata, storage: storage.kind, id: UUID().uuidString.lowercased())
                    do {
                        try catalog.insert(row)
                        record = row
                        reindexed.append(object.key)
                    } catch {
                        console.warning("could not re-index \(object.key) into the catalog: \(error)")
                    }
                }
            }
            if let row = record, row.deletedAt != nil {
                console.detail("\(object.key) is marked deleted in the catalog but still stored; it is treated as live")
            }
            entries.append(BackupEntry(key: object.key, createdAt: createdAt, size: object.size, storage: storage.kind,
                                       databaseName: name, record: record))
        }
        entries.sort { ($0.createdAt, $0.key) > ($1.createdAt, $1.key) }
        let stored = Set(objects.map(\.key))
        let missing = records.values.filter {
            $0.deletedAt == nil && !stored.contains($0.key) && $0.key.hasPrefix(prefix)
                && (databaseName == nil || BackupKey.databaseName(of: $0.key, prefix: prefix) == databaseName)
        }.map(\.key).sorted()
        return Inventory(entries: entries, reindexed: reindexed, missingObjects: missing)
    }
}
