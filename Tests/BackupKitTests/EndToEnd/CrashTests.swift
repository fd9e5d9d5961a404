import Foundation
import Testing
@testable import BackupKit

/// SIGKILL at each stage of a backup and a restore (frozen there by `BACKUP_FAILPOINT`), then
/// the promises: no catalog row points at an incomplete object, no partial object is visible,
/// the next run cleans up and succeeds, and an object stored without its row is re-indexed.
struct CrashTests {
    /// Starts `tool` frozen at `failpoint`, waits (at most a minute) until it gets there, and
    /// kills it with SIGKILL. A run that never gets there is killed at the deadline and fails the test.
    static func killAt(_ failpoint: Failpoint, _ box: Sandbox, _ tool: String, _ arguments: [String]) throws {
        let process = box.process(tool, arguments, env: ["BACKUP_FAILPOINT": failpoint.rawValue])
        let stderr = Pipe()
        let seen = LockedData()
        stderr.fileHandleForReading.readabilityHandler = { seen.append($0.availableData) }
        defer { stderr.fileHandleForReading.readabilityHandler = nil }
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let marker = "failpoint \(failpoint.rawValue) reached"
        let deadline = Date().addingTimeInterval(60)
        while !seen.string.contains(marker) && Date() < deadline && process.isRunning { usleep(10_000) }
        #expect(seen.string.contains(marker), "\(tool) never reached \(failpoint.rawValue): \(seen.string)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
    }

    /// Temp files anywhere under ./backups (not lock files).
    static func leftovers(_ box: Sandbox) -> [String] {
        box.dir.allFiles(under: "backups").filter { $0.contains(".tmp-") || $0.hasPrefix(".work/") }
    }

    @Test("SIGKILL during a local backup leaves no row and no visible object; the next run cleans up",
          arguments: [Failpoint.midSnapshot, Failpoint.afterSnapshot, Failpoint.midUpload, Failpoint.beforeComplete])
    func localBackupKilledBeforeStoring(_ failpoint: Failpoint) throws {
        let box = try Sandbox()
        try TestDatabase.makeIncompressible(box.file("app.db"))
        try Self.killAt(failpoint, box, "backup", ["--db", "app.db"])
        #expect(box.storedObjects().isEmpty, "no partial object is visible")
        #expect(try box.liveCatalogKeys().isEmpty, "no catalog row")
        // The snapshot is read in place: no copy of the database in the work folder, ever.
        #expect(!Self.leftovers(box).contains { $0.hasPrefix(".work/") }, "a copy of the database on disk: \(Self.leftovers(box))")
        if failpoint != .afterSnapshot {
            #expect(!Self.leftovers(box).isEmpty, "the killed run left its temp object (removed next)")
        }

        let key = try box.backup()
        #expect(Self.leftovers(box).isEmpty, "the next run removed the leftovers: \(Self.leftovers(box))")
        #expect(box.storedObjects() == [key])
        let restore = try box.run("restore", "--key", key, "--verify-only")
        #expect(restore.status == 0, "\(restore.output)")
    }

