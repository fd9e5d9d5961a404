import Foundation

/// What a backup run produced (the `--json` shape of `backup`).
public struct BackupResult: Codable, Sendable {
    public let key: String
    public let location: String
    public let storage: StorageKind
    public let database: String
    public let sourceSize: Int64
    public let storedSize: Int64
    public let checksum: String
    public let createdAt: Int64
    public let durationSeconds: Double
}

/// snapshot → gzip → AES-256-GCM → storage → catalog row, one run per database at a time.
public struct BackupOperation {
    public let settings: Settings
    public let console: Console

    public init(settings: Settings, console: Console) {
        self.settings = settings
        self.console = console
    }

    public func run() throws -> BackupResult {
        let started = ContinuousClock.now
        let database = try settings.requireDatabase()
        let key = try settings.encryptionKey()
        if let keyFile = settings.keyFilePath, EncryptionKey.isLooselyProtected(file: keyFile) {
            console.warning("the key file \(keyFile) can be read by other users: run 'chmod 600 \(keyFile)'")
        }
        guard Files.exists(database) else { throw BackupError.databaseMissing(path: database) }
        let storage = try settings.makeStorage()
        let catalog = try BackupCatalog(path: settings.catalogPath)

        let lock = try BackupLock(databasePath: database, lockDirectory: settings.localDirectory + "/.locks")
        defer { withExtendedLifetime(lock) {} }

        let work = try WorkDirectory(parent: settings.localDirectory + "/.work")
        defer { work.remove() }
        let snapshotPath = work.file("snapshot.db")
        console.detail("taking a snapshot of \(database)")
        var clock = ContinuousClock.now
        let taker = SnapshotTaker(databasePath: database)
        let snapshotSize = try taker.snapshot(to: snapshotPath)
        console.detail("snapshot: \(Formatting.bytes(snapshotSize)) in \(Formatting.seconds(ContinuousClock.now - clock))")
        Failpoint.reach("after-snapshot")

        let databaseName = (database as NSString).lastPathComponent
        let createdAt = Formatting.nowMillis()
        let objectKey = BackupKey.make(prefix: settings.prefix, databaseName: databaseName,
                                       date: Date(timeIntervalSince1970: Double(createdAt) / 1000))
        // quick_check runs beside the encoder; the object is completed only if it passed.
        let check = BackgroundTask(name: "snapshot-check") { try taker.check(snapshot: snapshotPath) }
        clock = ContinuousClock.now
        let upload = try storage.beginUpload(key: objectKey)
        let encoded: EncodedObject
        do {
            var written = 0
            encoded = try BackupEncoder(key: key, level: settings.compressionLevel).encode(file: snapshotPath) { bytes in
                try upload.write(bytes)
                written += bytes.count
                if Failpoint.isActive && written >= 6 << 20 && written - bytes.count < 6 << 20 { Failpoint.reach("mid-upload") }
            }
            try check.join()
            Failpoint.reach("before-complete")
            try upload.complete(metadata: ObjectMetadata(encoded: encoded, createdAt: createdAt, databaseName: databaseName))
        } catch {
            upload.abort()
            try? check.join()
            throw error
        }
        console.detail("quick_check ok; compressed, encrypted and stored in \(Formatting.seconds(ContinuousClock.now - clock))")
        work.remove()
        Failpoint.reach("after-upload")

        let record = BackupRecord(id: UUID().uuidString.lowercased(), key: objectKey, fileName: BackupKey.fileName(of: objectKey),
                                  fileSize: encoded.storedSize, compression: "gzip", storage: storage.kind.rawValue,
                                  checksum: encoded.md5Hex, uploadedAt: createdAt, encryption: "aes-256-gcm",
                                  encIV: Data(encoded.iv).base64EncodedString(), encTag: Data(encoded.tag).base64EncodedString())
        do {
            try catalog.insert(record)
        } catch {
            throw BackupError.catalogWriteFailed(key: objectKey, reason: "\(error)")
        }
        // Housekeeping once storage has proved reachable: what interrupted runs left behind.
        do {
            let removed = try storage.removeAbandonedUploads(prefix: settings.prefix)
            if removed > 0 { console.detail("removed \(removed) leftover(s) of interrupted uploads") }
        } catch {
            console.detail("could not look for leftovers of interrupted uploads: \(error)")
        }
        return BackupResult(key: objectKey, location: storage.location(of: objectKey), storage: storage.kind,
                            database: database, sourceSize: encoded.sourceSize, storedSize: encoded.storedSize,
                            checksum: encoded.md5Hex, createdAt: createdAt,
                            durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started))
    }
}
