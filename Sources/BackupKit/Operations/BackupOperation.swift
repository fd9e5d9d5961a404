import Foundation

/// snapshot → gzip or zstd → AES-256-GCM → storage → catalog row, one run per database at a time.
package struct BackupOperation {
    package var settings: Settings
    package let console: Console
    /// Back up even when the newest backup is younger than `BACKUP_MIN_INTERVAL`.
    package var force = false
    /// Take the snapshot with `VACUUM INTO` (compacted) instead of the backup API.
    package var vacuum = false
    /// Mark the backup so clean never deletes it (metadata `keep=forever`, catalog `keep_forever`).
    package var keepForever = false

    package init(settings: Settings, console: Console) {
        self.settings = settings
        self.console = console
    }

    package func run() throws -> BackupOutcome {
        let started = ContinuousClock.now
        let database = try settings.requireDatabase()
        let key = try settings.encryptionKey()
        if let keyFile = settings.keyFilePath, EncryptionKey.isLooselyProtected(file: keyFile) {
            console.warning("the key file \(keyFile) can be read by other users: run 'chmod 600 \(keyFile)'")
        }
        guard Files.exists(database) else { throw BackupError.databaseMissing(path: database) }
        let minInterval = try settings.minimumInterval()
        let checkRule = try settings.snapshotCheckRule()
        let repository = try BackupRepository(settings: settings, catalog: .required, console: console)
        let storage = repository.storage
        guard let catalog = repository.catalog else { throw BackupError.unexpected("the catalog was not opened for writing") }

        let lock = try BackupLock(databasePath: database, lockDirectory: settings.localDirectory + "/.locks")
        defer { withExtendedLifetime(lock) {} }
        if let minInterval, !force, !keepForever, let skip = try recentBackup(within: minInterval, in: repository) {
            return .skipped(skip)
        }

        let work = try WorkDirectory(parent: settings.localDirectory + "/.work")
        defer { work.remove() }
        console.detail("opening a snapshot of \(database)\(vacuum ? " with VACUUM INTO" : "")")
        let snapshotStarted = ContinuousClock.now
        let source = try openSnapshot(of: database, work: work, storage: storage)
        defer { source.close() }
        let snapshotSize = source.expectedSize ?? 0
        // The database is read in place: the only disk space the run needs is the S3 upload's
        // spool, about the stored size, known only at the end. A run that fills it fails with
        // `spoolFull` having uploaded nothing.
        let spoolWorstCase = storage.spoolBytes(forSnapshotOf: snapshotSize)
        if spoolWorstCase > 0, let free = Self.freeSpace(in: work.path), free < spoolWorstCase {
            console.detail("\(settings.localDirectory)/.work has \(Formatting.bytes(free)) free, less than the database: enough while the upload's spool (the compressed object) fits")
        }
        let snapshotSeconds = Formatting.durationSeconds(ContinuousClock.now - snapshotStarted)
        console.detail("snapshot: \(Formatting.bytes(snapshotSize)) in one read transaction, opened in \(String(format: "%.2f s", snapshotSeconds))")
        Failpoint.afterSnapshot.reach()
        if snapshotSize == 0 || (Files.size(database) == 0 && (Files.size(database + "-wal") ?? 0) == 0) {
            console.warning("\(database) is empty (0 bytes): this backup restores an empty database; check --db or BACKUP_DB_PATH")
        }

        let run = BackupRun(settings: settings, console: console, storage: storage, key: key, origin: try settings.databaseOrigin(),
                            createdAt: Formatting.nowMillis(), work: work, keepForever: keepForever, checkRule: checkRule)
        let writer: any BackupWriter = settings.incremental ? IncrementalBackupWriter(repository: repository) : FullBackupWriter()
        // The one commit sequence: the writer stores its objects (the snapshot's check passed
        // before any is visible), then the work folder goes, then the catalog rows are written.
        let check = DeferredCheck { try source.verify() }
        let written: WrittenBackup
        do {
            written = try writer.write(source, check: check, in: run)
        } catch {
            check.abandon()   // the writer's failure is the one reported
            throw error
        }
        work.remove()
        Failpoint.afterUpload.reach()
        do {
            try written.catalogRows(catalog)
        } catch {
            throw BackupError.catalogWriteFailed(objectKey: written.objectKey, reason: "\(error)")
        }
        removeLeftovers(storage)

        var result = BackupResult(
            objectKey: written.objectKey, compression: settings.compression.rawValue, location: storage.location(of: written.objectKey),
            storage: storage.kind, database: run.origin.path, sourceSize: written.sourceSize, storedSize: written.storedSize,
            checksum: written.checksum, keyID: key.id, vacuum: vacuum, createdAt: run.createdAt, snapshotSeconds: snapshotSeconds,
            uploadSeconds: written.uploadSeconds, durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started),
            uploadedBytes: written.uploadedBytes, keepForever: keepForever)
        result.objectsWritten = written.objectsWritten
        result.snapshotCheck = written.snapshotCheck
        if let blocks = written.incremental {
            result.incremental = true
            result.newBlocks = blocks.newBlocks
            result.reusedBlocks = blocks.reusedBlocks
            result.rewrittenBlocks = blocks.rewrittenBlocks
            result.manifestParent = blocks.manifestParent
            result.manifestEntries = blocks.manifestEntries
            result.stageSeconds = Dictionary(written.stages.map { ($0.name, $0.seconds) }, uniquingKeysWith: +)
        }
        return .completed(result)
    }

    /// The snapshot the run reads. A WAL database (or an empty file) is read in place, inside
    /// one read transaction: no copy on disk, and its writers keep committing. A rollback-mode
    /// database is first copied into the run's work folder with the backup API, because its
    /// writers wait for as long as a reader holds it: for the copy (about a second per GiB), not
    /// for the whole compression pass. `--vacuum` reads the compacted copy `VACUUM INTO` makes.
    func openSnapshot(of database: String, work: WorkDirectory, storage: any ObjectStorage) throws -> any DatabaseSource {
        let notice = LockWaitNotice(console: console)
        if !vacuum && (SQLiteFile.isWAL(database) || (Files.size(database) ?? 0) == 0) {
            return try SQLiteSnapshotSource(databasePath: database, notice: notice)
        }
        let copy = work.file(vacuum ? "vacuumed.db" : "snapshot.db")
        let size = (Files.size(database) ?? 0) + (Files.size(database + "-wal") ?? 0)
        // No room for a copy and a spool of half its size: read in place; writers then wait
        // for the whole pass instead of the copy, which is said.
        let spool = storage.spoolBytes(forSnapshotOf: size) > 0 ? size / 2 : 0
        if !vacuum, let free = Self.freeSpace(in: work.path), free < size + spool {
            console.info("\(settings.localDirectory)/.work has \(Formatting.bytes(free)) free, too little for a copy of \(database) (\(Formatting.bytes(size))): reading it in place, so its writers wait until the snapshot is read (WAL mode would let them go on)")
            return try SQLiteSnapshotSource(databasePath: database, notice: notice)
        }
        try Self.requireFreeSpace(in: work.path, shownAs: settings.localDirectory + "/.work", needed: size)
        let meter = console.progress(vacuum ? "vacuum" : "snapshot", total: vacuum ? nil : size) { Files.size(copy) ?? 0 }
        defer { meter.finish() }
        if vacuum {
            try SQLiteFile.vacuum(database, to: copy, notice: notice)
        } else {
            try SQLiteFile.copy(database, to: copy, notice: notice)
        }
        return try SQLiteSnapshotSource(databasePath: copy)
    }

    /// Housekeeping once storage has proved reachable: what interrupted runs left behind.
    func removeLeftovers(_ storage: any ObjectStorage) {
        do {
            let removed = try storage.removeAbandonedUploads(prefix: settings.prefix)
            if removed > 0 { console.detail("removed \(removed) leftover(s) of interrupted uploads") }
        } catch {
            console.detail("could not look for leftovers of interrupted uploads: \(error)")
        }
    }

    /// Fails with `insufficientSpace` when `folder`'s file system has fewer than `needed` bytes free.
    static func requireFreeSpace(in folder: String, shownAs name: String, needed: Int64) throws {
        guard let available = freeSpace(in: folder) else { return }
        if available < needed { throw BackupError.insufficientSpace(folder: name, needed: needed, available: available) }
    }

    /// Bytes this user may still write on `folder`'s file system (nil when it cannot be told).
    static func freeSpace(in folder: String) -> Int64? {
        var stats = statvfs()
        guard statvfs(folder, &stats) == 0 else { return nil }
        let (bytes, overflow) = Int64(clamping: stats.f_bavail).multipliedReportingOverflow(by: Int64(clamping: stats.f_frsize))
        return overflow ? .max : bytes
    }

    /// The skip, when this database's newest live backup is younger than `interval`.
    private func recentBackup(within interval: TimeInterval, in repository: BackupRepository) throws -> BackupSkipped? {
        // Only an authenticated backup counts: a forged, future-dated object never makes a run skip.
        guard let origin = repository.origin, let newest = try repository.inventory().own(origin).first else { return nil }
        let age = newest.age()
        guard age < interval else { return nil }
        let name = settings.databaseName ?? ""
        let reason = "the newest backup of \(name) is \(Formatting.shortDuration(age)) old, younger than BACKUP_MIN_INTERVAL (\(Formatting.shortDuration(interval))); pass --force to back up anyway"
        return BackupSkipped(database: settings.databasePath ?? name, reason: reason, newestObjectKey: newest.objectKey,
                             newestAgeSeconds: age, minIntervalSeconds: interval)
    }
}