    @Test("the plaintext copy a killed --vacuum backup left in .work/ is swept by any of the three executables, read-only runs included",
          arguments: [("backup", ["--status", "--db", "app.db"], Int32(3)), ("restore", ["--list"], 0), ("clean-backup", ["--check"], 0)])
    func staleSnapshotSwept(tool: String, arguments: [String], status: Int32) throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 200)
        try Self.killAt(.afterSnapshot, box, "backup", ["--db", "app.db", "--vacuum"])
        #expect(Self.leftovers(box).contains { $0.hasSuffix("/vacuumed.db") }, "\(Self.leftovers(box))")
        let run = try box.run(tool, arguments)
        #expect(run.status == status, "\(run.output)")  // --status: 3, no backup yet
        #expect(Self.leftovers(box).isEmpty, "\(tool) swept them: \(Self.leftovers(box))")
    }

    @Test("SIGKILL between the upload and the catalog insert: the object is complete, re-indexed, restorable")
    func localBackupKilledAfterUpload() throws {
        let box = try Sandbox()
        try TestDatabase.makeIncompressible(box.file("app.db"))
        try Self.killAt(.afterUpload, box, "backup", ["--db", "app.db"])
        #expect(try box.liveCatalogKeys().isEmpty)
        let orphan = box.storedObjects()
        #expect(orphan.count == 1)
        let list = try box.run("restore", "--list")
        #expect(list.status == 0 && list.stderr.contains("re-indexed 1"), "\(list.output)")
        #expect(try box.liveCatalogKeys() == orphan)
        let restore = try box.run("restore", "--key", orphan[0], "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        _ = try box.backup()
    }

    @Test("SIGKILL during a multipart S3 backup (spooling, before the upload, a part half sent, parts up but not completed): nothing visible, no row; clean-backup aborts the upload",
          arguments: [Failpoint.midUpload, Failpoint.beforeComplete, Failpoint.midPut, Failpoint.partsUploaded])
    func s3MultipartKilled(_ failpoint: Failpoint) throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        box.environment["BACKUP_S3_MULTIPART_THRESHOLD_MB"] = "5"
        box.environment["BACKUP_S3_PART_SIZE_MB"] = "5"
        try TestDatabase.makeIncompressible(box.file("app.db"))
        try Self.killAt(failpoint, box, "backup", ["--db", "app.db"])
        #expect(try box.peerKeys().isEmpty, "no object is visible")
        #expect(try box.liveCatalogKeys().isEmpty)
        let uploads = try box.peerUploads()
        if [.midPut, .partsUploaded].contains(failpoint) {
            #expect(uploads.count == 1 && uploads[0].hasPrefix(box.prefix + "app.db-"), "the unfinished upload is under the final key: \(uploads)")
        } else {
            #expect(uploads.isEmpty, "nothing reaches the bucket before the spool is complete")
        }
        #expect(Self.leftovers(box).contains { $0.hasPrefix(".work/") }, "the killed run left its work folder (spool)")
        let clean = try box.run("clean-backup", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(try box.peerUploads().isEmpty)
        let key = try box.backup()
        #expect(try box.peerKeys() == [key])
        #expect(Self.leftovers(box).isEmpty, "the next run removed the spool")
    }

    @Test("SIGKILL during a single-PUT S3 backup (before the PUT, and with its body half sent): nothing visible, no row",
          arguments: [Failpoint.beforeComplete, Failpoint.midPut])
    func s3SinglePutKilled(_ failpoint: Failpoint) throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 20_000)
        try Self.killAt(failpoint, box, "backup", ["--db", "app.db"])
        #expect(try box.peerKeys().isEmpty, "no object is visible")
        #expect(try box.liveCatalogKeys().isEmpty)
        #expect(try box.peerUploads().isEmpty, "a single PUT leaves no upload")
        #expect(Self.leftovers(box).contains { $0.hasPrefix(".work/") }, "the killed run left its snapshot (removed next)")
        let key = try box.backup()
        #expect(try box.peerKeys() == [key])
        #expect(Self.leftovers(box).isEmpty)
        #expect(try box.run("restore", "--key", key, "--verify-only").status == 0)
    }

    @Test("SIGKILL between an S3 upload and the catalog insert: re-indexed by restore --list")
    func s3KilledAfterUpload() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 2000)
        try Self.killAt(.afterUpload, box, "backup", ["--db", "app.db"])
        let keys = try box.peerKeys()
        #expect(keys.count == 1)
        let list = try box.run("restore", "--list")
        #expect(list.stderr.contains("re-indexed 1"), "\(list.output)")
        #expect(try box.liveCatalogKeys() == keys)
    }

    @Test("SIGKILL during a restore to a file: the output path is never created; the next restore cleans up",
          arguments: [Failpoint.midRestore, Failpoint.beforePlace])
    func restoreKilled(_ failpoint: Failpoint) throws {
        let box = try Sandbox()
        try TestDatabase.makeIncompressible(box.file("app.db"))
        let key = try box.backup()
        try Self.killAt(failpoint, box, "restore", ["--key", key, "--out", "r.db"])
        #expect(!FileManager.default.fileExists(atPath: box.file("r.db")))
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 0, "\(run.output)")
        #expect(box.dir.allFiles().filter { $0.hasPrefix(".r.db.tmp-") }.isEmpty, "the killed restore's temp file was removed")
    }

    @Test("SIGKILL during restore --target: the target database is untouched",
          arguments: [Failpoint.midRestore, Failpoint.beforePlace])
    func restoreTargetKilled(_ failpoint: Failpoint) throws {
        let box = try Sandbox()
        try TestDatabase.makeIncompressible(box.file("app.db"))
        let key = try box.backup()
        let db = try SQLiteConnection(path: box.file("app.db"), mode: .readWrite)
        try db.execute("INSERT INTO blobs SELECT id + 10000, data FROM blobs WHERE id <= 100")
        func contents() throws -> [[SQLiteValue]] {
            try SQLiteConnection(path: box.file("app.db"), mode: .readOnly).query("SELECT id, data FROM blobs ORDER BY id")
        }
        let before = try contents()
        try Self.killAt(failpoint, box, "restore", ["--key", key, "--target", "app.db", "--yes"])
        #expect(try contents() == before)
        #expect(try SQLiteConnection(path: box.file("app.db"), mode: .readWrite).integrityProblems(quick: false) == nil)
    }

    @Test("SIGKILL during an incremental backup: after its pack, nothing new is listed and clean removes the orphan pack; after its manifest, it is re-indexed, restores, and its packs stay",
          arguments: [Failpoint.afterPacks, Failpoint.afterUpload])
    func incrementalBackupKilled(_ failpoint: Failpoint) throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 3000)
        #expect(try box.run("backup", "--db", "app.db", "--incremental").status == 0)
        try TestDatabase.insert(db, from: 3001, count: 300)
        try Self.killAt(failpoint, box, "backup", ["--db", "app.db", "--incremental"])
        let packs = { box.dir.allFiles(under: "backups").filter { ObjectKey.isPack($0) } }
        #expect(packs().count == 2, "the killed run stored its pack")
        #expect(try box.liveCatalogKeys().count == 1, "no row for the killed run")
        let list = try box.run("restore", "--list", "--json")
        let listed = ((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])?["backups"] as? [Any])?.count
        #expect(listed == (failpoint == .afterPacks ? 1 : 2), "\(list.output)")

        let newest = try box.run("restore", "--out", "r.db")
        #expect(newest.status == 0, "\(newest.output)")
        #expect(try TestDatabase.count(box.file("r.db")) == (failpoint == .afterPacks ? 3000 : 3300))
        let clean = try box.run("clean-backup", "--keep-last", "10", "--json", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"])
        #expect(clean.status == 0, "\(clean.output)")
        let deleted = ((try JSONSerialization.jsonObject(with: Data(clean.stdout.utf8)) as? [String: Any])?["packs_deleted"] as? [Any])?.count
        #expect(deleted == (failpoint == .afterPacks ? 1 : 0), "\(clean.stdout)")
        #expect(try box.run("restore", "--verify-only").status == 0)
        #expect(try box.run("backup", "--db", "app.db", "--incremental").status == 0)
    }

    @Test("SIGKILL in the middle of an incremental S3 backup (a pack part half sent, every part sent, the pack stored): the earlier backup stays the newest and restores, clean removes what the run left, the next backup works",
          arguments: [Failpoint.midPut, Failpoint.partsUploaded, Failpoint.afterPacks])
    func s3IncrementalKilled(_ failpoint: Failpoint) throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        box.environment["BACKUP_S3_MULTIPART_THRESHOLD_MB"] = "5"
        box.environment["BACKUP_S3_PART_SIZE_MB"] = "5"
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 1000)
        #expect(try box.run("backup", "--db", "app.db", "--incremental").status == 0)
        let before = try TestDatabase.blobs(box.file("app.db"))
        let db = try SQLiteConnection(path: box.file("app.db"), mode: .readWrite)
        try db.execute("INSERT INTO blobs SELECT id + 1000, randomblob(4096) FROM blobs; INSERT INTO blobs SELECT id + 2000, randomblob(4096) FROM blobs WHERE id <= 1000")
        try Self.killAt(failpoint, box, "backup", ["--db", "app.db", "--incremental"])
        let packs = { try box.peerKeys().filter { ObjectKey.isPack($0) } }
        #expect(try packs().count == (failpoint == .afterPacks ? 2 : 1), "only a completed pack is visible")
        #expect(try box.peerUploads().count == (failpoint == .afterPacks ? 0 : 1), "the pack's unfinished upload")

        let restored = try box.run("restore", "--out", "r.db")
        #expect(restored.status == 0, "\(restored.output)")
        #expect(try TestDatabase.blobs(box.file("r.db")) == before, "the newest backup is still the one before the kill")
        let clean = try box.run("clean-backup", "--keep-last", "10", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(try box.peerUploads().isEmpty)
        #expect(try packs().count == 1, "the killed run's pack is gone")
        #expect(try box.run("clean-backup", "--check").status == 0)

        #expect(try box.run("backup", "--db", "app.db", "--incremental").status == 0)
        let next = try box.run("restore", "--out", "next.db")
        #expect(next.status == 0, "\(next.output)")
        #expect(try TestDatabase.blobs(box.file("next.db")) == TestDatabase.blobs(box.file("app.db")))
    }
}
