import Foundation

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
        var reindexed: [String] = []
        for object in objects {
            let name = ObjectKey.databaseName(of: object.objectKey, prefix: prefix)
            if let databaseName, name != databaseName { continue }
            var record = records[object.objectKey]
            var createdAt = record?.uploadedAt ?? object.lastModified
            var keepForever = record?.keepForever ?? false
            if record == nil, let metadata = try? storage.head(objectKey: object.objectKey).metadata {
                createdAt = metadata.createdAt ?? object.lastModified
                keepForever = metadata.keptForever
                if reindex, let catalog {
                    let row = BackupRecord(object: object, metadata: metadata, storage: storage.kind, id: UUID().uuidString.lowercased())
                    do {
                        try catalog.insert(row)
                        record = row
                        reindexed.append(object.objectKey)
                    } catch {
                        console.warning("could not re-index \(object.objectKey) into the catalog: \(error)")
                    }
                }
            }
            if let row = record, row.deletedAt != nil {
                console.detail("\(object.objectKey) is marked deleted in the catalog but still stored; it is treated as live")
            }
            var entry = BackupEntry(objectKey: object.objectKey, createdAt: createdAt, size: object.size, storage: storage.kind,
                                    databaseName: name, record: record)
            entry.keepForever = keepForever
            entries.append(entry)
        }
        entries.sort { ($0.createdAt, $0.objectKey) > ($1.createdAt, $1.objectKey) }
        let stored = Set(objects.map(\.objectKey))
        let missing = records.values.filter {
            $0.deletedAt == nil && !stored.contains($0.objectKey) && $0.objectKey.hasPrefix(prefix)
                && (databaseName == nil || ObjectKey.databaseName(of: $0.objectKey, prefix: prefix) == databaseName)
        }.map(\.objectKey).sorted()
        return Inventory(entries: entries, reindexed: reindexed, missingObjects: missing)
    }
}
