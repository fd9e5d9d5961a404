import Foundation
import Testing
@testable import BackupKit

/// backup → restore through the executables, on live databases that another process
/// keeps writing to, compared row for row.
@Suite(.serialized)
struct RoundTripTests {
    /// Runs a writer process against `database` while `backup` runs, then checks that the
    /// restored database passes integrity_check and holds exactly a committed prefix.
    /// `fillerMiB` grows the database with a table of application-like rows first.
    func backupWhileWriting(wal: Bool, fillerMiB: Int = 0, _ label: String = #function) throws {
        let box = try Sandbox(label)
        let database = box.file("app.db")
        let initialRows = 60_000
        let db = try TestDatabase.make(database, rows: initialRows, wal: wal)
        if fillerMiB > 0 {
            // About 1 KiB a row on disk: hex (compresses 2x) around plain text.
            try db.execute("""
                CREATE TABLE filler(id INTEGER PRIMARY KEY, data TEXT);
                WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < \(fillerMiB * 1_020))
                INSERT INTO filler SELECT x, printf('%08d ', x) || hex(randomblob(200)) || ' lorem ipsum dolor sit amet ' || hex(randomblob(200)) FROM c;
                """)
        }

        // The writer starts before the backup and stops after it.
        let stop = box.file("stop")
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        writer.arguments = [Fixtures.path("writer.py"), database, stop, String(initialRows + 1)]
        let writerOut = Pipe()
        writer.standardOutput = writerOut
        try writer.run()
        let deadline = Date().addingTimeInterval(30)
        while try TestDatabase.count(database) < initialRows + 20, Date() < deadline { usleep(20_000) }
        // Level 1 for the large case: compression speed is not what this test is about.
        let key = try box.backup("app.db", "--compression-level", fillerMiB > 0 ? "1" : "6")
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        writer.waitUntilExit()
        let report = try JSONSerialization.jsonObject(with: writerOut.fileHandleForReading.readDataToEndOfFile()) as! [String: Any]
        let lastCommitted = report["last_id"] as! Int
        #expect(writer.terminationStatus == 0)
        if fillerMiB > 0 {
            // Reported, never asserted: tests do not judge timings (make bench-stall measures it in release).
            let size = Formatting.bytes(Files.size(database) ?? 0)
            print("live backup of a \(size) \(wal ? "WAL" : "rollback-journal") database: the writer made \(report["commits"] ?? "?") commits, longest commit stall \(report["longest_stall_ms"] ?? "?") ms")
        }

        let restore = try box.run("restore", "--key", key, "--out", box.file("restored.db"))
        #expect(restore.status == 0, "\(restore.output)")
        let restored = try TestDatabase.rows(box.file("restored.db"))
        let source = try TestDatabase.rows(database)
        let ids = restored.map { Int($0[0].integer!) }
        // A committed prefix: rows 1...k with no gap, whole writer transactions (pairs) only.
        #expect(ids == Array(1...ids.count))
        #expect(ids.count > initialRows, "the writer's early commits are in the snapshot")
        #expect(ids.count < lastCommitted, "the writer kept committing during and after the backup")
        #expect((ids.count - initialRows) % 2 == 0, "no torn writer transaction")
        #expect(restored == Array(source.prefix(restored.count)), "row for row equal to the source")
        let check = try SQLiteConnection(path: box.file("restored.db"), mode: .readWrite).integrityProblems(quick: false)
        #expect(check == nil)
    }

    @Test("a WAL database backed up while another process writes restores to a committed prefix")
    func walDatabaseUnderWriter() throws {
        try backupWhileWriting(wal: true)
    }

    @Test("a rollback-journal database backed up while another process writes restores to a committed prefix")
    func rollbackDatabaseUnderWriter() throws {
        try backupWhileWriting(wal: false)
    }

    @Test("a 1 GiB WAL database backed up while another process writes: committed prefix, writer's stall reported")
    func largeWalDatabaseUnderWriter() throws {
        try backupWhileWriting(wal: true, fillerMiB: 1024)
    }

    @Test("a 1 GiB rollback-journal database backed up while another process writes: committed prefix, stall reported")
    func largeRollbackDatabaseUnderWriter() throws {
        try backupWhileWriting(wal: false, fillerMiB: 1024)
    }

