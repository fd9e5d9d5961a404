import Foundation
import Testing
@testable import BackupKit

/// Incremental backups through the executables: a manifest and at most one new pack per
/// backup, every backup restorable on its own by every restore mode, packs deleted only
/// when no kept backup uses them, and damage reported as such.
struct IncrementalTests {
    func json(_ run: ToolRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.output)")
    }

    /// Runs `backup --incremental --json` and returns its JSON.
    func incremental(_ box: Sandbox, _ database: String = "app.db", env: [String: String] = [:]) throws -> [String: Any] {
        let run = try box.run("backup", ["--db", database, "--incremental", "--json"], env: env)
        #expect(run.status == 0, "\(run.output)")
        return try json(run)
    }

    /// Appends `count` rows and rewrites the body of every `every`-th existing row.
    func change(_ db: SQLiteConnection, appendFrom first: Int, count: Int, updateEvery every: Int) throws {
        try TestDatabase.insert(db, from: first, count: count, seed: 7)
        try db.run("UPDATE items SET body = 'changed ' || id WHERE id % ? = 0 AND id < ?", [.integer(Int64(every)), .integer(Int64(first))])
    }

    @Test("only what changed is stored, and every incremental backup restores on its own with every restore mode")
    func storesWhatChanged() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 20_000)
        let first = try incremental(box)
        let firstRows = try TestDatabase.rows(box.file("app.db"))
        #expect(first["incremental"] as? Bool == true && first["objects_written"] as? Int == 2)
        #expect((first["reused_blocks"] as? Int) == 0 && (first["new_blocks"] as? Int ?? 0) > 100)
        let firstKey = try #require(first["key"] as? String)
        #expect(firstKey.hasSuffix(".db.inc.enc"))
        // The base stores its blocks in frames of runs: close to a full backup of the same database.
        let whole = try json(try box.run("backup", "--db", "app.db", "--json"))
        let wholeKey = try #require(whole["key"] as? String)
        let baseBytes = try #require(first["uploaded_bytes"] as? Int), wholeBytes = try #require(whole["stored_size"] as? Int)
        #expect(Double(baseBytes) <= 1.1 * Double(wholeBytes), "base \(baseBytes) bytes against a full backup's \(wholeBytes)")

        try change(db, appendFrom: 20_001, count: 200, updateEvery: 1000)
        let second = try incremental(box)
        let secondKey = try #require(second["key"] as? String)
        let firstBytes = try #require(first["uploaded_bytes"] as? Int), secondBytes = try #require(second["uploaded_bytes"] as? Int)
        #expect(secondBytes * 2 < firstBytes, "the second backup stored \(secondBytes) bytes against \(firstBytes)")
        #expect((second["reused_blocks"] as? Int ?? 0) > (second["new_blocks"] as? Int ?? 0))

        // Each restores alone, by key and as the newest, to a file, as SQL, verified, into a live target.
        let byKey = try box.run("restore", "--key", firstKey, "--out", "first.db")
        #expect(byKey.status == 0, "\(byKey.output)")
        #expect(try TestDatabase.rows(box.file("first.db")) == firstRows)
        let newest = try box.run("restore", "--out", "newest.db")
        #expect(newest.status == 0, "\(newest.output)")
        #expect(try TestDatabase.rows(box.file("newest.db")) == TestDatabase.rows(box.file("app.db")))
        #expect(try box.run("restore", "--verify-only", "--key", secondKey).status == 0)
        let sql = try box.run("restore", "--sql", "dump.sql")
        #expect(sql.status == 0, "\(sql.output)")
        let dump = try String(contentsOfFile: box.file("dump.sql"), encoding: .utf8)
        #expect(dump.contains("changed 1000"))
        try FileManager.default.copyItem(atPath: box.file("app.db"), toPath: box.file("live.db"))
        let target = try box.run("restore", "--key", firstKey, "--target", "live.db", "--yes")
        #expect(target.status == 0, "\(target.output)")
        #expect(try TestDatabase.rows(box.file("live.db")) == firstRows)

        // Listed with full backups under one prefix; metadata and catalog say what each is.
        let full = try box.backup()
        let listed = try json(try box.run("restore", "--list", "--json"))
        let keys = (listed["backups"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        #expect(Set(keys) == [firstKey, secondKey, full, wholeKey])
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: box.file("backups/" + secondKey + ".meta.json")))) as! [String: String]
        #expect(sidecar["kind"] == "incremental" && sidecar["iv"] != nil && sidecar["tag"] != nil)
        let catalog = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false)
        #expect(try catalog.record(forObjectKey: secondKey)?.kind == "incremental")
        #expect(try catalog.record(forObjectKey: full)?.kind == nil)
        #expect(try catalog.packReferences()[secondKey]?.count == 2, "the second backup uses the first pack and its own")
    }

    @Test("where the database changes next, a frame most of whose blocks changed is stored again whole, holes included, once; an unchanged database stores a manifest alone; every backup restores")
    func sparseFramesAreRewritten() throws {
        let box = try Sandbox()
        // One row a page (3000 random bytes in 4 KiB pages): rows 200-215 fill about 16 pages in a row.
        let db = try SQLiteConnection(path: box.file("app.db"), mode: .readWriteCreate)
        try db.execute("PRAGMA journal_mode=WAL; CREATE TABLE pages(id INTEGER PRIMARY KEY, data BLOB)")
        try db.execute("BEGIN")
        for i in 1...1000 { _ = try db.run("INSERT INTO pages VALUES (?, randomblob(3000))", [.integer(Int64(i))]) }
        try db.execute("COMMIT")
        func rows() throws -> [[SQLiteValue]] { try SQLiteConnection(path: box.file("app.db"), mode: .readOnly).query("SELECT id, data FROM pages ORDER BY id") }
        var backups: [(key: String, rows: [[SQLiteValue]])] = []
        func backup(verbose: Bool = false) throws -> (json: [String: Any], stderr: String) {
            let run = try box.run("backup", ["--db", "app.db", "--incremental", "--json"] + (verbose ? ["-v"] : []), env: [:])
            #expect(run.status == 0, "\(run.output)")
            let result = try json(run)
            backups.append((try #require(result["key"] as? String), try rows()))
            return (result, run.stderr)
        }
        #expect((try backup().json["rewritten_blocks"] as? Int) == 0)

        // 12 pages in a row change in place: whichever frames they fall in, one loses at least 6 of its 16 blocks.
        _ = try db.run("UPDATE pages SET data = randomblob(3000) WHERE id BETWEEN 200 AND 211")
        let changed = try backup().json
        #expect((changed["rewritten_blocks"] as? Int) == 0)
        #expect((changed["new_blocks"] as? Int ?? 0) >= 12 && (changed["new_blocks"] as? Int ?? 0) < 40, "\(changed)")
        // Nothing changed since: nothing is stored, however sparse a frame or thin a pack.
        let idle = try backup().json
        #expect((idle["rewritten_blocks"] as? Int) == 0 && (idle["objects_written"] as? Int) == 1, "\(idle)")
        #expect((idle["uploaded_bytes"] as? Int ?? .max) < 4096, "\(idle)")

        // A page of the same stretch of the database changes: the sparse frame's span goes again.
        _ = try db.run("UPDATE pages SET data = randomblob(3000) WHERE id = 150")
        let (rewrite, log) = try backup(verbose: true)
        let rewritten = try #require(rewrite["rewritten_blocks"] as? Int)
        #expect(rewritten >= 16 && rewritten <= 64, "\(rewritten) blocks stored again")
        #expect(log.contains("storing again the spans of"), "\(log)")
        // The span is one whole frame now: the next change stores itself alone.
        _ = try db.run("UPDATE pages SET data = randomblob(3000) WHERE id = 160")
        let after = try backup().json
        #expect((after["rewritten_blocks"] as? Int) == 0 && (after["new_blocks"] as? Int ?? 0) <= 4, "\(after)")

        for (n, backup) in backups.enumerated() {
            let restore = try box.run("restore", "--key", backup.key, "--out", "out-\(n).db")
            #expect(restore.status == 0, "\(restore.output)")
            #expect(try SQLiteConnection(path: box.file("out-\(n).db"), mode: .readOnly).query("SELECT id, data FROM pages ORDER BY id") == backup.rows)
        }
    }

    @Test("quick_check: run on the base; skipped for an unchanged snapshot and for a delta within BACKUP_CHECK_INTERVAL of the chain's check; run once that is due, on every whole manifest, and with 0 on every backup; a page scribbled over then fails with 65")
    func quickCheckRule() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 20_000, wal: false)
        func verbose(_ env: [String: String] = [:]) throws -> (run: ToolRun, check: String?) {
            let run = try box.run("backup", ["--db", "app.db", "--incremental", "--force", "-v", "--json"], env: env)
            return (run, try json(run)["snapshot_check"] as? String)
        }
        let base = try verbose()
        #expect(base.run.status == 0 && base.run.stderr.contains("quick_check ok") && base.check == "ok", "\(base.run.output)")
        let same = try verbose()
        #expect(same.run.status == 0 && same.run.stderr.contains("quick_check skipped: every block equals the previous backup's")
                && same.check == "skipped_unchanged", "\(same.run.output)")
        try db.run("UPDATE items SET body = 'changed' WHERE id = 7")
        let recent = try verbose()
        #expect(recent.run.status == 0 && recent.run.stderr.contains("quick_check skipped: a delta") && recent.check == "skipped_recent",
                "\(recent.run.output)")
        // Equal to a snapshot that skipped its check: the interval decides, not the equality.
        let sameAsUnchecked = try verbose()
        #expect(sameAsUnchecked.check == "skipped_recent", "\(sameAsUnchecked.run.output)")

        // Due: the chain's check (the base's) is older than the interval.
        try db.run("UPDATE items SET body = 'changed again' WHERE id = 8")
        Thread.sleep(forTimeInterval: 1.2)
        let due = try verbose(["BACKUP_CHECK_INTERVAL": "1"])
        #expect(due.run.status == 0 && due.run.stderr.contains("quick_check ok") && due.check == "ok", "\(due.run.output)")

        // A whole manifest (more than a quarter of the blocks changed) is checked within the interval.
        try db.run("UPDATE items SET body = 'rewritten ' || id || ' ' || body")
        let whole = try verbose()
        let wholeJSON = try json(whole.run)
        #expect(whole.run.status == 0 && wholeJSON["manifest_parent"] == nil && whole.check == "ok", "\(whole.run.output)")

        let typo = try box.run("backup", ["--db", "app.db", "--incremental", "--force"], env: ["BACKUP_CHECK_INTERVAL": "1 hour-ish"])
        #expect(typo.status == 78 && typo.stderr.contains("BACKUP_CHECK_INTERVAL=1 hour-ish is not a duration"), "\(typo.output)")

        try db.run("UPDATE items SET body = 'changed' WHERE id = 9")
        let stored = box.storedObjects()
        // Scribble over a page in the middle of the file, keeping the header intact.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: box.file("app.db")))
        try handle.seek(toOffset: UInt64(Files.size(box.file("app.db"))! / 2))
        handle.write(Data(repeating: 0xA5, count: 8192))
        try handle.close()
        let corrupt = try verbose(["BACKUP_CHECK_INTERVAL": "0"])
        #expect(corrupt.run.status == 65 && corrupt.run.stderr.contains("integrity"), "\(corrupt.run.output)")
        #expect(box.storedObjects() == stored, "nothing stored")
    }

    @Test("a chain an earlier version began (HMAC-SHA256 block ids, format 4) keeps its ids: the next backup reuses its blocks, and both restore; a new chain names blocks by keyed BLAKE3 (format 5)")
    func earlierBlockIDsChainContinues() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 20_000)
        let base = try json(try box.run("backup", ["--db", "app.db", "--incremental", "--json"], env: ["BACKUP_FAILPOINT": "earlier-block-ids"]))
        try db.run("UPDATE items SET body = 'changed' WHERE id = 5")
        let next = try incremental(box)
        let reused = try #require(next["reused_blocks"] as? Int), stored = try #require(next["new_blocks"] as? Int)
        #expect(stored <= 4 && reused > 50, "the earlier chain's blocks are reused: \(next)")
        #expect(next["manifest_parent"] as? String == base["key"] as? String, "\(next)")

        let settings = try Settings(overrides: SettingOverrides(), environment: Environment(box.environment.merging(
            ["BACKUP_LOCAL_DIR": box.file("backups")]) { $1 }))
        let repository = try BackupRepository(settings: settings, catalog: .ifPresent, console: Console(tool: "test", verbosity: .quiet, json: false))
        let ring = try settings.requiredKeyRing()
        for key in [base["key"], next["key"]].compactMap({ $0 as? String }) {
            let header = try repository.resolvedManifest(objectKey: key, ring: ring).header
            #expect(header.idScheme == .hmacSHA256 && header.format == 4 && header.blockIDs == nil, "\(key)")
        }
        for (key, out) in [(base["key"], "base.db"), (next["key"], "next.db")] {
            let run = try box.run("restore", "--key", key as! String, "--out", out)
            #expect(run.status == 0, "\(run.output)")
        }
        #expect(try TestDatabase.rows(box.file("next.db")) == TestDatabase.rows(box.file("app.db")))

        // Another block size starts a new chain, named by keyed BLAKE3.
        let fresh = try incremental(box, env: ["BACKUP_BLOCK_SIZE_KB": "8"])
        let header = try repository.resolvedManifest(objectKey: fresh["key"] as! String, ring: ring).header
        #expect(header.idScheme == .blake3 && header.format == 5 && fresh["manifest_parent"] == nil, "\(fresh)")
        let run = try box.run("restore", "--key", fresh["key"] as! String, "--out", "fresh.db")
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.rows(box.file("fresh.db")) == TestDatabase.rows(box.file("app.db")))
    }

    @Test("clean applies the rules to incremental backups and deletes only the packs no kept backup uses, after the grace period")
    func cleanDeletesUnusedPacks() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 5000)
        _ = try incremental(box)
        try change(db, appendFrom: 5001, count: 50, updateEvery: 2)   // every page: the next backup stores anew
        _ = try incremental(box)
        // Every page again: a whole manifest (no parent), so keeping the last one keeps no other.
        try change(db, appendFrom: 5051, count: 50, updateEvery: 3)
        let last = try incremental(box)
        let packs = { box.dir.allFiles(under: "backups").filter { ObjectKey.isPack($0) } }
        #expect(packs().count == 3)

        let young = try json(try box.run("clean-backup", "--keep-last", "1", "--json"))
        #expect((young["deleted"] as? [String])?.count == 2)
        #expect((young["packs_deleted"] as? [String])?.isEmpty == true, "unused packs are younger than the grace period")
        #expect(last["manifest_parent"] == nil, "\(last)")
        let lastKey = try #require(last["key"] as? String)
        let catalog = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false)
        let used = try #require(try catalog.packReferences()[lastKey])
        let unused = Set(packs()).subtracting(used)
        #expect(!unused.isEmpty && used.count < 3, "the first pack at least is unused: \(used)")
        let old = try json(try box.run("clean-backup", "--keep-last", "1", "--json", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"]))
        #expect(Set(old["packs_deleted"] as? [String] ?? []) == unused, "exactly the packs the kept backup does not use: \(old)")
        #expect(Set(packs()) == used)
        let restored = try box.run("restore", "--key", last["key"] as! String, "--out", "r.db")
        #expect(restored.status == 0, "\(restored.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
    }

    @Test("clean scoped to one database never touches another database's packs")
    func cleanIsScoped() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("a.db"), rows: 500)
        try TestDatabase.make(box.file("b.db"), rows: 500, seed: 2)
        _ = try incremental(box, "a.db")
        _ = try incremental(box, "b.db")
        let clean = try json(try box.run("clean-backup", "--db", "a.db", "--keep-last", "1", "--json",
                                         env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"]))
        #expect((clean["packs_deleted"] as? [String])?.isEmpty == true)
        #expect(box.dir.allFiles(under: "backups").filter { ObjectKey.isPack($0) }.count == 2)
        #expect(try box.run("restore", "--db", "b.db", "--verify-only").status == 0)
    }

    @Test("a pack with one flipped byte, or gone, fails the restore with 65 and writes nothing")
    func damagedPacks() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 3000)
        let key = try #require(try incremental(box)["key"] as? String)
        let pack = try #require(box.dir.allFiles(under: "backups").first { ObjectKey.isPack($0) })
        let path = box.file("backups/" + pack)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let flipped = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(flipped.status == 65, "\(flipped.output)")
        #expect(flipped.stderr.contains("does not authenticate"), "\(flipped.stderr)")
        try FileManager.default.removeItem(atPath: path)
        let missing = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(missing.status == 65, "\(missing.output)")
        #expect(missing.stderr.contains("is missing"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.file("r.db")))
    }

    @Test("clean-backup --check: counts what it checked and orphaned packs; a missing pack fails it with 65, and the next backup stores its blocks again")
    func check() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 4000)
        _ = try incremental(box)
        try change(db, appendFrom: 4001, count: 40, updateEvery: 400)
        _ = try incremental(box)
        #expect(try box.run("backup", "--db", "app.db").status == 0)
        let folder = box.file("backups/")
        let packs = box.dir.allFiles(under: "backups").filter { ObjectKey.isPack($0) }.sorted()
        #expect(packs.count == 2)

        let good = try json(try box.run("clean-backup", "--check", "--json"))
        #expect(good["ok"] as? Bool == true && good["backups_checked"] as? Int == 2 && good["full_backups"] as? Int == 1, "\(good)")
        #expect((good["blocks_checked"] as? Int ?? 0) > 2 && good["packs_in_use"] as? Int == 2)
        #expect((good["orphaned_packs"] as? [String])?.isEmpty == true)

        // A pack no backup names: within the grace period it is only counted, after it, orphaned.
        let orphan = packs[0].replacingOccurrences(of: ".pack.enc", with: "0.pack.enc")
        try FileManager.default.copyItem(atPath: folder + packs[0], toPath: folder + orphan)
        try FileManager.default.copyItem(atPath: folder + packs[0] + ".meta.json", toPath: folder + orphan + ".meta.json")
        let young = try json(try box.run("clean-backup", "--check", "--json"))
        #expect(young["recent_unused_packs"] as? Int == 1 && (young["orphaned_packs"] as? [String])?.isEmpty == true, "\(young)")
        let old = try box.run("clean-backup", "--check", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"])
        #expect(old.status == 0, "orphans are no damage: \(old.output)")
        #expect(old.stderr.contains("1 orphaned pack(s)") && old.stderr.contains("the next clean-backup deletes"), "\(old.stderr)")

        // The first pack gone: both backups that use it are damaged, and the command says so.
        try FileManager.default.removeItem(atPath: folder + packs[0])
        let broken = try box.run("clean-backup", "--check")
        #expect(broken.status == 65, "\(broken.output)")
        #expect(broken.stderr.contains("is missing from storage"), "\(broken.stderr)")
        let next = try incremental(box)
        #expect((next["rewritten_blocks"] as? Int ?? 0) > 0, "the blocks of the lost pack are stored again: \(next)")
        let restored = try box.run("restore", "--out", "r.db")
        #expect(restored.status == 0, "\(restored.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
        let usage = try box.run("clean-backup", "--check", "--dry-run")
        #expect(usage.status == 64 && usage.stderr.contains("--check, --adopt and --unkeep delete nothing"), "\(usage.output)")
    }

    @Test("a new key, block size or compression starts a new base: nothing is reused across them, and every backup still restores")
    func newBaseWhenTheFormatChanges() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 3000)
        let first = try incremental(box)
        let firstRows = try TestDatabase.rows(box.file("app.db"))
        try change(db, appendFrom: 3001, count: 30, updateEvery: 1000)
        let newKey = try EncryptionKey.generateBase64()
        let rotated = ["BACKUP_ENCRYPTION_KEY": newKey, "BACKUP_ENCRYPTION_KEY_FILE": "", "BACKUP_DECRYPTION_KEYS": box.keyText]
        let second = try incremental(box, env: rotated)
        #expect(second["reused_blocks"] as? Int == 0, "blocks sealed under the old key are not reused: \(second)")
        let same = try incremental(box, env: rotated)
        #expect((same["reused_blocks"] as? Int ?? 0) > 0 && same["new_blocks"] as? Int == 0, "\(same)")
        let resized = try incremental(box, env: rotated.merging(["BACKUP_BLOCK_SIZE_KB": "16"]) { $1 })
        #expect(resized["reused_blocks"] as? Int == 0, "\(resized)")
        let zstd = try incremental(box, env: rotated.merging(["BACKUP_BLOCK_SIZE_KB": "16", "BACKUP_COMPRESSION": "zstd"]) { $1 })
        #expect(zstd["reused_blocks"] as? Int == 0, "\(zstd)")
        let old = try box.run("restore", "--key", first["key"] as! String, "--out", "first.db", env: rotated)
        #expect(old.status == 0, "the old key restores the old base: \(old.output)")
        #expect(try TestDatabase.rows(box.file("first.db")) == firstRows)
        let newest = try box.run("restore", "--out", "newest.db", env: rotated)
        #expect(newest.status == 0, "\(newest.output)")
        #expect(try TestDatabase.rows(box.file("newest.db")) == TestDatabase.rows(box.file("app.db")))
    }

    @Test("on S3 (SeaweedFS): two incremental backups, restored by Range requests with the catalog gone; clean deletes the unused pack")
    func onS3() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        let db = try TestDatabase.make(box.file("app.db"), rows: 8000)
        let first = try incremental(box)
        let firstRows = try TestDatabase.rows(box.file("app.db"))
        try change(db, appendFrom: 8001, count: 80, updateEvery: 1)
        let second = try incremental(box)
        #expect(try box.peerKeys().filter { ObjectKey.isPack($0) }.count == 2)
        let meta = try box.peer("get", second["key"] as! String, box.file("object"), box.file("meta.json"))
        #expect(meta.status == 0, "\(meta.output)")
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let byKey = try box.run("restore", "--key", first["key"] as! String, "--out", "first.db")
        #expect(byKey.status == 0, "\(byKey.output)")
        #expect(try TestDatabase.rows(box.file("first.db")) == firstRows)
        let clean = try json(try box.run("clean-backup", "--keep-last", "1", "--json", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"]))
        #expect((clean["packs_deleted"] as? [String])?.count == 1, "\(clean)")
        let newest = try box.run("restore", "--out", "newest.db")
        #expect(newest.status == 0, "\(newest.output)")
        #expect(try TestDatabase.rows(box.file("newest.db")) == TestDatabase.rows(box.file("app.db")))
    }
}
