import Foundation

/// The backups one run works on, opened once per run: the storage, the catalog (opened as
/// the run needs it), the key prefix, and the database whose backups are in scope. Storage
/// is the truth and the catalog its fast index; `inventory` joins them.
package final class BackupRepository {
    /// How a run uses the catalog.
    package enum CatalogUse: Sendable {
        /// The run writes rows: the catalog is created when missing, and one that cannot be
        /// opened stops the run (backup, clean).
        case required
        /// The run only reads: a missing or unusable catalog is skipped, and the run works
        /// from the objects' own metadata (restore, pick, status, a dry run).
        case ifPresent
        /// The run rebuilds what is lost: the catalog is created when missing, objects without
        /// a row get one, and an unusable catalog is skipped with a warning (`restore --list`).
        case rebuild
    }

    package let storage: any ObjectStorage
    /// Nil when the catalog is missing or unusable and the run can do without it.
    package let catalog: BackupCatalog?
    package let prefix: String
    /// The file name of the configured database; nil means the backups of every database.
    package let databaseName: String?
    /// The configured database as its backups record it (name, path, this host); nil when none is configured.
    package let origin: DatabaseOrigin?
    /// The keys that verify records (`MetadataSeal`); nil when none is configured, and then
    /// nothing is authenticated, so nothing is chosen or deleted.
    package let ring: KeyRing?
    let console: Console

    /// Opens the storage `settings` describe and the catalog as `use` says.
    /// `ring` defaults to the configured keys, when they load.
    package init(settings: Settings, catalog use: CatalogUse, console: Console, ring: KeyRing? = nil) throws {
        self.ring = ring ?? (try? settings.keyRing()).flatMap { $0.all.isEmpty ? nil : $0 }
        storage = try StorageFactory.make(settings: settings, log: StorageLog(console: console), create: use == .required)
        prefix = settings.prefix
        databaseName = settings.databaseName
        origin = settings.database == nil ? nil : try? settings.databaseOrigin()
        self.console = console
        switch use {
        case .required:
            catalog = try BackupCatalog(path: settings.catalogPath)
        case .ifPresent:
            catalog = Self.openCatalog(settings.catalogPath, create: false, console: console)
        case .rebuild:
            // Re-indexing may make the catalog, but only in a folder that exists already:
            // listing from the wrong folder creates nothing.
            let folder = (settings.catalogPath as NSString).deletingLastPathComponent
            catalog = Self.openCatalog(settings.catalogPath, create: Files.isDirectory(folder), console: console)
        }
    }

    /// Whether `objectKey` belongs to the database in scope (every key does when none is set).
    package func isInScope(_ objectKey: String) -> Bool {
        databaseName == nil || ObjectKey.databaseName(of: objectKey, prefix: prefix) == databaseName
    }

    /// An object key as a user typed it (`--key`): a full key, or one relative to the prefix.
    package func resolveObjectKey(_ typed: String) throws -> String {
        try storage.validate(objectKey: typed)
        if prefix.isEmpty || typed.hasPrefix(prefix) || (try? storage.head(objectKey: typed)) != nil { return typed }
        try storage.validate(objectKey: prefix + typed)
        return prefix + typed
    }

    /// Where the prefix is, for messages (`s3://bucket/backups/`, a folder path).
    package var location: String { storage.location(of: prefix) }

    /// The backups in scope, newest first, joined with their catalog rows and judged. With
    /// `reindex`, authenticated objects without a row get one from their own metadata.
    package func inventory(reindex: Bool = false) throws -> Inventory {
        var inventory = try Inventory.load(storage: storage, prefix: prefix, catalog: catalog, ring: ring, databaseName: databaseName,
                                           console: console)
        if reindex, let catalog { inventory.reindex(into: catalog, console: console) }
        return inventory
    }

    /// The catalog for reading and re-indexing, or nil with a note when it is missing (and
    /// not to be created) or unusable: listing and restoring work from storage alone.
    private static func openCatalog(_ path: String, create: Bool, console: Console) -> BackupCatalog? {
        if !create && !Files.exists(path) {
            console.detail("no catalog at \(path); using the objects' own metadata")
            return nil
        }
        do {
            return try BackupCatalog(path: path, create: create)
        } catch {
            console.warning("the catalog \(path) is unusable (\(error)); using the objects' own metadata")
            return nil
        }
    }
}
