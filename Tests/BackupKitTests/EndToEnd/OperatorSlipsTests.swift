import Foundation
import Testing
@testable import BackupKit

/// What an operator trips over: typos, wrong flag values, the wrong folder, a readable key.
struct OperatorSlipsTests {
    @Test("a bad flag value is a usage error (64) naming the flag; a level out of range names each algorithm's range")
    func flagValues() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 5)
        let storage = try box.run("backup", "--db", "app.db", "--storage", "gcs")
        #expect(storage.status == 64 && storage.stderr.contains("--storage") && storage.stderr.contains("s3"), "\(storage.output)")
        let prefix = try box.run("restore", "--list", "--prefix", "../../x/")
        #expect(prefix.status == 64 && prefix.stderr.contains("--prefix"), "\(prefix.output)")
        let level = try box.run("backup", "--db", "app.db", "--compression-level", "30")
        #expect(level.status == 64 && level.stderr.contains("1 to 9 for gzip") && level.stderr.contains("1 to 19 for zstd"), "\(level.output)")
        let compression = try box.run("backup", "--db", "app.db", "--compression", "lz4")
        #expect(compression.status == 64 && compression.stderr.contains("--compression"), "\(compression.output)")
    }

    @Test("an existing --out or --sql names --overwrite")
    func existingOutput() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 5)
        _ = try box.backup()
        for flag in ["--out", "--sql"] {
            let run = try box.run("restore", flag, "app.db")
            #expect(run.status == 73 && run.stderr.contains("--overwrite") && run.stderr.contains("another \(flag)"), "\(run.output)")
        }
    }

    @Test("an unknown BACKUP_/S3_/WASABI_ variable is warned once, naming the likely setting")
    func unknownVariables() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 5)
        try "S3_BUCKT=mybackups\nBACKUP_RETENTON_DAYS=3\n".write(toFile: box.file(".env"), atomically: true, encoding: .utf8)
        let run = try box.run("backup", "--db", "app.db")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("S3_BUCKT is not a setting") && run.stderr.contains("did you mean S3_BUCKET?"), "\(run.stderr)")
        #expect(run.stderr.contains("did you mean BACKUP_RETENTION_DAYS?"), "\(run.stderr)")
        #expect(run.stderr.components(separatedBy: "S3_BUCKT is not").count == 2, "once")
    }

    @Test("--generate-key-file writes the key 0600 whatever the umask and never replaces a file; --status warns of a readable key")
    func keyFiles() throws {
        let box = try Sandbox()
        let made = try Tool.runProcess("/bin/bash", ["-c", "umask 022; '\(Tool.path("backup"))' --generate-key-file new.key"], in: box.path)
        #expect(made.status == 0 && made.stderr.contains("wrote a new key (id "), "\(made.output)")
        let text = try String(contentsOfFile: box.file("new.key"), encoding: .utf8)
        #expect(!made.output.contains(text.trimmingCharacters(in: .whitespacesAndNewlines)), "the key is never printed")
        #expect(try FileManager.default.attributesOfItem(atPath: box.file("new.key"))[.posixPermissions] as? Int == 0o600)
        #expect(try EncryptionKey.parse(text, source: "test").bytes.count == 32)
        let again = try box.run("backup", "--generate-key-file", "new.key")
        #expect(again.status == 64 && again.stderr.contains("never replaced"), "\(again.output)")
        #expect(try String(contentsOfFile: box.file("new.key"), encoding: .utf8) == text)

        chmod(box.file("backup.key"), 0o644)
        try TestDatabase.make(box.file("app.db"), rows: 5)
        let status = try box.run("backup", "--status", "--db", "app.db")
        #expect(status.stderr.contains("can be read by other users") && status.stderr.contains("chmod 600"), "\(status.output)")
    }

    @Test("read-only commands in the wrong folder create nothing and say where they looked")
    func wrongFolder() throws {
        let box = try Sandbox()
        let list = try box.run("restore", "--list")
        #expect(list.status == 0 && list.stderr.contains("no backups found under \(box.file("backups"))"), "\(list.output)")
        let status = try box.run("backup", "--status")
        #expect(status.status == 3 && status.stderr.contains(box.file("backups")), "\(status.output)")
        let check = try box.run("clean-backup", "--check")
        #expect(check.status == 0, "\(check.output)")
        #expect(!FileManager.default.fileExists(atPath: box.file("backups")), "nothing was created")
    }

    @Test("--list shows time in the --at zone with its offset, kind, restored and stored size, database; --bytes and --json are exact")
    func listing() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 200)
        let full = try box.backup()
        let incremental = try box.backup("app.db", "--incremental")
        let human = try box.run("restore", ["--list"], env: ["TZ": "Asia/Kolkata"])
        let lines = human.stdoutLines
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains("+05:30") && $0.contains("app.db") }, "\(human.stdout)")
        #expect(lines.first { $0.contains(incremental) }?.contains("incremental") == true && lines.first { $0.contains(full) }?.contains("full") == true)
        let exact = try box.run("restore", "--list", "--bytes")
        let size = try #require(Files.size(box.file("app.db")))
        #expect(exact.stdoutLines.allSatisfy { $0.contains("  \(size)  ") }, "the restored size in bytes: \(exact.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try box.run("restore", "--list", "--json").stdout.utf8)) as? [String: Any])
        #expect(json["ok"] as? Bool == true && (json["location"] as? String)?.hasPrefix(box.file("backups")) == true, "\(json)")
        let items = (json["backups"] as? [[String: Any]]) ?? []
        #expect(items.map { $0["kind"] as? String }.sorted { ($0 ?? "") < ($1 ?? "") } == ["full", "incremental"] && items.allSatisfy { ($0["restored_size"] as? Int).map(Int64.init) == size }, "\(items)")
        #expect(try box.run("restore", "--bytes").status == 64)
    }

    @Test("a name that does not resolve, or https against a plain-HTTP endpoint, fails at once (69) naming the endpoint and the fix, unretried")
    func endpointTypos() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 5)
        let endpoint = try #require(box.environment["S3_ENDPOINT"])
        for (url, fix) in [("http://no-such-host.invalid:9000", "does not resolve"),
                           (endpoint.replacingOccurrences(of: "http://", with: "https://"), "write http://")] {
            let run = try box.run("backup", ["--db", "app.db", "--verbose"], env: ["S3_ENDPOINT": url, "BACKUP_S3_RETRIES": "6"])
            #expect(run.status == 69 && run.stderr.contains(fix) && run.stderr.contains(url.replacingOccurrences(of: "http://", with: "").replacingOccurrences(of: "https://", with: "")), "\(url): \(run.output)")
            #expect(!run.stderr.contains("BACKUP_S3_RETRIES"), "not a retry problem: \(run.stderr)")
            #expect(!run.stderr.contains("retrying"), "not retried: \(run.stderr)")
        }
    }

    @Test("one catalog over two storage locations: each compares only its own rows (no 'storage no longer has it' for the other's)")
    func catalogRowsPerLocation() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 5)
        _ = try box.backup()
        let local = ["BACKUP_STORAGE": "local", "S3_BUCKET": ""]
        #expect(try box.run("backup", ["--db", "app.db"], env: local).status == 0)
        for env in [local, [:]] {
            let list = try box.run("restore", ["--list"], env: env)
            #expect(list.status == 0 && list.stdoutLines.count == 1 && !list.stderr.contains("no longer has"), "\(env): \(list.output)")
        }
        // A row of this location whose object is gone is still said.
        let key = try #require(box.storedObjects().first)
        try FileManager.default.removeItem(atPath: box.file("backups/" + key))
        let gone = try box.run("restore", ["--list"], env: local)
        #expect(gone.stderr.contains("\(key) but storage no longer has it"), "\(gone.output)")
    }

    @Test("messages name the real cause: a truncated database, a folder as --db or --target, a text file as --target, an empty database")
    func realCauses() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 3000, wal: false)
        _ = try box.backup()
        try FileManager.default.copyItem(atPath: box.file("app.db"), toPath: box.file("cut.db"))
        #expect(truncate(box.file("cut.db"), off_t(Files.size(box.file("cut.db"))! / 2)) == 0)
        let cut = try box.run("backup", "--db", "cut.db")
        #expect(cut.status == 65 && cut.stderr.contains("it was truncated") && !cut.stderr.contains("not an error"), "\(cut.output)")
        try FileManager.default.createDirectory(atPath: box.file("folder"), withIntermediateDirectories: true)
        let folder = try box.run("backup", "--db", "folder")
        #expect(folder.status == 66 && folder.stderr.contains("is a folder") && folder.stderr.contains("--db"), "\(folder.output)")
        let targetFolder = try box.run("restore", "--db", "app.db", "--target", "folder", "--yes")
        #expect(targetFolder.status == 66 && targetFolder.stderr.contains("is a folder") && targetFolder.stderr.contains("--target"), "\(targetFolder.output)")
        try "my notes\n".write(toFile: box.file("notes.txt"), atomically: true, encoding: .utf8)
        let notes = try box.run("restore", "--db", "app.db", "--target", "notes.txt", "--yes")
        #expect(notes.status == 65 && notes.stderr.contains("is not a SQLite database") && notes.stderr.contains("--out"), "\(notes.output)")
        #expect(try String(contentsOfFile: box.file("notes.txt"), encoding: .utf8) == "my notes\n")
        #expect(FileManager.default.createFile(atPath: box.file("empty.db"), contents: Data()))
        let empty = try box.run("backup", "--db", "empty.db")
        #expect(empty.status == 0 && empty.stderr.contains("is empty (0 bytes)"), "\(empty.output)")
    }
}

