import Foundation
import Testing
@testable import BackupKit

/// gzip (the default, Laju's) and zstd through the executables: what each object records,
/// that restore reads both, that both live under one prefix, and the settings that choose.
struct CompressionTests {
    func json(_ run: ToolRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.output)")
    }

    @Test("databases whose size is a multiple of 128 KiB (libzstd's output buffer) back up and restore with zstd, beside sizes that are not",
          arguments: [160, 161, 256, 255])
    func zstdSizesAtBufferMultiples(pages: Int) throws {
        let box = try Sandbox()
        do {
            let db = try SQLiteConnection(path: box.file("app.db"), mode: .readWriteCreate)
            try db.execute("PRAGMA journal_mode = DELETE; CREATE TABLE t(b BLOB)")
            while try db.query("PRAGMA page_count").first?.first?.integer ?? 0 < Int64(pages) {
                _ = try db.run("INSERT INTO t VALUES (randomblob(300))")
            }
        }
        #expect(Files.size(box.file("app.db")) == Int64(pages) * 4096)
        let made = try box.run("backup", "--db", "app.db", "--compression", "zstd", "--json")
        let key = try #require(try json(made)["key"] as? String)
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 0, "\(run.output)")
        func rows(_ name: String) throws -> [[SQLiteValue]] {
            try SQLiteConnection(path: box.file(name), mode: .readOnly).query("SELECT rowid, b FROM t ORDER BY rowid")
        }
        #expect(try rows("r.db") == rows("app.db") && !rows("app.db").isEmpty)
    }

    @Test("a zstd backup: .db.zst.enc, comp=zstd in its metadata and row; every restore mode reads it; zstd's tool reads the deciphered object, Laju's reader cannot")
    func zstdRoundTrip() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 3000)
        let made = try json(try box.run("backup", "--db", "app.db", "--compression", "zstd", "--json"))
        let key = try #require(made["key"] as? String)
        #expect(key.hasSuffix(".db.zst.enc") && made["compression"] as? String == "zstd")
        let object = box.file("backups/" + key)
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: object + ".meta.json"))) as! [String: String]
        #expect(sidecar["comp"] == "zstd")
        let row = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false).record(forObjectKey: key)
        #expect(row?.compression == "zstd")

        for arguments in [["--key", key, "--out", "by-key.db"], ["--out", "newest.db"]] {
            let run = try box.run("restore", arguments)
            #expect(run.status == 0, "\(run.output)")
        }
        #expect(try TestDatabase.rows(box.file("by-key.db")) == TestDatabase.rows(box.file("app.db")))
        #expect(try TestDatabase.rows(box.file("newest.db")) == TestDatabase.rows(box.file("app.db")))
        #expect(try box.run("restore", "--verify-only").status == 0)
        let sql = try box.run("restore", "--sql", "dump.sql")
        #expect(sql.status == 0, "\(sql.output)")

        let deciphered = try Tool.python("laju_format.py", ["decipher", box.keyText, object, object + ".meta.json", box.file("plain.zst")], in: box.path)
        #expect(deciphered.status == 0, "\(deciphered.output)")
        let zstd = try Tool.runProcess("/usr/bin/env", ["zstd", "-dq", "plain.zst", "-o", "zstd.db"], in: box.path)
        #expect(zstd.status == 0, "\(zstd.output)")
        #expect(try TestDatabase.rows(box.file("zstd.db")) == TestDatabase.rows(box.file("app.db")))
        let laju = try Tool.python("laju_format.py", ["decrypt", box.keyText, object, object + ".meta.json", box.file("laju.db")], in: box.path)
        #expect(laju.status != 0, "Laju's gunzip cannot read zstd, as --help and the README say")
    }

    @Test("gzip and zstd backups under one prefix: --list shows both, each restores, clean applies its rules to both")
    func mixedPrefix() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 1000)
        let gzip = try box.backup()
        try TestDatabase.insert(db, from: 1001, count: 100)
        let zstd = try box.backup("app.db", "--compression", "zstd")
        try TestDatabase.insert(db, from: 1101, count: 100)
        let third = try box.run("backup", "--db", "app.db", env: ["BACKUP_COMPRESSION": "zstd", "BACKUP_COMPRESSION_LEVEL": "19"])
        #expect(third.status == 0, "\(third.output)")
        #expect(gzip.hasSuffix(".db.gz.enc") && zstd.hasSuffix(".db.zst.enc"))

        let list = try json(try box.run("restore", "--list", "--json"))
        let keys = (list["backups"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        #expect(keys.count == 3 && keys.contains(gzip) && keys.contains(zstd), "\(keys)")
        for (key, rows) in [(gzip, 1000), (zstd, 1100)] {
            let run = try box.run("restore", "--key", key, "--out", "\(rows).db")
            #expect(run.status == 0, "\(run.output)")
            #expect(try TestDatabase.count(box.file("\(rows).db")) == rows)
        }
        let clean = try json(try box.run("clean-backup", "--keep-last", "1", "--json"))
        #expect(Set(clean["deleted"] as? [String] ?? []) == [gzip, zstd])
        #expect(box.storedObjects().count == 1 && box.storedObjects()[0].hasSuffix(".db.zst.enc"))
    }

    @Test("the compression settings: unknown names and out-of-range levels are refused, naming the setting and the range")
    func settings() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let flag = try box.run("backup", "--db", "app.db", "--compression", "lz4")
        #expect(flag.status == 64 && flag.stderr.contains("'lz4' is invalid for '--compression"), "\(flag.output)")
        let gzipLevel = try box.run("backup", "--db", "app.db", "--compression", "gzip", "--compression-level", "12")
        #expect(gzipLevel.status == 64 && gzipLevel.stderr.contains("1 (fastest) to 9"), "\(gzipLevel.output)")
        let zstdLevel = try box.run("backup", "--db", "app.db", "--compression", "zstd", "--compression-level", "12")
        #expect(zstdLevel.status == 0, "12 is a zstd level: \(zstdLevel.output)")
        let environment = try box.run("backup", "--db", "app.db", env: ["BACKUP_COMPRESSION": "brotli"])
        #expect(environment.status == 78 && environment.stderr.contains("BACKUP_COMPRESSION=brotli"), "\(environment.output)")
        let levelForGzip = try box.run("backup", "--db", "app.db", env: ["BACKUP_COMPRESSION_LEVEL": "12"])
        #expect(levelForGzip.status == 78 && levelForGzip.stderr.contains("BACKUP_COMPRESSION_LEVEL=12"), "\(levelForGzip.output)")
        let status = try box.run("backup", "--status", env: ["BACKUP_COMPRESSION": "zstd"])
        #expect(status.stdout.contains("zstd level 3"), "\(status.stdout)")
        #expect(box.storedObjects().count == 1)
    }

    @Test("a zstd backup on S3 carries comp=zstd in its headers and restores with the catalog gone")
    func zstdOnS3() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 2000)
        let key = try box.backup("app.db", "--compression", "zstd")
        #expect(key.hasSuffix(".db.zst.enc"))
        let get = try box.peer("get", key, box.file("object"), box.file("meta.json"))
        #expect(get.status == 0, "\(get.output)")
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: box.file("meta.json")))) as! [String: String]
        #expect(meta["comp"] == "zstd")
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let restored = try box.run("restore", "--out", "r.db")
        #expect(restored.status == 0, "\(restored.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))
    }
}
