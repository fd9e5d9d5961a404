import Foundation
import Testing
@testable import BackupKit

/// One identity per database: the name its backups go by, refused when two databases of one
/// configuration share it, and the path and host recorded beside it.
struct IdentityTests {
    func json(_ run: ToolRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.output)")
    }

    /// `a/app.db` and `b/app.db`, different content.
    func twoAppDatabases(_ box: Sandbox) throws {
        for (folder, rows) in [("a", 30), ("b", 70)] {
            try FileManager.default.createDirectory(atPath: box.file(folder), withIntermediateDirectories: true)
            try TestDatabase.make(box.file("\(folder)/app.db"), rows: rows, seed: rows)
        }
    }

    @Test("two databases with one name are refused before anything runs, naming both paths and NAME=PATH (78 from the environment, 64 from --db)",
          arguments: [false, true])
    func sameNameRefused(s3: Bool) throws {
        let box = s3 ? try Sandbox(s3: S3TestServer.seaweed) : try Sandbox()
        try twoAppDatabases(box)
        let glob = try box.run("backup", [], env: ["BACKUP_DB_PATH": box.file("*/app.db")])
        #expect(glob.status == 78, "\(glob.output)")
        #expect(glob.stderr.contains(box.file("a/app.db")) && glob.stderr.contains(box.file("b/app.db"))
                && glob.stderr.contains("BACKUP_DB_PATH=a="), "\(glob.stderr)")
        #expect(glob.stderr.split(separator: "\n").count == 1)
        let flags = try box.run("clean-backup", "--db", "a/app.db", "--db", "b/app.db", "--keep-last", "1")
        #expect(flags.status == 64 && flags.stderr.contains("--db a="), "\(flags.output)")
        #expect(try Attacker(box: box, s3: s3).storedKeys().isEmpty)
        let badName = try box.run("backup", "--db", "no good=a/app.db")
        #expect(badName.status == 64 && badName.stderr.contains("cannot name a database"), "\(badName.output)")
    }

    @Test("named databases (NAME=PATH): keys, retention, restore and metrics go by the name, and the path and host are recorded",
          arguments: [false, true])
    func namedDatabases(s3: Bool) throws {
        let box = s3 ? try Sandbox(s3: S3TestServer.seaweed) : try Sandbox()
        let stored = Attacker(box: box, s3: s3)
        try twoAppDatabases(box)
        let env = ["BACKUP_DB_PATH": "a=\(box.file("a/app.db")),b=\(box.file("b/app.db"))", "BACKUP_METRICS_FILE": box.file("metrics.prom")]
        for _ in 0..<2 { #expect(try box.run("backup", [], env: env).status == 0) }
        let keys = try stored.storedKeys()
        #expect(keys.count == 4 && keys.filter { $0.hasPrefix(stored.key("a-")) }.count == 2
                && keys.filter { $0.hasPrefix(stored.key("b-")) }.count == 2, "\(keys)")
        let metadata = try stored.read(keys.first { $0.hasPrefix(stored.key("a-")) }!).metadata
        #expect(metadata["db-path"] == box.file("a/app.db") && metadata["db-name"] == "a" && metadata["host"]?.isEmpty == false, "\(metadata)")
        let metrics = try String(contentsOfFile: box.file("metrics.prom"), encoding: .utf8)
        #expect(metrics.contains("database_backup_success_total{database=\"a\"} 2") && metrics.contains("{database=\"b\"}"), "\(metrics)")

        let clean = try box.run("clean-backup", ["--keep-last", "1"], env: env)
        let left = try stored.storedKeys()
        #expect(clean.status == 0 && left.count == 2, "\(clean.output)")
        for (name, folder) in [("a", "a"), ("b", "b")] {
            let run = try box.run("restore", "--db", "\(name)=\(folder)/app.db", "--out", "\(name).db")
            #expect(run.status == 0, "\(run.output)")
            #expect(try TestDatabase.rows(box.file("\(name).db")) == TestDatabase.rows(box.file("\(folder)/app.db")))
        }
    }

    @Test("restore --target without --db or --key restores only the target's own backups; another database's needs --key",
          arguments: [false, true])
    func targetRestoresItsOwn(s3: Bool) throws {
        let box = s3 ? try Sandbox(s3: S3TestServer.seaweed) : try Sandbox()
        try TestDatabase.make(box.file("one.db"), rows: 20, seed: 1)
        try TestDatabase.make(box.file("two.db"), rows: 90, seed: 2)
        let twoKey = try box.backup("two.db")
        let before = try TestDatabase.rows(box.file("one.db"))
        let refused = try box.run("restore", "--target", "one.db", "--yes")
        #expect(refused.status == 66 && refused.stderr.contains("--key"), "\(refused.output)")
        #expect(try TestDatabase.rows(box.file("one.db")) == before)

        _ = try box.backup("one.db")
        try TestDatabase.insert(try SQLiteConnection(path: box.file("one.db"), mode: .readWrite), from: 5000, count: 3)
        let own = try box.run("restore", "--target", "one.db", "--yes")
        #expect(own.status == 0, "\(own.output)")
        #expect(try TestDatabase.rows(box.file("one.db")) == before)
        let explicit = try box.run("restore", "--target", "one.db", "--yes", "--key", twoKey)
        #expect(explicit.status == 0, "\(explicit.output)")
        #expect(try TestDatabase.rows(box.file("one.db")) == TestDatabase.rows(box.file("two.db")))
    }

    @Test("one name written from two paths: --status and --check report it, and restore says whose backup it took",
          arguments: [false, true])
    func sharedNameReported(s3: Bool) throws {
        let box = s3 ? try Sandbox(s3: S3TestServer.seaweed) : try Sandbox()
        try twoAppDatabases(box)
        _ = try box.backup("a/app.db")
        _ = try box.backup("b/app.db")
        let status = try box.run("backup", "--status", "--db", "a/app.db")
        #expect(status.status == 0 && status.stderr.contains("were written from 2 places"), "\(status.output)")
        let check = try box.run("clean-backup", "--check", "--json")
        let shared = try json(check)["shared_names"] as? [[String: Any]]
        #expect(shared?.first?["name"] as? String == "app.db" && (shared?.first?["origins"] as? [String])?.count == 2, "\(check.output)")
        // Each path restores its own, not the newest of the name.
        let restore = try box.run("restore", "--db", "a/app.db", "--out", "r.db")
        #expect(restore.status == 0 && !restore.stderr.contains("was taken from"), "\(restore.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("a/app.db")))
        // A third app.db with none of its own: two other places, so none is guessed.
        try FileManager.default.createDirectory(atPath: box.file("c"), withIntermediateDirectories: true)
        try TestDatabase.make(box.file("c/app.db"), rows: 3)
        let guess = try box.run("restore", "--db", "c/app.db", "--out", "c.db")
        #expect(guess.status == 64 && guess.stderr.contains("2 other places") && guess.stderr.contains("--key"), "\(guess.output)")
        // One other place only (a new machine restoring the old one's backups): taken, and said.
        guard !s3 else { return }
        let fresh = try Sandbox()
        try FileManager.default.createDirectory(atPath: fresh.file("backups"), withIntermediateDirectories: true)
        try (box.keyText + "\n").write(toFile: fresh.file("backup.key"), atomically: true, encoding: .utf8)
        let aKey = try #require(try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false).records()
            .first { $0.sealedMetadata?["db-path"] == box.file("a/app.db") }?.objectKey)
        for suffix in ["", ".meta.json"] {
            try FileManager.default.copyItem(atPath: box.file("backups/" + aKey + suffix), toPath: fresh.file("backups/" + aKey + suffix))
        }
        try TestDatabase.make(fresh.file("app.db"), rows: 1)
        let migrated = try fresh.run("restore", "--db", "app.db", "--out", "m.db")
        #expect(migrated.status == 0 && migrated.stderr.contains("was taken from \(box.file("a/app.db"))"), "\(migrated.output)")
    }
}
