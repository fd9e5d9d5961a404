import Foundation
import Testing
@testable import BackupKit

/// Bad input gets a one-line error, a documented exit code, and nothing written.
struct FailureTests {
    func flipByte(in path: String, at offset: Int) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data[offset] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// The restore wrote nothing: no output, no temp file beside it, nothing left in .work.
    func expectNothingWritten(_ box: Sandbox, output: String, before: [String]) {
        #expect(!FileManager.default.fileExists(atPath: box.file(output)))
        #expect(box.dir.allFiles() == before)
    }

    @Test("a wrong key: 78 naming the key id the backup needs; for an object without a key id, 65; nothing written")
    func wrongKey() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let key = try box.backup()
        let before = box.dir.allFiles()
        let otherKey = try EncryptionKey.generateBase64()
        let env = ["BACKUP_ENCRYPTION_KEY_FILE": "", "BACKUP_ENCRYPTION_KEY": otherKey]
        let run = try box.run("restore", "--key", key, "--out", "r.db", env: env)
        #expect(run.status == 78)
        #expect(run.stderr.contains(try EncryptionKey.parse(box.keyText, source: "test").id))
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(!run.output.contains(otherKey) && !run.output.contains(box.keyText))
        expectNothingWritten(box, output: "r.db", before: before)

