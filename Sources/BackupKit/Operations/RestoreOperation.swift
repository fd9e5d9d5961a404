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
        var finalPath: String?
        switch request.destination {
        case .file(let out, let overwrite):
            // By default in the current folder, never among the backups (a plaintext copy there
            // would sit beside every encrypted one).
            let path = Files.absolute(out ?? "restored-\(ObjectKey.stamp(Date())).db")
            if Files.exists(path) && !overwrite { throw BackupError.outputExists(path: path, flag: "--out") }
            finalPath = path
        case .sqlDump(let out, let overwrite):
            let path = Files.absolute(out)
            if Files.exists(path) && !overwrite { throw BackupError.outputExists(path: path, flag: "--sql") }
            guard Files.isDirectory((path as NSString).deletingLastPathComponent) else {
                throw BackupError.cannotWrite(path: path, reason: "its folder does not exist")
            }
            try Self.probeWritable(path)
        case .liveDatabase(let target, let confirmed):
            let path = Files.absolute(target)
            if Files.isDirectory(path) { throw BackupError.databaseIsFolder(path: path, setting: "--target") }
            if Files.exists(path), (Files.size(path) ?? 0) > 0 {
                do { try SQLiteFile.requireSQLiteHeader(path) } catch BackupError.notADatabase { throw BackupError.targetNotADatabase(path: path) }
            }
            if !confirmed {
                guard let answer = confirm("Replace the contents of \(target) with backup \(plan.objectKey)? A safety snapshot is taken first. [y/N] ") else {
                    throw BackupError.confirmationUnavailable
                }
                guard answer else { throw BackupError.declined }
            }
        case .verifyOnly:
            break
        }

        // Decode into a private temp file: beside the output (same file system, so the
        // final rename is atomic) or in the work folder.
        let work = try WorkDirectory(parent: settings.localDirectory + "/.work")
        defer { work.remove() }
        if let finalPath {
            Files.removeStaleTemporaries(of: finalPath)
            try Self.probeWritable(finalPath)
        }
        let tempPath = finalPath.map(Files.temporarySibling) ?? work.file("restored.db")
        Cleanup.shared.register(tempPath)
        defer {
            Self.removeDatabaseFiles(tempPath)
            Cleanup.shared.forget(tempPath)
        }
        let (file, decoded, usedKey) = try KeyAttempts.first(of: keys, onWrongKey: { key, _ in
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
        console.detail("downloaded, decrypted and decompressed in \(Formatting.seconds(ContinuousClock.now - started)); checksum and tag verified (key \(usedKey.id))")
        let checkStarted = ContinuousClock.now
        // The file's fsync runs beside the integrity check; both must pass before it is placed.
        let sync = BackgroundTask(name: "restore-fsync") { try file.sync() }
        let checking = console.progress("integrity check", total: nil) { 0 }
        defer { checking.finish() }
        do {
            try Self.checkIntegrity(tempPath)
            try sync.join()
        } catch {
            try? sync.join()
            throw error
        }
        try file.close()
        checking.finish()
        console.detail("PRAGMA integrity_check ok in \(Formatting.seconds(ContinuousClock.now - checkStarted))")

        Failpoint.beforePlace.reach()
        var output: String?
        var format: String?
        var target: String?
        var safety: String?
        switch request.destination {
        case .file(_, let overwrite):
            if overwrite { try Files.atomicRename(tempPath, to: finalPath!) } else { try Files.placeNew(tempPath, at: finalPath!, flag: "--out") }
            output = finalPath
            format = "sqlite"
        case .sqlDump(let path, let overwrite):
            output = try Self.writeDump(of: tempPath, to: Files.absolute(path), overwrite: overwrite)
            format = "sql"
        case .liveDatabase(let path, _):
            let replaced = try LiveDatabaseReplacer(target: Files.absolute(path), notice: LockWaitNotice(console: console))
                .replace(with: tempPath)
            target = replaced.target
            safety = replaced.safetySnapshot
        case .verifyOnly:
            break
        }
        return RestoreResult(objectKey: plan.objectKey, output: output, format: format, target: target, safetySnapshot: safety,
                             verifyOnly: request.destination == .verifyOnly, storedSize: decoded.storedSize,
                             restoredSize: decoded.restoredSize, checksum: decoded.md5Hex, integrityCheck: "ok", keyID: usedKey.id,
                             durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started))
    }

    /// Runs `PRAGMA integrity_check` on a restored file (opened immutable: nothing else uses
    /// it), split over the cores with the whole check's verdict (`IntegrityCheck`).
    static func checkIntegrity(_ path: String) throws {
        guard (Files.size(path) ?? 0) > 0 else { return }
        if let problems = try IntegrityCheck(path: path).problems() {
            throw BackupError.integrityCheckFailed(what: "the restored database", detail: problems)
        }
    }

    /// Removes a database file and the journal files SQLite may have made beside it.
    static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    /// Downloads and decodes the object with one key into a fresh `tempPath`, and judges it.
    private func decode(_ plan: RestorePlan, repository: BackupRepository, key: EncryptionKey, ring: KeyRing,
                        into tempPath: String) throws -> (FileDescriptor, DecodedObject, EncryptionKey) {
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
            return (file, decoded, key)
        }
        let meter = console.progress("download+decrypt+inflate", total: plan.storedSize) { downloaded.value }
        defer { meter.finish() }
        let decoded = try BackupDecoder(key: key, iv: plan.iv, tag: plan.tag, algorithm: plan.compression)
            .decode(download: { deliver in
                try storage.download(objectKey: objectKey) { bytes in
                    downloaded.add(Int64(bytes.count))
                    try deliver(bytes)
                }
            }, into: { bytes in
                try file.write(bytes)
                if Failpoint.midRestore.isSelected && (Files.size(tempPath) ?? 0) >= 4 << 20 { Failpoint.midRestore.reach() }
            })
        meter.finish()
        try plan.verify(decoded)
        return (file, decoded, key)
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
