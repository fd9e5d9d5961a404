import Foundation
import Testing
@testable import BackupKit

/// Backups that can't be turned against themselves: an attacker who can write the folder or
/// bucket, but holds no key, forges, re-dates and renames objects. Nothing real is deleted,
/// nothing stale or foreign restores with exit 0, no backup is skipped. Each case runs on the
/// local folder and on SeaweedFS.
struct TrustTests {
    func sandbox(_ s3: Bool, _ label: String = #function) throws -> (Sandbox, Attacker) {
        let box = s3 ? try Sandbox(s3: S3TestServer.seaweed, label) : try Sandbox(label)
        return (box, Attacker(box: box, s3: s3))
    }

    func json(_ run: ToolRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.output)")
    }

    /// Three real backups, a row each apart in content; the newest first.
    func threeBackups(_ box: Sandbox) throws -> [String] {
        let db = try TestDatabase.make(box.file("app.db"), rows: 50)
        var keys: [String] = []
        for round in 0..<3 {
            if round > 0 { try TestDatabase.insert(db, from: 1000 * round, count: 3) }
            keys.append(try box.backup())
        }
        return keys.reversed()
    }

    @Test("one junk object dated 2099 deletes nothing real: clean keeps the real newest, warns, and --check exits 65 naming it",
          arguments: [false, true])
    func junkObject(s3: Bool) throws {
        let (box, attacker) = try sandbox(s3)
        let keys = try threeBackups(box)
        let junk = attacker.key("app.db-20991231T235959Z-\(UUID().uuidString.lowercased()).db.gz.enc")
        try attacker.write(junk, body: Data("junk\n".utf8), metadata: ["created-at": "4102444799000", "db-name": "app.db"],
                           modified: Date(timeIntervalSince1970: 4_102_444_799))
        let clean = try box.run("clean-backup", "--keep-last", "1", "--json")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(try attacker.storedKeys() == [keys[0], junk], "the real newest and the junk stay")
        #expect(clean.stderr.contains("not deleting or counting \(junk)"), "\(clean.stderr)")
        #expect((try json(clean))["unauthenticated"] as? [String] == [junk])
        let restore = try box.run("restore", "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
        let check = try box.run("clean-backup", "--check")
        #expect(check.status == 65 && check.stderr.contains(junk), "\(check.output)")
        let list = try box.run("restore", "--list")
        #expect(list.stdout.contains("\(junk)  (UNAUTHENTICATED"), "\(list.stdout)")
    }

    @Test("re-dated to 1970 with the catalog lost: the default 30 days delete nothing, and re-indexing never records the forged date",
          arguments: [false, true])
    func redated(s3: Bool) throws {
        let (box, attacker) = try sandbox(s3)
        let keys = try threeBackups(box)
        for key in keys.prefix(2) { try attacker.copy(key, to: key) { $0["created-at"] = "1000" } }
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let clean = try box.run("clean-backup", "--json")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(try attacker.storedKeys() == Set(keys))
        #expect((try json(clean))["deleted"] as? [String] == [])
        let rows = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false).records()
        #expect(rows.map(\.objectKey) == [keys[2]], "only the untouched backup is re-indexed: \(rows.map(\.objectKey))")
        #expect(rows.allSatisfy { $0.uploadedAt > 1_000_000 })
        // The newest restorable is the one whose record still verifies.
        let restore = try box.run("restore", "--verify-only", "--json")
        let restored = try json(restore)
        #expect(restore.status == 0 && restored["key"] as? String == keys[2], "\(restore.output)")
    }

    @Test("an old backup copied under a newer name, or another database's under this one's, never restores with exit 0",
          arguments: [false, true])
    func rollbackAndForeign(s3: Bool) throws {
        let (box, attacker) = try sandbox(s3)
        let keys = try threeBackups(box)
        try TestDatabase.make(box.file("other.db"), rows: 7, seed: 9)
        let foreign = try box.backup("other.db")
        let newer = attacker.key("app.db-20991231T000000Z-\(UUID().uuidString.lowercased()).db.gz.enc")
        try attacker.copy(keys[2], to: newer) { $0["created-at"] = "4102358400000" }
        let alien = attacker.key("app.db-20991231T000001Z-\(UUID().uuidString.lowercased()).db.gz.enc")
        try attacker.copy(foreign, to: alien) { $0["db-name"] = "app.db"; $0["created-at"] = "4102358401000" }

        let verify = try box.run("restore", "--db", "app.db", "--verify-only", "--json")
        let verified = try json(verify)
        #expect(verify.status == 0 && verified["key"] as? String == keys[0], "\(verify.output)")
        let restore = try box.run("restore", "--db", "app.db", "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
        for forged in [newer, alien] {
            let byKey = try box.run("restore", "--key", forged, "--out", "forged.db")
            #expect(byKey.status == 65 && byKey.stderr.contains("MAC does not verify"), "\(byKey.output)")
            #expect(!FileManager.default.fileExists(atPath: box.file("forged.db")))
        }
        let clean = try box.run("clean-backup", "--db", "app.db", "--keep-last", "1")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(try attacker.storedKeys() == [keys[0], foreign, newer, alien])
    }

    @Test("a future-dated junk object never makes backup skip under BACKUP_MIN_INTERVAL, nor --status look fresh",
          arguments: [false, true])
    func skippingForever(s3: Bool) throws {
        let (box, attacker) = try sandbox(s3)
        try TestDatabase.make(box.file("app.db"), rows: 20)
        let real = try box.backup()
        try box.backdate(real, daysAgo: 2)
        let junk = attacker.key("app.db-20991231T235959Z-\(UUID().uuidString.lowercased()).db.gz.enc")
        try attacker.write(junk, body: Data("x".utf8), metadata: ["created-at": "4102444799000"],
                           modified: Date(timeIntervalSince1970: 4_102_444_799))
        let run = try box.run("backup", "--db", "app.db", env: ["BACKUP_MIN_INTERVAL": "23h"])
        #expect(run.status == 0 && !run.stderr.contains("skipped"), "\(run.output)")
        #expect(try attacker.storedKeys().count == 3)
        let newest = try #require(run.stdoutLines.last)
        try box.backdate(newest, daysAgo: 1)
        let status = try box.run("backup", "--status", "--db", "app.db", env: ["BACKUP_MAX_AGE": "1h"])
        #expect(status.status == 3 && status.stderr.contains("older than BACKUP_MAX_AGE"), "\(status.output)")
        #expect(status.stdout.contains("unauthenticated"), "\(status.stdout)")
    }

    @Test("clean never deletes what a running incremental backup reuses or builds on (the pack lock), and a backup never stores a manifest naming a pack deleted meanwhile")
    func cleanRacingIncremental() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 400)
        let base = try box.backup("app.db", "--incremental")
        _ = try box.backup()  // a full backup in between: retention keeps it as the newest
        try TestDatabase.insert(db, from: 10_000, count: 5)
        let paused = try PausedRun(box, "backup", ["--db", "app.db", "--incremental"], at: .afterPacks)
        let clean = try box.run("clean-backup", ["--keep-last", "1", "--json"], env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"])
        #expect(clean.status == 0, "\(clean.output)")
        let cleaned = try json(clean)
        #expect((cleaned["deleted"] as? [String])?.contains(base) == false, "the manifest the running backup builds on stays: \(cleaned)")
        #expect(cleaned["packs_deleted"] as? [String] == [], "the running backup's packs stay: \(cleaned)")
        let finished = try paused.resume()
        let key = finished.stdoutLines.last ?? ""
        #expect(finished.status == 0, "\(finished.output)")
        // With the backup done, the next clean deletes nothing the new delta needs.
        let after = try json(try box.run("clean-backup", ["--keep-last", "1", "--json"], env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"]))
        #expect((after["deleted"] as? [String])?.contains(base) == false, "the kept \(key) builds on it: \(after)")
        let restore = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
    }

    @Test("on S3, a clean on another machine deleting a reused pack mid-backup: the backup fails with 75 and stores no manifest")
    func cleanElsewhereRacingIncremental() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        let db = try TestDatabase.make(box.file("app.db"), rows: 400)
        let base = try box.backup("app.db", "--incremental")
        _ = try box.backup()
        try TestDatabase.insert(db, from: 10_000, count: 5)
        let paused = try PausedRun(box, "backup", ["--db", "app.db", "--incremental"], at: .afterPacks)
        // Another machine: its own local folder, so its own locks and catalog.
        try FileManager.default.createDirectory(atPath: box.file("elsewhere"), withIntermediateDirectories: true)
        let clean = try box.run("clean-backup", ["--keep-last", "1", "--json"],
                                env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0", "BACKUP_LOCAL_DIR": box.file("elsewhere")])
        #expect(clean.status == 0, "\(clean.output)")
        // The base is the newest incremental backup, which clean keeps (a backup may be building
        // on it), with its pack; the paused backup's own new pack is unnamed yet and past the
        // grace period (0 here), so that one goes.
        let deletedPacks = (try json(clean))["packs_deleted"] as? [String]
        #expect(deletedPacks?.count == 1, "\(clean.output)")
        let before = try box.peerKeys().filter(ObjectKey.isManifest)
        let finished = try paused.resume()
        #expect(finished.status == 75 && finished.stderr.contains("was deleted while it ran"), "\(finished.output)")
        #expect(try box.peerKeys().filter(ObjectKey.isManifest) == before, "no manifest naming the missing pack")
        #expect(before.contains(base))
        let next = try box.run("backup", "--db", "app.db", "--incremental")
        #expect(next.status == 0, "\(next.output)")
        #expect(try box.run("restore", "--out", "r.db").status == 0)
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
    }

    @Test("a Laju-written object (no MAC) is listed as unauthenticated, restores by --key, and comes under retention by --adopt")
    func adoptLajuObject() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 300, wal: false)
        let real = try box.backup()
        let key = "app.db-2025-01-10T23:33-\(UUID().uuidString.lowercased()).db.gz.enc"
        let object = box.file("backups/" + key)
        let made = try Tool.python("laju_format.py", ["encrypt", box.keyText, box.file("app.db"), object], in: box.path)
        #expect(made.status == 0, "\(made.output)")
        try made.stdout.write(toFile: object + ".meta.json", atomically: true, encoding: .utf8)
        let list = try json(try box.run("restore", "--list", "--json"))
        let items = (list["backups"] as? [[String: Any]]) ?? []
        #expect(items.first { $0["key"] as? String == key }?["authenticated"] as? Bool == false, "\(items)")
        #expect(try box.run("restore", "--key", key, "--out", "laju.db").status == 0)
        #expect(try box.run("clean-backup", "--keep-last", "1").status == 0)
        #expect(Set(box.storedObjects()) == [real, key], "unauthenticated: never deleted")
        let adopt = try box.run("clean-backup", "--adopt", "all")
        #expect(adopt.status == 0 && adopt.stderr.contains("adopted \(key)"), "\(adopt.output)")
        #expect(!adopt.stderr.contains("adopted \(real)"), "only what did not verify: \(adopt.output)")
        let clean = try json(try box.run("clean-backup", "--keep-last", "1", "--json"))
        #expect(clean["deleted"] as? [String] == [key], "adopted, it is ranked by its time (2025): \(clean)")
    }

    @Test("a symbolic link planted as the lock file is refused; the file it points to is untouched")
    func lockSymlink() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 10)
        _ = try box.backup()
        let locks = box.file("backups/.locks")
        let victim = box.file("victim.txt")
        try "precious\n".write(toFile: victim, atomically: true, encoding: .utf8)
        for name in try FileManager.default.contentsOfDirectory(atPath: locks) where name.hasPrefix("app.db") {
            try FileManager.default.removeItem(atPath: locks + "/" + name)
            try FileManager.default.createSymbolicLink(atPath: locks + "/" + name, withDestinationPath: victim)
        }
        let run = try box.run("backup", "--db", "app.db")
        #expect(run.status == 73 && run.stderr.contains("symbolic link"), "\(run.output)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        // The lock folder itself as a link to another folder: refused too, nothing made there.
        let elsewhere = box.file("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.removeItem(atPath: locks)
        try FileManager.default.createSymbolicLink(atPath: locks, withDestinationPath: elsewhere)
        let linked = try box.run("backup", "--db", "app.db")
        #expect(linked.status == 73 && linked.stderr.contains("symbolic link"), "\(linked.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    @Test("absurd numbers in settings and the catalog are one-line errors (78) or ignored, never a trap")
    func absurdNumbers() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let key = try box.backup()
        for value in ["1e30", "inf", "nan", "99999999999999999999d", "-5h", "101y", "4000000000"] {
            let run = try box.run("backup", ["--db", "app.db"], env: ["BACKUP_MIN_INTERVAL": value])
            #expect(run.status == 78 && run.stderr.contains("BACKUP_MIN_INTERVAL=\(value) is not a duration"), "\(value): \(run.output)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
        let status = try box.run("backup", ["--status", "--db", "app.db", "--json"], env: ["BACKUP_MAX_AGE": "inf"])
        #expect(status.status == 78, "\(status.output)")
        let report = try json(status)
        #expect(report["ok"] as? Bool == false && "\(report["problems"] ?? "")".contains("BACKUP_MAX_AGE"), "\(report)")

        let catalog = try SQLiteConnection(path: box.file("backups/catalog.sqlite"), mode: .readWrite)
        try catalog.run("UPDATE backup_files SET uploaded_at = 1e300 WHERE key = ?", [.text(key)])
        for (tool, arguments) in [("restore", ["--list"]), ("clean-backup", ["--dry-run"]), ("backup", ["--status", "--db", "app.db"])] {
            let run = try box.run(tool, arguments)
            #expect(run.status == 0, "\(tool) \(arguments): \(run.output)")
        }
        _ = try box.backup()
        try catalog.run("UPDATE backup_files SET uploaded_at = 'soon' WHERE key = ?", [.text(key)])
        let dry = try box.run("clean-backup", "--dry-run", "--keep-days", "1")
        #expect(dry.status == 0 && dry.stderr.contains("would delete 0, kept 2"), "a text time is no reason to delete: \(dry.output)")
        #expect(Int64.max.saturatingAdd(Int64(1) << 62) == .max && Int64(clamping: 1e300) == nil && Int64(clamping: 12.7) == 12)
        #expect(Formatting.shortDuration(1e300).hasSuffix(" h"))
    }

    @Test("a file that appears at --out (or --sql) while the restore runs is never replaced without --overwrite", arguments: ["--out", "--sql"])
    func outputAppearsMeanwhile(flag: String) throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 50)
        _ = try box.backup()
        let paused = try PausedRun(box, "restore", [flag, "mine.out"], at: .beforePlace)
        try "mine\n".write(toFile: box.file("mine.out"), atomically: true, encoding: .utf8)
        let finished = try paused.resume()
        #expect(finished.status == 73 && finished.stderr.contains("exists already"), "\(finished.output)")
        #expect(try String(contentsOfFile: box.file("mine.out"), encoding: .utf8) == "mine\n")
        #expect(!box.dir.allFiles().contains { $0.contains(".tmp-") }, "\(box.dir.allFiles())")
    }

    @Test("after a key rotation, a retired key verifies the backups it made: they stay chosen, counted and cleaned by the rules")
    func retiredKeyVerifies() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 40)
        let old = try box.backup()
        let newKey = try EncryptionKey.generateBase64()
        let rotated = ["BACKUP_ENCRYPTION_KEY_FILE": "", "BACKUP_ENCRYPTION_KEY": newKey, "BACKUP_DECRYPTION_KEYS": box.keyText]
        let list = try json(try box.run("restore", ["--list", "--json"], env: rotated))
        #expect(((list["backups"] as? [[String: Any]]) ?? []).first?["authenticated"] as? Bool == true, "\(list)")
        let verify = try box.run("restore", ["--verify-only"], env: rotated)
        #expect(verify.status == 0, "\(verify.output)")
        let newer = try box.run("backup", ["--db", "app.db"], env: rotated)
        #expect(newer.status == 0)
        let clean = try json(try box.run("clean-backup", ["--keep-last", "1", "--json"], env: rotated))
        #expect(clean["deleted"] as? [String] == [old] && (clean["unauthenticated"] as? [String]) == [], "\(clean)")
        let without = try json(try box.run("clean-backup", ["--check", "--json"], env: ["BACKUP_ENCRYPTION_KEY_FILE": "", "BACKUP_ENCRYPTION_KEY": try EncryptionKey.generateBase64()]))
        #expect((without["unauthenticated"] as? [[String: Any]])?.count == 1, "a key that made none of them verifies none: \(without)")
    }

    @Test("a newer backup of the same name copied from another store under the same key decides nothing here: no skip, no fresh status, no deletion, no foreign restore")
    func copyFromAnotherStore() throws {
        let (box, _) = try sandbox(false)
        try TestDatabase.make(box.file("app.db"), rows: 40)
        let real = try box.backup()
        try box.backdate(real, daysAgo: 2)
        let second = try box.backup()
        try box.backdate(second, daysAgo: 1)
        // Another store (staging, say) with the same key and a database of the same name.
        let other = try Sandbox()
        try (box.keyText + "\n").write(toFile: other.file("backup.key"), atomically: true, encoding: .utf8)
        try TestDatabase.make(other.file("app.db"), rows: 7, seed: 9)
        let foreign = try other.backup()
        for suffix in ["", ".meta.json"] {
            try FileManager.default.copyItem(atPath: other.file("backups/" + foreign + suffix), toPath: box.file("backups/" + foreign + suffix))
        }
        let status = try box.run("backup", ["--status", "--db", "app.db"], env: ["BACKUP_MAX_AGE": "1h"])
        #expect(status.status == 3 && status.stderr.contains("older than BACKUP_MAX_AGE"), "\(status.output)")
        let run = try box.run("backup", ["--db", "app.db"], env: ["BACKUP_MIN_INTERVAL": "23h"])
        #expect(run.status == 0 && !run.stderr.contains("skipped"), "\(run.output)")
        let newest = try #require(run.stdoutLines.last)
        let restore = try box.run("restore", "--db", "app.db", "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
        let clean = try box.run("clean-backup", "--db", "app.db", "--keep-last", "1", "--json")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(Set(box.storedObjects()) == [newest, foreign], "this database keeps its newest; the copy is ranked on its own")
    }

    @Test("hostile files in the store: a 9 GiB sparse sidecar, control characters in a name, a catalog with a view, a trigger or a symbolic link")
    func hostileStoreFiles() throws {
        let (box, _) = try sandbox(false)
        try TestDatabase.make(box.file("app.db"), rows: 20)
        let real = try box.backup()
        let sparse = box.file("backups/zzz-20261203T150000Z-11111111-1111-4111-8111-111111111111.db.gz.enc")
        try "x\n".write(toFile: sparse, atomically: true, encoding: .utf8)
        #expect(FileManager.default.createFile(atPath: sparse + ".meta.json", contents: Data()))
        #expect(truncate(sparse + ".meta.json", 9 << 30) == 0)
        let forged = "evil\n2026-12-03T14:31:00.000Z INFO clean-backup: deleted 0\u{1B}[2K-20261203T150000Z-22222222-2222-4222-8222-222222222222.db.gz.enc"
        try "y".write(toFile: box.file("backups/" + forged), atomically: true, encoding: .utf8)
        for (tool, arguments) in [("clean-backup", ["--keep-last", "1"]), ("restore", ["--list"]), ("backup", ["--db", "app.db", "--force"])] {
            let run = try box.run(tool, arguments, env: ["BACKUP_MIN_INTERVAL": "23h"])
            #expect(run.status == 0, "\(tool): \(run.status) \(run.stderr.suffix(400))")
            #expect(!run.output.contains("\u{1B}") && !run.output.contains("\nevil") && !run.output.contains("\n2026-12-03T14:31:00.000Z INFO"), "\(tool): \(run.output)")
        }
        let catalogPath = box.file("backups/catalog.sqlite")
        for hostile in ["CREATE VIEW backup_files_view AS SELECT 1; CREATE TRIGGER t AFTER INSERT ON backup_files BEGIN SELECT 1; END;",
                        "ALTER TABLE backup_files RENAME TO real_files; CREATE VIEW backup_files AS SELECT * FROM real_files;"] {
            try FileManager.default.removeItem(atPath: catalogPath)
            #expect(try box.run("restore", "--list").status == 0)  // rebuilt
            let catalog = try SQLiteConnection(path: catalogPath, mode: .readWrite)
            try catalog.execute(hostile)
            for (tool, arguments) in [("backup", ["--db", "app.db", "--force"]), ("clean-backup", ["--keep-last", "1"])] {
                let run = try box.run(tool, arguments)
                #expect(run.status == 78 && run.stderr.contains("which it never makes"), "\(tool): \(run.output)")
            }
        }
        try FileManager.default.removeItem(atPath: catalogPath)
        let victim = box.file("victim.db")
        try TestDatabase.make(victim, rows: 3)
        try FileManager.default.createSymbolicLink(atPath: catalogPath, withDestinationPath: victim)
        let linked = try box.run("backup", "--db", "app.db", "--force")
        #expect(linked.status == 78 && linked.stderr.contains("symbolic link"), "\(linked.output)")
        let tables = try SQLiteConnection(path: victim, mode: .readOnly).query("SELECT name FROM sqlite_master WHERE name LIKE 'backup%'")
        #expect(tables.isEmpty, "nothing written into the file the link points to")
        _ = real
    }

    @Test("restoring the newest says so when an object claiming to be newer does not verify")
    func newerUnverifiedIsSaid() throws {
        let (box, attacker) = try sandbox(false)
        let keys = try threeBackups(box)
        try attacker.copy(keys[0], to: keys[0]) { $0["mac"] = String(repeating: "0", count: 64) }
        let catalog = try SQLiteConnection(path: box.file("backups/catalog.sqlite"), mode: .readWrite)
        try catalog.run("UPDATE backup_files SET metadata = NULL WHERE key = ?", [.text(keys[0])])
        let restore = try box.run("restore", "--verify-only", "--json")
        #expect(restore.status == 0 && restore.stderr.contains("\(keys[0]) claims to be newer than \(keys[1])"), "\(restore.output)")
    }

    @Test("a pack rewritten in place to the same size is never reused: the next incremental backup stores its blocks again and restores; --check names the damage",
          arguments: [false, true])
    func packRewrittenInPlace(s3: Bool) throws {
        let (box, attacker) = try sandbox(s3)
        let db = try TestDatabase.make(box.file("app.db"), rows: 300)
        let base = try box.backup("app.db", "--incremental")
        let pack = try #require(try (s3 ? box.peerKeys() : box.dir.allFiles(under: "backups")).first(where: ObjectKey.isPack))
        var (body, metadata) = try attacker.read(pack)
        body[body.count / 2] ^= 0xFF
        try attacker.write(pack, body: body, metadata: metadata)
        let check = try box.run("clean-backup", "--check")
        #expect(check.status == 65 && check.stderr.contains("rewritten in place") && check.stderr.contains(base), "\(check.output)")
        try TestDatabase.insert(db, from: 7000, count: 2)
        let next = try box.run("backup", "--db", "app.db", "--incremental")
        #expect(next.status == 0 && next.stderr.contains("rewritten"), "\(next.output)")
        let key = try #require(next.stdoutLines.last)
        let restore = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
        metadata.removeAll()
    }
}