        // Without a recorded key id and MAC (as Laju's objects), the tag decides: 65. (The
        // catalog's sealed row would still name the key: it goes too.)
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let sidecar = box.file("backups/" + key + ".meta.json")
        var meta = ObjectMetadata.fromSidecarJSON(try Data(contentsOf: URL(fileURLWithPath: sidecar)))!
        meta.values[ObjectMetadata.Field.keyID] = nil
        meta.values[ObjectMetadata.Field.mac] = nil
        try Data(try meta.sidecarJSON()).write(to: URL(fileURLWithPath: sidecar))
        let before2 = box.dir.allFiles()
        let anonymous = try box.run("restore", "--key", key, "--out", "r.db", env: env)
        #expect(anonymous.status == 65)
        #expect(anonymous.stderr.contains("has no authenticated metadata"), "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("does not decrypt with the configured key"))
        #expect(!anonymous.output.contains(otherKey) && !anonymous.output.contains(box.keyText))
        expectNothingWritten(box, output: "r.db", before: before2)
    }

    @Test("one flipped byte in the stored object exits 65 and writes nothing", arguments: [0, 5000, -1])
    func flippedByte(_ position: Int) throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 2000)
        let key = try box.backup()
        let object = box.file("backups/" + key)
        let size = Int(Files.size(object)!)
        try flipByte(in: object, at: position < 0 ? size - 1 : min(position, size - 1))
        let before = box.dir.allFiles()
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 65)
        #expect(run.stderr.contains("checksum does not match"))
        expectNothingWritten(box, output: "r.db", before: before)
    }

    @Test("a flipped byte with a matching checksum (catalog and sidecar rewritten) still fails authentication")
    func tamperedObjectWithForgedChecksum() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 2000)
        let key = try box.backup()
        let object = box.file("backups/" + key)
        try flipByte(in: object, at: 100)
        // The attacker also rewrites the checksum everywhere; only the GCM tag is left to catch it.
        let md5 = Digest.hash(.md5, Array(try Data(contentsOf: URL(fileURLWithPath: object)))).hexString
        var meta = ObjectMetadata.fromSidecarJSON(try Data(contentsOf: URL(fileURLWithPath: object + ".meta.json")))!
        meta[ObjectMetadata.Field.checksum] = md5
        try Data(try meta.sidecarJSON()).write(to: URL(fileURLWithPath: object + ".meta.json"))
        try SQLiteConnection(path: box.file("backups/catalog.sqlite"), mode: .readWrite)
            .run("UPDATE backup_files SET checksum = ? WHERE key = ?", [.text(md5), .text(key)])
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 65)
        #expect(!FileManager.default.fileExists(atPath: box.file("r.db")))
    }

    @Test("a truncated object exits 65 and writes nothing")
    func truncatedObject() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 2000)
        let key = try box.backup()
        let object = box.file("backups/" + key)
        #expect(truncate(object, off_t(Files.size(object)! / 2)) == 0)
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 65)
        #expect(!FileManager.default.fileExists(atPath: box.file("r.db")))
    }

    enum MetadataDamage: String, CaseIterable { case missingIV, missingTag, malformedIV, wrongIV, wrongTag }

    @Test("altered iv/tag metadata exits 65: refused by its MAC, or without a MAC (Laju's) by a message naming it; nothing written",
          arguments: MetadataDamage.allCases, [true, false])
    func damagedMetadata(_ damage: MetadataDamage, sealed: Bool) throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let key = try box.backup()
        // The catalog would supply the right values: damage the object's own metadata without it.
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let sidecar = box.file("backups/" + key + ".meta.json")
        var meta = ObjectMetadata.fromSidecarJSON(try Data(contentsOf: URL(fileURLWithPath: sidecar)))!
        let other = Data(try SecureRandom.bytes(16))
        switch damage {
        case .missingIV: meta.values["iv"] = nil
        case .missingTag: meta.values["tag"] = nil
        case .malformedIV: meta.values["iv"] = "not base64!"
        case .wrongIV: meta.values["iv"] = other.prefix(12).base64EncodedString()
        case .wrongTag: meta.values["tag"] = other.base64EncodedString()
        }
        if !sealed { meta.values[ObjectMetadata.Field.mac] = nil }
        try Data(try meta.sidecarJSON()).write(to: URL(fileURLWithPath: sidecar))
        let before = box.dir.allFiles()
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 65, "\(run.output)")
        let lines = run.stderr.split(separator: "\n")
        if sealed {
            #expect(lines.count == 1 && run.stderr.contains("its MAC does not verify"), "\(run.stderr)")
        } else {
            #expect(lines.count == 2 && lines[0].contains("WARN") && lines[0].contains("has no authenticated metadata"), "\(run.stderr)")
            let expected = [MetadataDamage.missingIV: "no iv", .missingTag: "no tag", .malformedIV: "iv is not base64",
                            .wrongIV: "iv/tag", .wrongTag: "iv/tag"][damage]!
            #expect(lines.last!.contains(expected), "\(run.stderr)")
        }
        expectNothingWritten(box, output: "r.db", before: before)
    }

    @Test("an output folder that cannot be written exits 73 and writes nothing")
    func unwritableOutputFolder() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let key = try box.backup()
        let unlock = try UnwritableFolder.make(box.file("locked"))
        defer { unlock() }
        let before = box.dir.allFiles()
        for arguments in [["--out", "locked/r.db"], ["--sql", "locked/r.sql"]] {
            let run = try box.run("restore", ["--key", key] + arguments)
            #expect(run.status == 73, "\(run.output)")
            #expect(run.stderr.contains("locked/r."))
            #expect(run.stderr.split(separator: "\n").count == 1)
            #expect(box.dir.allFiles() == before)
        }
    }

    @Test("backup of a missing database exits 66; of a file that is not SQLite exits 65; nothing is stored")
    func badDatabases() throws {
        let box = try Sandbox()
        let missing = try box.run("backup", "--db", "nope.db")
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("nope.db"))
        try String(repeating: "not a database\n", count: 100).write(toFile: box.file("text.db"), atomically: true, encoding: .utf8)
        let notSQLite = try box.run("backup", "--db", "text.db")
        #expect(notSQLite.status == 65)
        #expect(notSQLite.stderr.contains("not a SQLite database"))
        #expect(box.storedObjects().isEmpty)
    }

    @Test("a corrupt database fails quick_check: exit 65, nothing uploaded, no catalog row")
    func corruptDatabaseIsNotUploaded() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 20_000, wal: false)
        let good = try box.backup()
        // Scribble over a page in the middle of the file, keeping the header intact.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: box.file("app.db")))
        try handle.seek(toOffset: UInt64(Files.size(box.file("app.db"))! / 2))
        handle.write(Data(repeating: 0xA5, count: 8192))
        try handle.close()
        let run = try box.run("backup", "--db", "app.db")
        #expect(run.status == 65)
        #expect(box.storedObjects() == [good])
        #expect(try box.liveCatalogKeys() == [good])
    }

    @Test("no key, and a malformed key, exit 78 without echoing the key")
    func keyProblems() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let none = try box.run("backup", "--db", "app.db", env: ["BACKUP_ENCRYPTION_KEY_FILE": ""])
        #expect(none.status == 78)
        #expect(none.stderr.contains("BACKUP_ENCRYPTION_KEY"))
        let secret = "tooshort-secret-value"
        let bad = try box.run("backup", "--db", "app.db", env: ["BACKUP_ENCRYPTION_KEY_FILE": "", "BACKUP_ENCRYPTION_KEY": secret])
        #expect(bad.status == 78)
        #expect(!bad.output.contains(secret))
        #expect(box.storedObjects().isEmpty)
    }

    @Test("keys with ../ or an absolute path are refused with 64", arguments: ["../../etc/passwd", "/etc/passwd", "backups/../../x.db.gz.enc"])
    func unsafeKeys(_ key: String) throws {
        let box = try Sandbox()
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 64)
        #expect(run.stderr.contains("refusing key"))
    }

    @Test("an unknown key exits 66; an output folder that does not exist exits 73")
    func missingKeyAndBadOutput() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let key = try box.backup()
        let unknown = try box.run("restore", "--key", "backups/nothing.db.gz.enc", "--out", "r.db")
        #expect(unknown.status == 66)
        let badOut = try box.run("restore", "--key", key, "--out", "no/such/folder/r.db")
        #expect(badOut.status == 73)
        try "x".write(toFile: box.file("exists.db"), atomically: true, encoding: .utf8)
        let exists = try box.run("restore", "--key", key, "--out", "exists.db")
        #expect(exists.status == 73)
        #expect(try String(contentsOfFile: box.file("exists.db"), encoding: .utf8) == "x")
    }

    @Test("a full disk during restore (ulimit -f) exits 73 and leaves no partial file")
    func diskFullDuringRestore() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 30_000)
        let key = try box.backup()
        let before = box.dir.allFiles()
        var env = box.environment
        env["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        // 1024-byte blocks: a 2 MiB limit, well under the database's size.
        let script = "ulimit -f 2048; exec \"$0\" \"$@\""
        let run = try Tool.runProcess("/bin/bash", ["-c", script, Tool.path("restore"), "--key", key, "--out", "r.db"], in: box.path, environment: env)
        #expect(run.status == 73, "\(run.output)")
        expectNothingWritten(box, output: "r.db", before: before)
    }

    @Test("bad usage exits 64 with a message naming the flag")
    func badUsage() throws {
        let box = try Sandbox()
        let both = try box.run("restore", "--list", "--verify-only")
        #expect(both.status == 64)
        let level = try box.run("backup", "--db", "x.db", "--compression-level", "12")
        #expect(level.status == 64)
        #expect(level.stderr.contains("--compression-level"))
    }
}
