import Foundation

extension BackupOperation {
    /// The incremental path after the snapshot: the previous manifest of this database (when
    /// there is one, and it opens), the new pack (quick_check beside it) and manifest, then the rows.
    func storeIncremental(source: any DatabaseSource, repository: BackupRepository, catalog: BackupCatalog,
                          key: EncryptionKey, origin: DatabaseOrigin, createdAt: Int64, work: WorkDirectory,
                          snapshotSeconds: Double, started: ContinuousClock.Instant) throws -> BackupOutcome {
        let storage = repository.storage
        // The snapshot's quick_check runs beside the writer from the first block that differs from
        // the previous backup's; the pack is completed only after it passed. A snapshot equal to
        // the previous one block for block is not checked again: that one passed (DeferredCheck).
        // Held shared for the run: a clean on this machine deletes none of this database's packs meanwhile.
        let packLock = try PackLock(databaseName: origin.name, lockDirectory: settings.localDirectory + "/.locks", exclusive: false)
        defer { withExtendedLifetime(packLock) {} }
        let check = DeferredCheck { try source.verify() }
        let outcome: IncrementalOutcome
        let uploadStarted = ContinuousClock.now
        do {
            let previous = try previousManifest(in: repository)
            var writer = IncrementalWriter(storage: storage, prefix: settings.prefix, origin: origin, key: key,
                                           compression: settings.compression, level: settings.compressionLevel,
                                           blockSize: settings.blockSize, work: work, console: console)
            writer.keepForever = keepForever
            outcome = try writer.write(source: source, previous: consume previous, createdAt: createdAt,
                                       onChange: { check.start() }, beforeCommit: { unchanged in
                if try check.finish(unchanged: unchanged) {
                    console.detail("quick_check ok")
                } else {
                    console.detail("quick_check skipped: every block equals the previous backup's, whose snapshot passed it")
                }
                source.close()
            })
        } catch {
            check.abandon()
            throw error
        }
        let uploadSeconds = Formatting.durationSeconds(ContinuousClock.now - uploadStarted)
        let packBytes = outcome.pack?.size ?? 0
        console.detail("\(outcome.newBlocks) new block(s) (\(Formatting.bytes(packBytes))), \(outcome.reusedBlocks) reused, in \(String(format: "%.1f s", uploadSeconds))")
        work.remove()
        Failpoint.afterUpload.reach()

        let manifestKey = outcome.manifestKey
        let encoded = outcome.manifest
        do {
            if let pack = outcome.pack {
                try catalog.insertPack(objectKey: pack.objectKey, database: origin.name, size: pack.size, checksum: pack.checksum,
                                       storage: storage.kind.rawValue, uploadedAt: createdAt)
            }
            try catalog.insertReferences(backupKey: manifestKey, packs: outcome.references)
            try catalog.insert(BackupRecord(objectKey: manifestKey, sealed: outcome.manifestMetadata, storage: storage))
        } catch {
            throw BackupError.catalogWriteFailed(objectKey: manifestKey, reason: "\(error)")
        }
        removeLeftovers(storage)
        var result = BackupResult(
            objectKey: manifestKey, compression: settings.compression.rawValue, location: storage.location(of: manifestKey),
            storage: storage.kind, database: origin.path, sourceSize: outcome.snapshotSize,
            storedSize: encoded.storedSize + packBytes, checksum: encoded.md5Hex, keyID: key.id, vacuum: vacuum,
            createdAt: createdAt, snapshotSeconds: snapshotSeconds, uploadSeconds: uploadSeconds,
            durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started))
        result.incremental = true
        result.uploadedBytes = encoded.storedSize + packBytes
        result.objectsWritten = outcome.pack == nil ? 1 : 2
        result.newBlocks = outcome.newBlocks
        result.reusedBlocks = outcome.reusedBlocks
        result.rewrittenBlocks = outcome.rewrittenBlocks
        result.keepForever = keepForever
        return .completed(result)
    }

    /// The newest live incremental backup's manifest of this database, or nil (then every
    /// block is stored): none yet, or it cannot be read, which is said and never fatal.
    private func previousManifest(in repository: BackupRepository) throws -> Manifest? {
        guard let origin = repository.origin,
              let newest = try repository.inventory().own(origin).first(where: \.isIncremental) else {
            return nil
        }
        do {
            return try ManifestReader.read(objectKey: newest.objectKey, in: repository, ring: repository.ring ?? settings.keyRing())
        } catch {
            console.warning("could not read the previous incremental backup \(newest.objectKey) (\(error)); storing every block anew")
            return nil
        }
    }
}