    @Test("restore takes the newest backup; --key takes the one named")
    func latestAndByKey() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 100)
        let first = try box.backup()
        try TestDatabase.insert(db, from: 101, count: 50)
        let second = try box.backup()
        #expect(first != second)

        let latest = try box.run("restore", "--db", "app.db")
        #expect(latest.status == 0, "\(latest.output)")
        let latestPath = latest.stdoutLines.last!
        #expect(latestPath.hasPrefix(box.file("restored-")), "in the current folder, not among the backups: \(latestPath)")
        #expect(try TestDatabase.count(latestPath) == 150)

        let old = try box.run("restore", "--key", first, "--out", "old.db")
        #expect(old.status == 0, "\(old.output)")
        #expect(try TestDatabase.count(box.file("old.db")) == 100)
        #expect(try TestDatabase.rows(box.file("old.db")) == Array(try TestDatabase.rows(box.file("app.db")).prefix(100)))
    }

    @Test("with the catalog deleted, restore by key, restore latest and --list still work")
    func catalogLost() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 500)
        let key = try box.backup()
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))

        let byKey = try box.run("restore", "--key", key, "--out", "a.db")
        #expect(byKey.status == 0, "\(byKey.output)")
        #expect(try TestDatabase.count(box.file("a.db")) == 500)
        let latest = try box.run("restore", "--db", "app.db", "--out", "b.db")
        #expect(latest.status == 0, "\(latest.output)")
        #expect(try TestDatabase.count(box.file("b.db")) == 500)

        let list = try box.run("restore", "--list", "--json")
        #expect(list.status == 0, "\(list.output)")
        let json = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [String: Any]
        let backups = json["backups"] as! [[String: Any]]
        #expect(backups.map { $0["key"] as! String } == [key])
        // Listing re-indexed the object from its metadata: the catalog has its row again.
        #expect(try box.liveCatalogKeys() == [key])
        let row = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false).record(forObjectKey: key)
        #expect(row?.encIV != nil && row?.encTag != nil && row?.checksum?.count == 32)
    }

    @Test("restore --verify-only checks everything and writes nothing")
    func verifyOnly() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 300)
        _ = try box.backup()
        let before = box.dir.allFiles()
        let run = try box.run("restore", "--verify-only", "--json")
        #expect(run.status == 0, "\(run.output)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect(json["integrity_check"] as? String == "ok")
        #expect(json["verify_only"] as? Bool == true)
        #expect(box.dir.allFiles() == before)
    }

    @Test("restore --target replaces a database after a safety snapshot; --yes needed off a terminal")
    func restoreIntoTarget() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 200)
        let key = try box.backup()
        try TestDatabase.insert(db, from: 201, count: 100)
        try db.execute("DELETE FROM items WHERE id <= 10")

        let refused = try box.run("restore", "--key", key, "--target", "app.db")
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--yes"))
        #expect(try TestDatabase.count(box.file("app.db")) == 290)

        let run = try box.run("restore", "--key", key, "--target", "app.db", "--yes", "--json")
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.count(box.file("app.db")) == 200)
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let safety = json["safety_snapshot"] as! String
        #expect(try TestDatabase.count(safety) == 290)
    }

    @Test("our objects decrypt with an independent implementation of Laju's restore")
    func lajuReadsOurObjects() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 3000)
        let key = try box.backup()
        let object = box.file("backups/" + key)
        let run = try Tool.python("laju_format.py", ["decrypt", box.keyText, object, object + ".meta.json", box.file("laju.db")], in: box.path)
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.rows(box.file("laju.db")) == TestDatabase.rows(box.file("app.db")))
    }

    @Test("an object written in Laju's format (colon key, one gzip member, no catalog row) restores by key")
    func weRestoreLajuObjects() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 2000, wal: false)
        let key = "backups/app.db-2025-01-10T23:33-0b6f2c2e-3c1d-4b8e-9a57-5d2f0e4b9c11.db.gz.enc"
        try FileManager.default.createDirectory(atPath: box.file("backups/backups"), withIntermediateDirectories: true)
        let object = box.file("backups/" + key)
        let made = try Tool.python("laju_format.py", ["encrypt", box.keyText, box.file("app.db"), object], in: box.path)
        #expect(made.status == 0, "\(made.output)")
        try made.stdout.write(toFile: object + ".meta.json", atomically: true, encoding: .utf8)

        let run = try box.run("restore", "--key", key, "--out", "from-laju.db", "-v")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("checksum and tag verified"), "no MAC: the MD5 is checked too")
        #expect(try TestDatabase.rows(box.file("from-laju.db")) == TestDatabase.rows(box.file("app.db")))
        let list = try box.run("restore", "--list", "--db", "app.db")
        #expect(list.stdout.contains(key))
        // Our own objects seal the checksum with the metadata: the tag alone vouches for the bytes.
        let ours = try box.backup()
        let sealed = try box.run("restore", "--key", ours, "--out", "from-ours.db", "-v")
        #expect(sealed.status == 0, "\(sealed.output)")
        #expect(sealed.stderr.contains("tag verified (the sealed metadata records the checksum)"), "\(sealed.stderr)")
    }
}