/// Waits and permissions that used to be silent or named the wrong cause.
struct OperatorWaitTests {
    /// Starts a writer holding `mode` on `database` for `seconds`; returns once it holds it.
    private func holdLock(_ database: String, seconds: Int, mode: String) throws -> Process {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        holder.arguments = [Fixtures.path("hold_sqlite_lock.py"), database, String(seconds), mode]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        #expect(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("held"))
        return holder
    }

    @Test("a backup waiting for a rollback database's writer, and a --target restore waiting for the target's, say what they wait for")
    func lockWaitsAreSaid() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 50, wal: false)
        let writer = try holdLock(box.file("app.db"), seconds: 3, mode: "exclusive")
        let backup = try box.run("backup", "--db", "app.db")
        writer.waitUntilExit()
        #expect(backup.status == 0, "\(backup.output)")
        #expect(backup.stderr.contains("waiting for \(box.file("app.db")): another connection holds a lock on it (giving up after 30 s"), "\(backup.stderr)")
        #expect(backup.stderr.components(separatedBy: "waiting for").count == 2, "said once")

        let target = try holdLock(box.file("app.db"), seconds: 3, mode: "immediate")
        let restore = try box.run("restore", "--target", "app.db", "--yes")
        target.waitUntilExit()
        #expect(restore.status == 0, "\(restore.output)")
        #expect(restore.stderr.contains("waiting for \(box.file("app.db")): another connection holds a lock"), "\(restore.stderr)")
        #expect(try TestDatabase.count(box.file("app.db")) == 50)
    }

    @Test("a WAL database in a folder this user cannot write names the folder and the -shm file, not the snapshot")
    func walInUnwritableFolder() throws {
        let box = try Sandbox()
        let folder = box.file("data")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try TestDatabase.make(folder + "/app.db", rows: 20, wal: true)
        let unlock = try UnwritableFolder.lock(folder)
        defer { unlock() }
        let run = try box.run("backup", "--db", "data/app.db")
        #expect(run.status == 73, "\(run.output)")
        #expect(run.stderr.contains("app.db-shm") && run.stderr.contains("\(box.path)/data is not writable") && !run.stderr.contains("snapshot"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(box.dir.allFiles(under: "backups").filter { $0.hasSuffix(".enc") }.isEmpty)
    }
}
