import Foundation

/// The `restore --list` result.
struct BackupListing: Codable {
    struct Item: Codable {
        let key: String
        let createdAt: Int64
        let created: String
        let size: Int64
        let storage: StorageKind
        let database: String?
        let inCatalog: Bool
    }

    let backups: [Item]
    let reindexed: [String]
    let missingObjects: [String]

    static func load(settings: Settings, console: Console) throws -> BackupListing {
        let storage = try settings.makeStorage()
        // Listing rebuilds a lost catalog: objects without a row are re-indexed from their metadata.
        let catalog = Inventory.openCatalog(settings.catalogPath, createIfMissing: true, console: console)
        let inventory = try Inventory.load(storage: storage, prefix: settings.prefix, catalog: catalog,
                                           databaseName: settings.databaseName, reindex: true, console: console)
        if !inventory.reindexed.isEmpty {
            console.info("re-indexed \(inventory.reindexed.count) backup(s) that had no catalog row")
        }
        for key in inventory.missingObjects {
            console.warning("the catalog lists \(key) but storage no longer has it")
        }
        let items = inventory.entries.map {
            Item(key: $0.key, createdAt: $0.createdAt, created: Formatting.iso8601(millis: $0.createdAt), size: $0.size,
                 storage: $0.storage, database: $0.databaseName, inCatalog: $0.record != nil)
        }
        return BackupListing(backups: items, reindexed: inventory.reindexed, missingObjects: inventory.missingObjects)
    }

    func printTable(_ console: Console) {
        if backups.isEmpty {
            console.info("no backups found")
            return
        }
        for item in backups {
            let size = Formatting.bytes(item.size).padding(toLength: 10, withPad: " ", startingAt: 0)
            console.result("\(item.created)  \(size)  \(item.storage.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0))  \(item.key)")
        }
    }
}
