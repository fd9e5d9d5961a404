import Foundation

/// An incremental backup: at most one new pack of the blocks no live backup of this database
/// stores, then its manifest (`IncrementalWriter`). The snapshot's quick_check starts at the
/// first block that differs from the previous backup's, or is skipped as `SnapshotCheckRule` says.
struct IncrementalBackupWriter: BackupWriter {
    let repository: BackupRepository

    func write(_ source: any DatabaseSource, check: DeferredCheck, in run: BackupRun) throws -> WrittenBackup {
        let settings = run.settings, storage = run.storage, console = run.console
        // Held shared for the run: a clean on this machine deletes none of this database's packs meanwhile.
        let packLock = try PackLock(databaseName: run.origin.name, lockDirectory: settings.localDirectory + "/.locks", exclusive: false)
        defer { withExtendedLifetime(packLock) {} }
        let started = ContinuousClock.now
        let previous = try previousManifest(run)
        let previousSeconds = Formatting.durationSeconds(ContinuousClock.now - started)
        if let previous {
            let links = previous.ancestors.count + 1
            console.detail("previous manifest read in \(Formatting.seconds(ContinuousClock.now - started)) (\(links) object(s), \(previous.blocks.count) block(s))")
        }
        var writer = IncrementalWriter(storage: storage, prefix: settings.prefix, origin: run.origin, key: run.key,
                                       compression: settings.compression, level: settings.compressionLevel,
                                       blockSize: settings.blockSize, work: run.work, console: console)
        writer.keepForever = run.keepForever
        writer.checkRule = run.checkRule
        let outcome = try writer.write(source: source, previous: consume previous, createdAt: run.createdAt,
                                       onChange: { check.start() }, beforeCommit: { decision in
            switch decision {
            case .run:
                _ = try check.finish(unchanged: false)
                console.detail("quick_check ok")
            case .skipUnchanged:
                console.detail("quick_check skipped: every block equals the previous backup's, whose snapshot passed it")
            case .skipRecent(let checkedAt):
                let age = Double(run.createdAt - checkedAt) / 1000
                console.detail("quick_check skipped: a delta, and this chain's snapshot of \(Formatting.iso8601(millis: checkedAt)) passed it \(Formatting.shortDuration(age)) ago (it runs at least every \(Formatting.shortDuration(Double(run.checkRule.intervalMillis) / 1000)), BACKUP_CHECK_INTERVAL, on every whole manifest, and restore checks every backup)")
            }
            source.close()
        })
        let seconds = Formatting.durationSeconds(ContinuousClock.now - started)
        let packBytes = outcome.pack?.size ?? 0
        console.detail("\(outcome.newBlocks) new block(s) (\(Formatting.bytes(packBytes))), \(outcome.reusedBlocks) reused, manifest \(Formatting.bytes(outcome.manifest.storedSize)), in \(String(format: "%.1f s", seconds))")
        let manifestKey = outcome.manifestKey, origin = run.origin, createdAt = run.createdAt
        var written = WrittenBackup(
            objectKey: manifestKey, sourceSize: outcome.snapshotSize, storedSize: outcome.manifest.storedSize + packBytes,
            uploadedBytes: outcome.manifest.storedSize + packBytes, checksum: outcome.manifest.md5Hex,
            objectsWritten: outcome.pack == nil ? 1 : 2, uploadSeconds: seconds,
            catalogRows: { catalog in
                if let pack = outcome.pack {
                    try catalog.insertPack(objectKey: pack.objectKey, database: origin.name, size: pack.size, checksum: pack.checksum,
                                           storage: storage.kind.rawValue, uploadedAt: createdAt)
                }
                try catalog.insertReferences(backupKey: manifestKey, packs: outcome.references)
                try catalog.insert(BackupRecord(objectKey: manifestKey, sealed: outcome.manifestMetadata, storage: storage))
            })
        written.stages = [("previous_manifest", previousSeconds)] + outcome.stages
        written.snapshotCheck = outcome.check.label
        written.incremental = (outcome.newBlocks, outcome.reusedBlocks, outcome.rewrittenBlocks, outcome.parent, outcome.manifestEntries)
        return written
    }

    /// The newest live incremental backup's manifest of this database, or nil (then every
    /// block is stored): none yet, or it cannot be read, which is said and never fatal.
    private func previousManifest(_ run: BackupRun) throws -> Manifest? {
        guard let origin = repository.origin,
              let newest = try repository.inventory().own(origin).first(where: \.isIncremental) else {
            return nil
        }
        do {
            return try repository.resolvedManifest(objectKey: newest.objectKey, ring: repository.ring ?? run.settings.keyRing())
        } catch {
            run.console.warning("could not read the previous incremental backup \(newest.objectKey) (\(error)); storing every block anew")
            return nil
        }
    }
}
