import Foundation

/// Changes what the catalog vouches for, with the key, on the operator's word:
/// - `adopt`: an object without authenticated metadata (Laju's, an earlier version's) is
///   restored in full first (decrypted, decompressed, `integrity_check`); only then does it
///   get a catalog row sealed with the key that opened it, so retention counts and deletes it.
/// - `unkeep`: a backup marked `keep=forever` gets a new sealed row without the mark; the
///   row wins over the object's own metadata while the catalog lives.
package struct RecordSealOperation {
    package let settings: Settings
    package let console: Console

    package init(settings: Settings, console: Console) {
        self.settings = settings
        self.console = console
    }

    /// The `--json` shape of `clean-backup --adopt` / `--unkeep`.
    package struct Result: Encodable, Sendable {
        package var ok = true
        package var adopted: [String] = []
        package var unkept: [String] = []
    }

    package func adopt(_ objectKeys: [String]) throws -> Result {
        let ring = try settings.requiredKeyRing()
        let repository = try BackupRepository(settings: settings, catalog: .required, console: console, ring: ring)
        guard let catalog = repository.catalog else { throw BackupError.unexpected("the catalog was not opened for writing") }
        var result = Result()
        // `--adopt all`: every backup in scope that does not verify (after an upgrade, say).
        let requestedKeys = objectKeys == ["all"] ? try repository.inventory().untrusted.map(\.objectKey) : objectKeys
        for requested in requestedKeys {
            let objectKey = try repository.resolveObjectKey(requested)
            let head = try repository.storage.head(objectKey: objectKey)
            if ring.authenticate(head.metadata, objectKey: objectKey, storedSize: head.object.size).isAuthenticated {
                console.info("\(objectKey) is authenticated already")
                continue
            }
            let verified = try RestoreOperation(settings: settings, console: console)
                .run(RestoreRequest(selection: .objectKey(objectKey), destination: .verifyOnly))
            guard let key = ring.key(id: verified.keyID) else { throw BackupError.unexpected("the key that opened \(objectKey) is gone") }
            typealias F = ObjectMetadata.Field
            var metadata = head.metadata
            if let record = try catalog.record(forObjectKey: objectKey) {
                for (field, value) in record.metadata.values { metadata[field] = value }
            }
            metadata[F.mac] = nil
            metadata[F.keyID] = key.id
            metadata[F.storedSize] = String(head.object.size)
            metadata[F.createdAt] = String(metadata.createdAt ?? ObjectKey.stampMillis(of: objectKey, prefix: repository.prefix)
                ?? head.object.lastModified)
            metadata[F.database] = metadata[F.database] ?? ObjectKey.databaseName(of: objectKey, prefix: repository.prefix)
            metadata[F.compression] = metadata[F.compression] ?? CompressionAlgorithm.gzip.rawValue
            metadata[F.algorithm] = metadata[F.algorithm] ?? "aes-256-gcm"
            metadata[F.format] = ObjectMetadata.formatVersion
            try store(MetadataSeal(key: key).seal(metadata, objectKey: objectKey), objectKey: objectKey, in: catalog, storage: repository.storage)
            console.info("adopted \(objectKey): restored and checked, now under retention (key \(key.id))")
            result.adopted.append(objectKey)
        }
        return result
    }

    package func unkeep(_ objectKeys: [String]) throws -> Result {
        let ring = try settings.requiredKeyRing()
        let repository = try BackupRepository(settings: settings, catalog: .required, console: console, ring: ring)
        guard let catalog = repository.catalog else { throw BackupError.unexpected("the catalog was not opened for writing") }
        let entries = try repository.inventory().trusted
        var result = Result()
        for requested in objectKeys {
            let objectKey = try repository.resolveObjectKey(requested)
            guard let entry = entries.first(where: { $0.objectKey == objectKey }), var metadata = entry.metadata,
                  let key = metadata.keyID.flatMap(ring.key(id:)) else {
                throw BackupError.invalidArgument("--unkeep \(requested): no authenticated backup has that key; see 'restore --list'")
            }
            guard metadata.keptForever else {
                console.info("\(objectKey) is not kept forever")
                continue
            }
            metadata[ObjectMetadata.Field.keep] = nil
            try store(MetadataSeal(key: key).seal(metadata, objectKey: objectKey), objectKey: objectKey, in: catalog, storage: repository.storage)
            console.info("\(objectKey) is no longer kept forever: retention applies to it from the next clean")
            result.unkept.append(objectKey)
        }
        return result
    }

    private func store(_ sealed: ObjectMetadata, objectKey: String, in catalog: BackupCatalog, storage: any ObjectStorage) throws {
        if try catalog.record(forObjectKey: objectKey) != nil {
            try catalog.updateSealedMetadata(objectKey: objectKey, sealed)
        } else {
            try catalog.insert(BackupRecord(objectKey: objectKey, sealed: sealed, storage: storage))
        }
    }
}
