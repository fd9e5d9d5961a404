import Foundation
import Testing
@testable import BackupKit

/// What an operator sees and automates: JSON, log lines, progress, metrics, min-interval,
/// --status, key rotation, SQL export, VACUUM INTO snapshots and the interactive pick.
struct OperatorTests {
    func json(_ run: ToolRun) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] else {
            throw SandboxFailure(description: "not a JSON object: \(run.stdout)")
        }
        return object
    }

    /// Runs a tool on a pseudo-terminal (stdin, stdout and stderr), typing `answers` at its questions.
    func onTerminal(_ box: Sandbox, _ arguments: [String], answers: [String] = []) throws -> ToolRun {
        var command = [Fixtures.path("pty_run.py")]
        for answer in answers { command += ["--answer", answer] }
        command += ["--", Tool.path(arguments[0])] + arguments.dropFirst()
        return try Tool.runProcess(Tool.pythonPath, command, in: box.path, environment: box.environment)
    }

    @Test("--json on all three executables: documented fields, and errors as JSON with the exit code")
    func jsonShapes() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 500)
        let backup = try json(try box.run("backup", "--db", "app.db", "--json"))
        for field in ["ok", "key", "location", "storage", "database", "source_size", "stored_size", "checksum",
                      "key_id", "created_at", "snapshot_seconds", "upload_seconds", "duration_seconds"] {
            #expect(backup[field] != nil, "backup JSON lacks \(field)")
        }
        #expect(backup["ok"] as? Bool == true && backup["skipped"] as? Bool == false)
        #expect((backup["checksum"] as? String)?.count == 32)
        let key = try #require(backup["key"] as? String)

        let restore = try json(try box.run("restore", "--key", key, "--out", "r.db", "--json"))
        #expect(restore["ok"] as? Bool == true && restore["key"] as? String == key)
        #expect(restore["output"] as? String == box.file("r.db"))
        #expect(restore["format"] as? String == "sqlite")
        #expect(restore["integrity_check"] as? String == "ok")
        #expect(restore["key_id"] as? String == backup["key_id"] as? String)
        #expect((restore["restored_size"] as? Int ?? 0) > 0 && restore["duration_seconds"] != nil)

        _ = try box.backup()
        let clean = try json(try box.run("clean-backup", "--keep-last", "1", "--json"))
        #expect(clean["ok"] as? Bool == true)
        #expect((clean["deleted"] as? [String]) == [key])
        let kept = try #require(clean["kept"] as? [[String: Any]])
        #expect(kept.count == 1 && kept[0]["key"] as? String != nil && kept[0]["reasons"] != nil, "\(kept)")
        #expect((clean["failed"] as? [Any])?.isEmpty == true)

        let error = try box.run("restore", "--key", "backups/none.db.gz.enc", "--json")
        #expect(error.status == 66)
        let failure = try json(error)
        #expect(failure["ok"] as? Bool == false)
        #expect(failure["exit_code"] as? Int == 66)
        #expect((failure["error"] as? String)?.contains("restore --list") == true)
    }

    @Test("restore --at: the newest backup taken at or before a time, in UTC, with an offset or in the local zone; --list filters; none before it is 66 naming the oldest")
    func restoreAt() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 100)
        var taken: [(key: String, millis: Int64, rows: Int)] = []
        for round in 0..<3 {
            if round > 0 { try TestDatabase.insert(db, from: 1000 * round, count: 10) }
            let run = try box.run("backup", "--db", "app.db", "--json")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.output)")
            taken.append((json["key"] as! String, (json["created_at"] as! NSNumber).int64Value, try TestDatabase.count(box.file("app.db"))))
            usleep(20_000)
        }
        func iso(_ millis: Int64, _ zone: TimeZone, withZone: Bool) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = zone
            // The milliseconds written by hand: a formatter's fraction of a Double may be one short.
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
            let seconds = formatter.string(from: Date(timeIntervalSince1970: Double(millis / 1000)))
            formatter.dateFormat = "XXXXX"
            return seconds + String(format: ".%03d", Int(millis % 1000)) + (withZone ? formatter.string(from: Date(timeIntervalSince1970: Double(millis / 1000))) : "")
        }
        let utc = TimeZone(identifier: "UTC")!, jakarta = TimeZone(identifier: "Asia/Jakarta")!
        // Exactly at the second backup, a millisecond before it, and in another zone without a zone.
        let cases: [(String, [String: String], Int)] = [
            (iso(taken[1].millis, utc, withZone: true), [:], 1),
            (iso(taken[1].millis - 1, jakarta, withZone: true), [:], 0),
            (iso(taken[2].millis, jakarta, withZone: false), ["TZ": "Asia/Jakarta"], 2),
            (iso(taken[2].millis + 60_000, utc, withZone: false), ["TZ": "UTC"], 2),
        ]
        for (time, env, expected) in cases {
            let run = try box.run("restore", ["--at", time, "--out", "at.db", "--overwrite", "--json"], env: env)
            #expect(run.status == 0, "\(time): \(run.output)")
            let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            #expect(json?["key"] as? String == taken[expected].key, "\(time) restores backup \(expected)")
            #expect(try TestDatabase.count(box.file("at.db")) == taken[expected].rows)
        }
        let listed = try box.run("restore", "--list", "--json", "--at", iso(taken[1].millis, utc, withZone: true))
        let backups = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["backups"] as? [[String: Any]]
        #expect(backups?.compactMap { $0["key"] as? String } == [taken[1].key, taken[0].key], "\(listed.output)")

        let before = try box.run("restore", "--at", iso(taken[0].millis - 1, utc, withZone: true), "--out", "none.db")
        #expect(before.status == 66, "\(before.output)")
        #expect(before.stderr.contains("the oldest is \(taken[0].key)"), "\(before.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.file("none.db")))
        let bad = try box.run("restore", "--at", "last friday")
        #expect(bad.status == 64 && bad.stderr.contains("is not a time"), "\(bad.output)")
        #expect(try box.run("restore", "--at", "2026-11-20", "--key", taken[0].key).status == 64)
    }

    @Test("backup --keep-forever: in the metadata and the row, shown by --list, kept by every clean (catalog lost too); un-marked by --unkeep, not by a row update")
    func keptForever() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 100)
        func json(_ run: ToolRun) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.output)")
        }
        let forever = try json(try box.run("backup", "--db", "app.db", "--keep-forever", "--json"))
        let key = try #require(forever["key"] as? String)
        #expect(forever["keep_forever"] as? Bool == true)
        let sidecar = try String(contentsOfFile: box.file("backups/" + key + ".meta.json"), encoding: .utf8)
        #expect(sidecar.contains("\"keep\" : \"forever\""), "\(sidecar)")
        for round in 1...3 {
            try TestDatabase.insert(db, from: 1000 * round, count: 5)
            #expect(try json(try box.run("backup", "--db", "app.db", "--json"))["keep_forever"] as? Bool == false)
        }
        // Not skipped by the minimum interval: asking to keep one forever means now.
        let again = try box.run("backup", ["--db", "app.db", "--keep-forever"], env: ["BACKUP_MIN_INTERVAL": "1h"])
        #expect(again.status == 0 && !again.stderr.contains("skipped"), "\(again.output)")
        let second = try #require(again.stdoutLines.last)

        let clean = try json(try box.run("clean-backup", "--keep-last", "1", "--json"))
        #expect((clean["deleted"] as? [String])?.count == 2, "\(clean)")
        let kept = (clean["kept"] as? [[String: Any]]) ?? []
        #expect(kept.contains { $0["key"] as? String == key && ($0["reasons"] as? [String]) == ["kept forever"] }, "\(kept)")
        #expect(kept.contains { $0["key"] as? String == second })

        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let listed = ((try json(try box.run("restore", "--list", "--json")))["backups"] as? [[String: Any]]) ?? []
        #expect(listed.count == 3)
        #expect(listed.filter { $0["keep_forever"] as? Bool == true }.compactMap { $0["key"] as? String }.sorted() == [key, second].sorted(),
                "the mark comes back from the metadata: \(listed)")
        let human = try box.run("restore", "--list")
        #expect(human.stdout.contains(key + "  (kept forever)"), "\(human.stdout)")
        #expect((try json(try box.run("clean-backup", "--keep-last", "1", "--json")))["deleted"] as? [String] == [])

        // A row update without the key un-marks nothing: the mark is sealed.
        let catalog = try SQLiteConnection(path: box.file("backups/catalog.sqlite"), mode: .readWrite)
        try catalog.run("UPDATE backup_files SET keep_forever = 0 WHERE key = ?", [.text(key)])
        #expect((try json(try box.run("clean-backup", "--keep-last", "1", "--json")))["deleted"] as? [String] == [])
        let unkeep = try box.run("clean-backup", "--unkeep", key)
        #expect(unkeep.status == 0 && unkeep.stderr.contains("no longer kept forever"), "\(unkeep.output)")
        let unmarked = try json(try box.run("clean-backup", "--keep-last", "1", "--json"))
        #expect(unmarked["deleted"] as? [String] == [key], "the sealed row wins over the metadata: \(unmarked)")
    }

    @Test("on S3 (SeaweedFS): --keep-forever is in the object's headers, and clean keeps it with the catalog gone")
    func keptForeverOnS3() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 50)
        let forever = try box.backup("app.db", "--keep-forever")
        _ = try box.backup()
        let head = try box.peer("head", forever)
        #expect(head.status == 0 && head.stdout.contains("\"keep\": \"forever\""), "\(head.output)")
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let clean = try box.run("clean-backup", "--keep-last", "1", "--json")
        #expect(clean.status == 0 && clean.stdout.contains("\"deleted\":[]"), "\(clean.output)")
        #expect(try box.peerKeys().contains(forever))
    }

    @Test("local layout: objects sit directly in the local folder; a folder in the earlier layout (./backups/backups/) keeps working")
    func localLayout() throws {
        let fresh = try Sandbox()
        try TestDatabase.make(fresh.file("app.db"), rows: 50)
        let key = try fresh.backup()
        #expect(key.hasPrefix("app.db-") && FileManager.default.fileExists(atPath: fresh.file("backups/" + key)), "\(key)")
        #expect(!FileManager.default.fileExists(atPath: fresh.file("backups/backups")))

        let old = try Sandbox()
        try TestDatabase.make(old.file("app.db"), rows: 50)
        let earlier = try old.run("backup", ["--db", "app.db"], env: ["BACKUP_PREFIX": "backups/"])   // as earlier versions wrote
        let earlierKey = try #require(earlier.stdoutLines.last)
        #expect(FileManager.default.fileExists(atPath: old.file("backups/backups/" + earlierKey.dropFirst("backups/".count))))
        let next = try old.backup()
        #expect(next.hasPrefix("backups/app.db-"), "the earlier layout stays in use: \(next)")
        let listed = try old.run("restore", "--list", "--json")
        #expect(((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["backups"] as? [Any])?.count == 2)
        #expect(try old.run("restore", "--key", earlierKey, "--out", "r.db").status == 0)
    }

    @Test("off a terminal: no progress line, and every log line has an ISO-8601 timestamp and a level")
    func logLinesOffTerminal() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 2000)
        let run = try box.run("backup", "--db", "app.db", "--verbose")
        #expect(run.status == 0)
        #expect(!run.stderr.contains("\r") && !run.stderr.contains("\u{1B}["))
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count >= 3)
        let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) backup: .+/#
        for line in lines { #expect(line.wholeMatch(of: pattern) != nil, "not a log line: \(line)") }
        #expect(lines.last?.contains("INFO backup: backed up app.db (") == true)
        let failed = try box.run("backup", "--db", "missing.db")
        #expect(failed.stderr.contains(" ERROR backup: database not found"))
    }

    @Test("on a terminal: live progress lines per stage, then one summary line")
    func progressOnTerminal() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 400_000)
        let backup = try onTerminal(box, ["backup", "--db", "app.db"])
        #expect(backup.status == 0, "\(backup.output)")
        #expect(backup.stdout.contains("\r\u{1B}[K"), "progress lines are redrawn in place")
        #expect(backup.stdout.contains("MB/s") && backup.stdout.contains("%"))
        #expect(backup.stdout.contains("gzip+encrypt+store"), "the local folder is no upload")
        let summary = backup.stdout.components(separatedBy: "\r\n").filter { $0.contains("backed up app.db") }
        #expect(summary.count == 1)
        #expect(!backup.stdout.contains(" INFO "), "no timestamps on a terminal")
        let restore = try onTerminal(box, ["restore", "--out", "r.db"])
        #expect(restore.status == 0, "\(restore.output)")
        #expect(restore.stdout.contains("download+decrypt+inflate"))
        #expect(restore.stdout.contains("restored app.db-"))
    }

    @Test("Ctrl-C on a terminal during a stage: exit 130, and the error is the last thing shown (no progress line drawn after it)")
    func interruptOnTerminal() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 2000)
        box.environment["BACKUP_FAILPOINT"] = "mid-snapshot"
        let command = [Fixtures.path("pty_run.py"), "--interrupt-on", "failpoint mid-snapshot reached",
                       "--", Tool.path("backup"), "--db", "app.db"]
        let run = try Tool.runProcess(Tool.pythonPath, command, in: box.path, environment: box.environment)
        #expect(run.status == 130, "\(run.output)")
        let shown = run.stdout
        #expect(shown.contains("gzip+encrypt+store  "), "the progress line was drawn: \(shown)")
        let error = try #require(shown.range(of: "backup: error: "), "\(shown)")
        let after = shown[error.upperBound...]
        #expect(!after.contains("gzip+encrypt+store") && !after.contains("MB/s"), "drawn after the error: \(after.debugDescription)")
        #expect(box.dir.allFiles(under: "backups").filter { $0.hasSuffix(".enc") }.isEmpty)
    }

    @Test("BACKUP_METRICS_FILE: a Prometheus textfile whose counters grow across runs, written atomically")
    func metricsFile() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 300)
        box.environment["BACKUP_METRICS_FILE"] = box.file("metrics/backup.prom")
        try FileManager.default.createDirectory(atPath: box.file("metrics"), withIntermediateDirectories: true)
        func metrics() throws -> [String: Double] {
            let text = try String(contentsOfFile: box.file("metrics/backup.prom"), encoding: .utf8)
            var values: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 2, "bad sample line: \(line)")
                values[String(parts[0])] = Double(parts[1])
            }
            #expect(text.contains("# TYPE database_backup_success_total counter"))
            return values
        }
        let key = try box.backup()
        var m = try metrics()
        #expect(m["database_backup_success_total{database=\"app.db\"}"] == 1)
        #expect(m["database_backup_failure_total{database=\"app.db\"}"] == 0)
        #expect(m["database_backup_size_bytes{database=\"app.db\"}"] == Double(Files.size(box.file("backups/" + key))!))
        let last = try #require(m["database_backup_last_success_timestamp_seconds{database=\"app.db\"}"])
        #expect(abs(last - Date().timeIntervalSince1970) < 120)
        #expect(m["database_backup_duration_seconds{database=\"app.db\"}"] != nil)

        _ = try box.backup()
        let failed = try box.run("backup", "--db", "app.db", env: ["BACKUP_ENCRYPTION_KEY_FILE": box.file("nope.key")])
        #expect(failed.status == 78)
        #expect(try box.run("restore", "--verify-only").status == 0)
        #expect(try box.run("clean-backup", "--keep-last", "1").status == 0)
        m = try metrics()
        #expect(m["database_backup_success_total{database=\"app.db\"}"] == 2)
        #expect(m["database_backup_failure_total{database=\"app.db\"}"] == 1)
        #expect(m["database_restore_success_total{database=\"all\"}"] == 1)
        #expect((m["database_restore_size_bytes{database=\"all\"}"] ?? 0) > 0)
        #expect(m["database_clean_success_total{database=\"all\"}"] == 1)
        #expect(m["database_clean_last_success_timestamp_seconds{database=\"all\"}"] != nil)
        // Readable by node_exporter's user; no temp file left beside it.
        let mode = try FileManager.default.attributesOfItem(atPath: box.file("metrics/backup.prom"))[.posixPermissions] as? Int
        #expect(mode == 0o644)
        #expect(box.dir.allFiles(under: "metrics").filter { $0.hasSuffix(".prom") || $0.hasSuffix(".lock") }.count == 2)
        #expect(box.dir.allFiles(under: "metrics").count == 2)
    }

    @Test("BACKUP_MIN_INTERVAL skips a backup (exit 0, nothing stored) while the newest is younger; --force does not skip")
    func minInterval() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let first = try box.backup()
        let skipped = try box.run("backup", "--db", "app.db", env: ["BACKUP_MIN_INTERVAL": "23h"])
        #expect(skipped.status == 0, "\(skipped.output)")
        #expect(skipped.stdout.isEmpty)
        #expect(skipped.stderr.contains("skipped") && skipped.stderr.contains("--force"))
        #expect(box.storedObjects().count == 1)
        let skipJSON = try json(try box.run("backup", "--db", "app.db", "--json", env: ["BACKUP_MIN_INTERVAL": "23h"]))
        #expect(skipJSON["skipped"] as? Bool == true && skipJSON["newest_key"] as? String == first)

        let forced = try box.run("backup", "--db", "app.db", "--force", env: ["BACKUP_MIN_INTERVAL": "23h"])
        #expect(forced.status == 0)
        #expect(box.storedObjects().count == 2)
        // Older than the interval: backs up.
        for key in try box.liveCatalogKeys() { try box.backdate(key, daysAgo: 1) }
        #expect(try box.run("backup", "--db", "app.db", env: ["BACKUP_MIN_INTERVAL": "23h"]).status == 0)
        #expect(box.storedObjects().count == 3)
        let bad = try box.run("backup", "--db", "app.db", env: ["BACKUP_MIN_INTERVAL": "soon"])
        #expect(bad.status == 78 && bad.stderr.contains("BACKUP_MIN_INTERVAL"))
    }

    @Test("backup --status: masked settings, storage check, newest age; exit 3 past BACKUP_MAX_AGE or with no backup")
    func status() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let none = try box.run("backup", "--status", "--db", "app.db")
        #expect(none.status == 3, "\(none.output)")
        #expect(none.stderr.contains("no backup found"))
        let key = try box.backup()
        let ok = try box.run("backup", "--status", "--db", "app.db", env: ["BACKUP_MAX_AGE": "1d"])
        #expect(ok.status == 0, "\(ok.output)")
        #expect(ok.stdout.contains("storage check  ok"))
        #expect(ok.stdout.contains(key))
        #expect(!ok.output.contains(box.keyText))
        let report = try json(try box.run("backup", "--status", "--db", "app.db", "--json"))
        let backups = try #require(report["backups"] as? [String: Any])
        #expect(backups["count"] as? Int == 1 && backups["newest_key"] as? String == key)
        let config = try #require(report["configuration"] as? [String: Any])
        #expect((config["key_id"] as? String)?.count == 16)

        try box.backdate(key, daysAgo: 2)
        let stale = try box.run("backup", "--status", "--db", "app.db", env: ["BACKUP_MAX_AGE": "1d"])
        #expect(stale.status == 3)
        #expect(stale.stderr.contains("older than BACKUP_MAX_AGE"))
        #expect(stale.stdout.contains("status         PROBLEM (exit 3)"))
        let quiet = try box.run("backup", "--status", "--quiet", env: ["BACKUP_MAX_AGE": "1d"])
        #expect(quiet.status == 3 && quiet.stdout.isEmpty && quiet.stderr.contains("BACKUP_MAX_AGE"), "cron mail still says why")
        let noKey = try box.run("backup", "--status", env: ["BACKUP_ENCRYPTION_KEY_FILE": ""])
        #expect(noKey.status == 78)
    }

    @Test("key rotation: an old backup names its key id until the retired key is listed, then restores")
    func keyRotation() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 700)
        let oldKey = box.keyText
        let oldBackup = try box.backup()
        let oldID = try EncryptionKey.parse(oldKey, source: "test").id
        let sidecar = try String(contentsOfFile: box.file("backups/" + oldBackup + ".meta.json"), encoding: .utf8)
        #expect(sidecar.contains(oldID) && !sidecar.contains(oldKey))

        // Rotate: a new current key.
        let newKey = try EncryptionKey.generateBase64()
        try (newKey + "\n").write(toFile: box.file("backup.key"), atomically: true, encoding: .utf8)
        let newBackup = try box.backup()
        let newID = try EncryptionKey.parse(newKey, source: "test").id
        #expect(try box.run("restore", "--key", newBackup, "--out", "new.db").status == 0)

        let missing = try box.run("restore", "--key", oldBackup, "--out", "old.db")
        #expect(missing.status == 78)
        #expect(missing.stderr.contains(oldID) && missing.stderr.contains("BACKUP_DECRYPTION_KEYS"))
        #expect(!missing.output.contains(oldKey) && !missing.output.contains(newKey))
        #expect(!FileManager.default.fileExists(atPath: box.file("old.db")))

        let listed = try box.run("restore", "--key", oldBackup, "--out", "old.db", env: ["BACKUP_DECRYPTION_KEYS": "\(try EncryptionKey.generateBase64()),\(oldKey)"])
        #expect(listed.status == 0, "\(listed.output)")
        #expect(try TestDatabase.count(box.file("old.db")) == 700)

        try "# retired 2026-11\n\(oldKey)\n".write(toFile: box.file("retired.keys"), atomically: true, encoding: .utf8)
        let fromFile = try box.run("restore", "--key", oldBackup, "--verify-only", "--json", env: ["BACKUP_DECRYPTION_KEYS_FILE": box.file("retired.keys")])
        #expect(fromFile.status == 0, "\(fromFile.output)")
        #expect(try json(fromFile)["key_id"] as? String == oldID)
        #expect(oldID != newID)
    }

    @Test("restore --sql writes a dump that a fresh sqlite3 loads into the same rows, schema objects included")
    func sqlExport() throws {
        let box = try Sandbox()
        let db = try SQLiteConnection(path: box.file("app.db"), mode: .readWriteCreate)
        try db.execute("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE notes(id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT, body BLOB, score REAL, n, total GENERATED ALWAYS AS (score * 2) VIRTUAL);
            CREATE TABLE tags(name TEXT PRIMARY KEY, uses INTEGER) WITHOUT ROWID;
            CREATE INDEX notes_score ON notes(score);
            CREATE VIEW top_notes AS SELECT title FROM notes WHERE score > 1;
            CREATE TRIGGER count_tags AFTER INSERT ON tags BEGIN UPDATE tags SET uses = uses + 1 WHERE name = NEW.name; END;
            """)
        let insert = try db.prepare("INSERT INTO notes(title, body, score, n) VALUES (?, ?, ?, ?)")
        let values: [[SQLiteValue]] = [
            [.text("it's \"quoted\"\nwith a newline; -- and a comment"), .blob([0, 1, 2, 255]), .real(0.1), .integer(Int64.max)],
            [.text("unicode: zażółć 🚀"), .blob([]), .real(1.0), .real(-0.0)],
            [.null, .null, .real(1e308), .text("1")],
            [.text("tiny"), .blob(Array(repeating: 7, count: 3000)), .real(Double.leastNonzeroMagnitude), .integer(Int64.min)],
        ]
        for row in values {
            try insert.bind(row)
            while try insert.step() {}
            try insert.reset()
        }
        for i in 0..<2000 { try db.run("INSERT INTO tags(name, uses) VALUES (?, ?)", [.text("tag\(i)"), .integer(Int64(i))]) }
        _ = try box.backup()
        let run = try box.run("restore", "--sql", "dump.sql")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == box.file("dump.sql"))
        let mode = try FileManager.default.attributesOfItem(atPath: box.file("dump.sql"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let load = try Tool.runProcess("/bin/sh", ["-c", "sqlite3 loaded.db < dump.sql"], in: box.path)
        #expect(load.status == 0, "\(load.output)")
        let compare = try Tool.python("compare_dbs.py", [box.file("app.db"), box.file("loaded.db")], in: box.path)
        #expect(compare.status == 0, "\(compare.output)")
        // Exact values survive, types included.
        let typed = try SQLiteConnection(path: box.file("loaded.db"), mode: .readOnly)
            .query("SELECT typeof(n), n, score FROM notes ORDER BY id")
        #expect(typed[0] == [.text("integer"), .integer(Int64.max), .real(0.1)])
        #expect(typed[1][0] == .text("real"))
        #expect(typed[2] == [.text("text"), .text("1"), .real(1e308)])
        #expect(typed[3][2] == .real(Double.leastNonzeroMagnitude))
        let exists = try box.run("restore", "--sql", "dump.sql")
        #expect(exists.status == 73)
    }

    @Test("backup --vacuum stores a compacted snapshot that restores to the same rows")
    func vacuumSnapshot() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 30_000, wal: false)
        try db.execute("DELETE FROM items WHERE id % 3 != 0")
        let plain = try json(try box.run("backup", "--db", "app.db", "--json"))
        let vacuumed = try json(try box.run("backup", "--db", "app.db", "--vacuum", "--json"))
        #expect(vacuumed["vacuum"] as? Bool == true)
        let plainSize = try #require(plain["source_size"] as? Int), vacuumSize = try #require(vacuumed["source_size"] as? Int)
        #expect(vacuumSize < plainSize * 3 / 4, "VACUUM INTO dropped the free pages: \(vacuumSize) vs \(plainSize)")
        let run = try box.run("restore", "--key", vacuumed["key"] as! String, "--out", "v.db")
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.rows(box.file("v.db")) == TestDatabase.rows(box.file("app.db")))
        let mode = try FileManager.default.attributesOfItem(atPath: box.file("v.db"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("restore --pick: a numbered list on a terminal, the chosen backup restored; no terminal is a 64; --yes takes the newest")
    func pick() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 100)
        _ = try box.backup()
        try TestDatabase.insert(db, from: 101, count: 50)
        _ = try box.backup()
        let run = try onTerminal(box, ["restore", "--pick", "--out", "picked.db"], answers: ["2"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.contains("  1) ") && run.stdout.contains("  2) "))
        #expect(run.stdout.contains("Restore which backup? [1-2"))
        #expect(try TestDatabase.count(box.file("picked.db")) == 100, "the second newest, as chosen")

        let quit = try onTerminal(box, ["restore", "--pick", "--out", "quit.db"], answers: ["q"])
        #expect(quit.status == 64)
        #expect(!FileManager.default.fileExists(atPath: box.file("quit.db")))

        let noTerminal = try box.run("restore", "--pick", "--out", "x.db")
        #expect(noTerminal.status == 64)
        #expect(noTerminal.stderr.contains("--key"))
        let yes = try box.run("restore", "--pick", "--yes", "--out", "newest.db")
        #expect(yes.status == 0, "\(yes.output)")
        #expect(try TestDatabase.count(box.file("newest.db")) == 150)
    }
}
