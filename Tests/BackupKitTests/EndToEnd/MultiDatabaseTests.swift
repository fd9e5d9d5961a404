import Foundation
import Testing
@testable import BackupKit

/// `backup` over several databases: --db repeated, BACKUP_DB_PATH as a list or a glob; one
/// object, row, metrics series and summary line each; the worst exit code; one failure does
/// not stop the others.
struct MultiDatabaseTests {
    @Test("three databases, one not SQLite: two backed up, the third reported, exit 65, JSON results, a metrics series each")
    func threeDatabases() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("a.db"), rows: 100)
        try TestDatabase.make(box.file("b.db"), rows: 120, seed: 2)
        try "not a database at all, just text".write(toFile: box.file("c.db"), atomically: true, encoding: .utf8)
        let metrics = box.file("backup.prom")
        let run = try box.run("backup", ["--db", "a.db", "--db", "c.db", "--db", "b.db", "--json"], env: ["BACKUP_METRICS_FILE": metrics])
        #expect(run.status == 65, "the worst exit code: \(run.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.output)")
        #expect(json["ok"] as? Bool == false && json["exit_code"] as? Int == 65)
        let results = try #require(json["results"] as? [[String: Any]])
        #expect(results.count == 3)
        #expect((results[0]["database"] as? String)?.hasSuffix("/a.db") == true && (results[0]["key"] as? String)?.contains("a.db-") == true)
        #expect((results[1]["database"] as? String)?.hasSuffix("/c.db") == true && results[1]["exit_code"] as? Int == 65
                && (results[1]["error"] as? String)?.contains("not a SQLite database") == true, "\(results[1])")
        #expect((results[2]["key"] as? String)?.contains("b.db-") == true, "one failure does not stop the others")
        #expect(Set(box.storedObjects().compactMap { ObjectKey.databaseName(of: "backups/" + $0, prefix: "backups/") }) == ["a.db", "b.db"])
        #expect(try box.liveCatalogKeys().count == 2)
        let prom = try String(contentsOfFile: metrics, encoding: .utf8)
        for name in ["a.db", "b.db", "c.db"] { #expect(prom.contains("database=\"\(name)\""), "\(name): \(prom)") }

        let human = try box.run("backup", ["--db", "a.db", "--db", "b.db", "--db", "c.db"])
        #expect(human.status == 65)
        #expect(human.stdoutLines.count == 2, "the two keys: \(human.stdout)")
        #expect(human.stderr.contains("backed up a.db") && human.stderr.contains("backed up b.db") && human.stderr.contains("c.db: "),
                "a summary line each: \(human.stderr)")
    }

    @Test("BACKUP_DB_PATH as a comma list or a glob; restore takes one; clean applies the rules to each")
    func listsAndGlobs() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("a.db"), rows: 50)
        try TestDatabase.make(box.file("b.db"), rows: 60, seed: 2)
        #expect(try box.run("backup", [], env: ["BACKUP_DB_PATH": "a.db, b.db"]).status == 0)
        let globbed = try box.run("backup", ["--json"], env: ["BACKUP_DB_PATH": box.file("[ab].db")])
        #expect(globbed.status == 0, "\(globbed.output)")
        let results = (try JSONSerialization.jsonObject(with: Data(globbed.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]]
        #expect(results?.count == 2 && results?.allSatisfy { $0["key"] != nil } == true, "\(globbed.stdout)")
        #expect(box.storedObjects().count == 4)
        let missing = try box.run("backup", [], env: ["BACKUP_DB_PATH": "a.db," + box.file("nothing-*.db")])
        #expect(missing.status == 66 && missing.stderr.contains("nothing-*.db"), "a glob that matches nothing is reported: \(missing.output)")

        let restore = try box.run("restore", ["--out", "r.db"], env: ["BACKUP_DB_PATH": "a.db,b.db"])
        #expect(restore.status == 64 && restore.stderr.contains("pass the one to restore with --db"), "\(restore.output)")
        let clean = try box.run("clean-backup", ["--keep-last", "1", "--json"], env: ["BACKUP_DB_PATH": "a.db,b.db"])
        #expect(clean.status == 0, "\(clean.output)")
        let cleaned = ((try JSONSerialization.jsonObject(with: Data(clean.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]]) ?? []
        #expect(cleaned.map { ($0["deleted"] as? [String])?.count ?? -1 } == [2, 1],
                "the older backups of each (a.db has three, b.db two): \(clean.stdout)")
    }

    @Test("verify, status, check and clean cover every configured database: a line each, the worst exit code, a metrics series each")
    func everyCommandFansOut() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("one.db"), rows: 50)
        try TestDatabase.make(box.file("two.db"), rows: 60, seed: 2)
        let metrics = box.file("m.prom")
        let env = ["BACKUP_DB_PATH": "one.db,two.db", "BACKUP_METRICS_FILE": metrics]
        #expect(try box.run("backup", [], env: env).status == 0)

        let verify = try box.run("restore", ["--verify-only"], env: env)
        #expect(verify.status == 0 && verify.stderr.contains("2 of 2 databases verified, 0 failed"), "\(verify.output)")
        #expect(verify.stderr.components(separatedBy: "verified ").count >= 3, "one line each: \(verify.stderr)")
        let prom = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(prom.contains("database_restore_success_total{database=\"one.db\"}") && prom.contains("database_restore_success_total{database=\"two.db\"}"), "\(prom)")

        // two.db's only backup made stale: --status reports it (exit 3), not just the first database.
        let twoKey = try #require(box.storedObjects().first { $0.hasPrefix("two.db-") })
        try box.backdate(twoKey, daysAgo: 3)
        let status = try box.run("backup", ["--status", "--json"], env: env.merging(["BACKUP_MAX_AGE": "1d"]) { $1 })
        #expect(status.status == 3, "\(status.output)")
        let reports = ((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]]) ?? []
        #expect(reports.map { $0["ok"] as? Bool } == [true, false], "\(status.stdout)")

        // A missing pack breaks two.db's incremental backup only: --check over both says so, 65.
        _ = try box.run("backup", ["--incremental"], env: env)
        let pack = try #require(box.dir.allFiles(under: "backups").first { $0.hasPrefix("two.db-") && ObjectKey.isPack($0) })
        try FileManager.default.removeItem(atPath: box.file("backups/" + pack))
        let check = try box.run("clean-backup", ["--check"], env: env)
        #expect(check.status == 65 && check.stderr.contains("1 of 2 databases checked, 1 failed"), "\(check.output)")

        let clean = try box.run("clean-backup", ["--keep-last", "5"], env: env)
        #expect(clean.status == 0, "\(clean.output)")
        let after = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(after.contains("database_clean_success_total{database=\"one.db\"}") && after.contains("database_clean_success_total{database=\"two.db\"}"), "\(after)")
    }
}
