import Foundation
import Glibc

/// download → verify → decrypt → decompress → `PRAGMA integrity_check` → place. Nothing
/// reaches the output path or the target until every check passed.
package struct RestoreOperation {
    package let settings: Settings
    package let console: Console
    /// Asks the user a yes/no question; nil when no terminal can answer.
    package var confirm: (String) -> Bool?

    package init(settings: Settings, console: Console, confirm: ((String) -> Bool?)? = nil) {
        self.settings = settings
        self.console = console
        self.confirm = confirm ?? { question in
            console.ask(question).map { ["y", "yes"].contains($0.lowercased()) }
        }
    }

    package func run(_ request: RestoreRequest) throws -> RestoreResult {
        let started = ContinuousClock.now
        // The key first: choosing a backup rests on records only a configured key verifies.
        let ring = try settings.requiredKeyRing()
        let repository = try BackupRepository(settings: settings, catalog: .ifPresent, console: console, ring: ring)
        let storage = repository.storage
        let plan = try RestorePlan.resolve(request.selection, in: repository)
        let keys = try plan.candidateKeys(ring)
        if let place = plan.sealedPlace, let configured = settings.databasePath, place.path != Files.absolute(configured) {
            console.warning("\(plan.objectKey) was taken from \(place.path) on \(place.host), not from \(configured): if that is another database with the same name, give each its own name (BACKUP_DB_PATH=NAME=PATH)")
        }

        // Fail on the destination before downloading anything.
        let target = request.destination.target(console: console)
        try target.prepare(objectKey: plan.objectKey, confirm: confirm)

        // Decode into a private temp file, where the target says (beside its output, or in the work folder).
        let work = try WorkDirectory(parent: settings.localDirectory + "/.work")
        defer { work.remove() }
        let tempPath = target.temporaryPath(in: work)
        Cleanup.shared.register(tempPath)
        defer {
            Self.removeDatabaseFiles(tempPath)
            Cleanup.shared.forget(tempPath)
        }
        let (file, decoded, usedKey, pages) = try KeyAttempts.first(of: keys, onWrongKey: { key, _ in
            console.detail("key \(key.id) does not decrypt \(plan.objectKey); trying the next configured key")
        }) { key in
            do {
                return try decode(plan, repository: repository, key: key, ring: ring, into: tempPath)
            } catch BackupError.objectChanged {
                // A resumed download found another version: start over once, from the first byte.
                console.detail("\(plan.objectKey) changed while downloading; starting over")
                return try decode(plan, repository: repository, key: key, ring: ring, into: tempPath)
            }
        }
        let verified = decoded.md5Hex == nil ? "tag verified (the sealed metadata records the checksum)" : "checksum and tag verified"
        console.detail("downloaded, decrypted and decompressed in \(Formatting.seconds(ContinuousClock.now - started)); \(verified) (key \(usedKey.id))")
        let checkStarted = ContinuousClock.now
        // The file's fsync runs beside the integrity check; both must pass before it is placed.
        let sync = BackgroundTask(name: "restore-fsync") { try file.sync() }
        let checking = console.progress("integrity check", total: nil) { 0 }
        defer { checking.finish() }
        do {
            try target.verify(tempPath, pages: pages)
            try sync.join()
        } catch {
            try? sync.join()
            throw error
        }
        try file.close()
        checking.finish()
        console.detail("PRAGMA integrity_check ok in \(Formatting.seconds(ContinuousClock.now - checkStarted))")

        Failpoint.beforePlace.reach()
        let placed = try target.place(tempPath)
        return RestoreResult(objectKey: plan.objectKey, output: placed.output, format: placed.format, target: placed.target,
                             safetySnapshot: placed.safetySnapshot,
                             verifyOnly: request.destination == .verifyOnly, storedSize: decoded.storedSize,
                             restoredSize: decoded.restoredSize, checksum: decoded.md5Hex ?? plan.decryption.checksum ?? "", integrityCheck: "ok", keyID: usedKey.id,
                             durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started))
    }

    /// Removes a database file and the journal files SQLite may have made beside it.
    static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    /// Downloads and decodes the object with one key into a fresh `tempPath`, and judges it.
    /// A full object is written in order, so what its pages point to is noted on the way
    /// (`PageMap`, for the integrity check; an incremental one's file is read once more there).
    private func decode(_ plan: RestorePlan, repository: BackupRepository, key: EncryptionKey, ring: KeyRing,
                        into tempPath: String) throws -> (FileDescriptor, DecodedObject, EncryptionKey, PageMap?) {
        let storage = repository.storage
        Self.removeDatabaseFiles(tempPath)
        let file = try FileDescriptor.createPrivate(tempPath)
        console.detail("downloading \(storage.location(of: plan.objectKey)) (\(Formatting.bytes(plan.storedSize))) with key \(key.id)")
        let objectKey = plan.objectKey
        let downloaded = Counter()
        if plan.incremental {
            let meter = console.progress("download+decrypt+inflate blocks", total: nil) { downloaded.value }
            defer { meter.finish() }
            let decoded = try IncrementalReader(storage: storage, loadManifest: { try repository.manifest(objectKey: $0, ring: ring) })
                .restore(plan.decryption, key: key, ring: ring, into: file, progress: downloaded)
            // Blocks land out of order: the integrity check maps the pages by reading the file once more.
            return (file, decoded, key, nil)
        }
        let meter = console.progress("download+decrypt+inflate", total: plan.storedSize) { downloaded.value }
        defer { meter.finish() }
        let pages = PageMap()
        let decoded = try BackupDecoder(key: key, iv: plan.iv, tag: plan.tag, algorithm: plan.compression)
            .decode(checksum: !plan.decryption.tagCoversChecksum, download: { deliver in
                try storage.download(objectKey: objectKey, size: plan.storedSize, version: plan.storedVersion) { bytes in
                    downloaded.add(Int64(bytes.count))
                    try deliver(bytes)
                }
            }, into: { bytes in
                try file.write(bytes)
                pages.add(bytes)
                if Failpoint.midRestore.isSelected && (Files.size(tempPath) ?? 0) >= 4 << 20 { Failpoint.midRestore.reach() }
            })
        meter.finish()
        guard decoded.md5Hex == nil && !decoded.authenticated else {
            try plan.verify(decoded)
            return (file, decoded, key, pages)
        }
        // The tag failed where it covers the checksum: hash the stored bytes again so the error
        // says whether they changed.
        let md5 = Digest(.md5)
        try storage.download(objectKey: objectKey, size: plan.storedSize, version: plan.storedVersion) { md5.update($0) }
        try plan.verify(DecodedObject(md5Hex: md5.finish().hexString, storedSize: decoded.storedSize, restoredSize: decoded.restoredSize,
                                      authenticated: false, decompressionFailure: decoded.decompressionFailure))
        throw BackupError.unexpected("backup '\(objectKey)' failed its tag yet passed verification")
    }

    /// Fails before any download when no file can be created beside `path`, naming `path`.
    static func probeWritable(_ path: String) throws {
        let probe = Files.temporarySibling(of: path)
        do {
            try FileDescriptor.createPrivate(probe).close()
            unlink(probe)
        } catch BackupError.cannotWrite(_, let reason) {
            throw BackupError.cannotWrite(path: path, reason: reason)
        }
    }

    /// Writes the SQL dump of the verified database at `source` to `path`, atomically (0600).
    static func writeDump(of source: String, to path: String, overwrite: Bool) throws -> String {
        let temp = Files.temporarySibling(of: path)
        Cleanup.shared.register(temp)
        defer { unlink(temp); Cleanup.shared.forget(temp) }
        let file = try FileDescriptor.createPrivate(temp)
        let connection = try SQLiteConnection(path: source, mode: .immutable)
        try SQLDump(connection: connection).write { try file.write($0) }
        try file.sync()
        try file.close()
        if overwrite { try Files.atomicRename(temp, to: path) } else { try Files.placeNew(temp, at: path, flag: "--sql") }
        return path
    }
}
