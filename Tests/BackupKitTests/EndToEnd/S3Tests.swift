import Foundation
import Testing
@testable import BackupKit

/// The executables against a real S3 server on loopback (SeaweedFS, checking SigV4), each
/// test in a bucket of its own with the default prefix `backups/`, read back by an
/// independent client (boto3).
struct S3Tests {
    @Test("S3 round trip: backup, restore latest and by key, read back by boto3 with Laju's restore logic")
    func roundTrip() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        let db = try TestDatabase.make(box.file("app.db"), rows: 3000)
        let first = try box.backup()
        try TestDatabase.insert(db, from: 3001, count: 500)
        let second = try box.backup()
        #expect(first.hasPrefix(box.prefix + "app.db-"))
        #expect(try box.peerKeys().sorted() == [first, second].sorted())

        let latest = try box.run("restore", "--db", "app.db", "--out", "latest.db")
        #expect(latest.status == 0, "\(latest.output)")
        #expect(try TestDatabase.count(box.file("latest.db")) == 3500)
        let byKey = try box.run("restore", "--key", first, "--out", "first.db")
        #expect(byKey.status == 0, "\(byKey.output)")
        #expect(try TestDatabase.count(box.file("first.db")) == 3000)

        // boto3 downloads the object with its x-amz-meta-* headers; Laju's logic decrypts it.
        let get = try box.peer("get", second, box.file("object"), box.file("meta.json"))
        #expect(get.status == 0, "\(get.output)")
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: box.file("meta.json")))) as! [String: String]
        for field in ["algo", "iv", "tag", "comp", "checksum", "key-id"] { #expect(meta[field] != nil, "missing \(field)") }
        let laju = try Tool.python("laju_format.py", ["decrypt", box.keyText, box.file("object"), box.file("meta.json"), box.file("laju.db")], in: box.path)
        #expect(laju.status == 0, "\(laju.output)")
        #expect(try TestDatabase.rows(box.file("laju.db")) == TestDatabase.rows(box.file("app.db")))
        // And with Node's own createDecipheriv and createGunzip, as restore.ts uses them.
        let node = try Tool.runProcess("/usr/bin/env", ["node", Fixtures.path("laju_restore.mjs"), box.file("backup.key"),
                                                        box.file("object"), box.file("meta.json"), box.file("node.db")], in: box.path)
        #expect(node.status == 0, "\(node.output)")
        #expect(try TestDatabase.rows(box.file("node.db")) == TestDatabase.rows(box.file("app.db")))
    }

    @Test("with the catalog deleted: restore by key and latest work; --list re-indexes from object metadata")
    func catalogLost() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 800)
        let key = try box.backup()
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let byKey = try box.run("restore", "--key", key, "--out", "a.db")
        #expect(byKey.status == 0, "\(byKey.output)")
        #expect(try TestDatabase.count(box.file("a.db")) == 800)
        #expect(!FileManager.default.fileExists(atPath: box.file("backups/catalog.sqlite")), "restore by key needs no catalog")

        let list = try box.run("restore", "--list")
        #expect(list.status == 0, "\(list.output)")
        #expect(list.stdout.contains(key))
        #expect(list.stderr.contains("re-indexed 1"))
        let row = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false).record(forObjectKey: key)
        #expect(row?.storage == "s3" && row?.encTag != nil && row?.checksum?.count == 32)
    }

    @Test("multipart: one write under the final key (no copy, no temp object, every request with a length); Laju's reader restores it from its headers alone")
    func multipart() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        box.environment["BACKUP_S3_MULTIPART_THRESHOLD_MB"] = "5"
        box.environment["BACKUP_S3_PART_SIZE_MB"] = "5"
        box.environment["BACKUP_SSE"] = "true"
        let proxy = try QuirkProxy(box, upstream: S3TestServer.seaweed.get())
        try TestDatabase.makeIncompressible(box.file("app.db"))
        let run = try box.run("backup", "--db", "app.db", "--json", "-v", env: proxy.environment)
        #expect(run.status == 0, "\(run.output)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let key = json["key"] as! String
        #expect((json["stored_size"] as! Int) > 15 << 20)
        #expect(try box.peerKeys() == [key])
        #expect(try box.peerUploads().isEmpty)
        let requests = try proxy.requests()
        #expect(requests.filter { $0["kind"] as? String == "part" }.count == 4, "four 5 MiB parts")
        #expect(requests.allSatisfy { $0["copy_source"] is NSNull }, "no server-side copy")
        #expect(requests.allSatisfy { $0["has_length"] as? Bool == true }, "every request carries a length")
        #expect(!requests.contains { ($0["path"] as? String ?? "").contains(".tmp-") }, "no temp object")
        #expect(requests.filter { $0["method"] as? String == "PUT" && $0["kind"] as? String == "put" }.isEmpty, "no PutObject besides the parts")
        let head = try JSONSerialization.jsonObject(with: Data(try box.peer("head", key).stdout.utf8)) as! [String: Any]
        #expect(head["sse"] as? String == "AES256")

        // The independent Laju-format reader: object and x-amz-meta-* headers only, no catalog.
        let get = try box.peer("get", key, box.file("object"), box.file("meta.json"))
        #expect(get.status == 0, "\(get.output)")
        let laju = try Tool.python("laju_format.py", ["decrypt", box.keyText, box.file("object"), box.file("meta.json"), box.file("laju.db")], in: box.path)
        #expect(laju.status == 0, "\(laju.output)")
        #expect(try TestDatabase.blobs(box.file("laju.db")) == TestDatabase.blobs(box.file("app.db")))
        let restore = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.blobs(box.file("r.db")) == TestDatabase.blobs(box.file("app.db")))
    }

    @Test("a full backup of more than two 4 MiB parts restores through parallel ranged GETs that cover it once, each If-Match the version planned; replaced while downloading, the restore fails with 69 and writes nothing")
    func parallelRangedRestore() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 16_000)
        let key = try box.backup()
        let proxy = try QuirkProxy(box, upstream: S3TestServer.seaweed.get())
        let run = try box.run("restore", ["--key", key, "--out", "r.db"], env: proxy.environment)
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.blobs(box.file("r.db")) == TestDatabase.blobs(box.file("app.db")))

        let head = try box.peer("head", key)
        let size = try #require((try JSONSerialization.jsonObject(with: Data(head.stdout.utf8)) as? [String: Any])?["size"] as? Int, "\(head.output)")
        #expect(size > 48 << 20, "the object spans more parts than the download holds ahead")
        let gets = try proxy.requests().filter { $0["method"] as? String == "GET" && ($0["path"] as? String ?? "").hasSuffix(key) }
        let ranges = try gets.map { request -> (Int, Int) in
            let text = try #require(request["range"] as? String, "every GET is ranged: \(request)")
            let bounds = text.dropFirst("bytes=".count).split(separator: "-").compactMap { Int($0) }
            try #require(bounds.count == 2, "\(text)")
            return (bounds[0], bounds[1] + 1)
        }.sorted { $0.0 < $1.0 }
        #expect(ranges.count == (size + (4 << 20) - 1) / (4 << 20), "\(ranges)")
        #expect(ranges.first?.0 == 0 && ranges.last?.1 == size && zip(ranges, ranges.dropFirst()).allSatisfy { $0.1 == $1.0 },
                "the ranges cover the object once: \(ranges)")
        let versions = Set(gets.map { $0["if_match"] as? String ?? "none" })
        #expect(versions.count == 1 && !versions.contains("none"), "\(versions)")

        // Another backup's bytes and metadata replace the object while it downloads.
        let db = try SQLiteConnection(path: box.file("app.db"), mode: .readWrite)
        try db.execute("DELETE FROM blobs WHERE id > 14000")
        let other = try box.backup()
        #expect(try box.peer("get", other, box.file("other"), box.file("other.json")).status == 0)
        let paused = try PausedRun(box, "restore", ["--key", key, "--out", "s.db"], at: .midRestore)
        let put = try box.peer("put", key, box.file("other"), box.file("other.json"))
        #expect(put.status == 0, "\(put.output)")
        let replaced = try paused.resume()
        #expect(replaced.status == 69 && replaced.stderr.contains("was replaced in storage while it was downloading"), "\(replaced.output)")
        #expect(!FileManager.default.fileExists(atPath: box.file("s.db")))
    }

    @Test("a wrong secret: clear error naming the credentials, exit 78, the secret never printed")
    func wrongSecret() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let secret = "Wr0ngSecretValueThatMustNotLeak/abc123"
        for arguments in [["backup", "--db", "app.db"], ["restore", "--list"], ["clean-backup"]] {
            let run = try box.run(arguments[0], Array(arguments.dropFirst()) + ["-v"], env: ["S3_SECRET_KEY": secret])
            #expect(run.status == 78, "\(arguments[0]): \(run.output)")
            #expect(run.stderr.contains("S3_SECRET_KEY"))
            #expect(!run.output.contains(secret))
        }
        #expect(try box.peerKeys().isEmpty)
    }

    @Test("retention deletes objects from S3 and marks their rows")
    func retention() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 10)
        var keys: [String] = []
        for _ in 0..<4 { keys.append(try box.backup()) }
        let run = try box.run("clean-backup", "--keep-last", "1", "--json")
        #expect(run.status == 0, "\(run.output)")
        #expect(try box.peerKeys() == [keys.last!])
        #expect(try box.liveCatalogKeys() == [keys.last!])
    }

    @Test("listing past one page: every backup is listed and counted by retention")
    func listingPastOnePage() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        box.environment["BACKUP_S3_LIST_PAGE_SIZE"] = "2"
        try TestDatabase.make(box.file("app.db"), rows: 10)
        var keys: [String] = []
        for _ in 0..<5 { keys.append(try box.backup()) }
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let list = try box.run("restore", "--list", "--json")
        #expect(list.status == 0, "\(list.output)")
        let json = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [String: Any]
        #expect(Set((json["backups"] as! [[String: Any]]).map { $0["key"] as! String }) == Set(keys))
    }

    @Test("clean-backup aborts abandoned multipart uploads and removes temp objects older versions left; young ones are kept")
    func abandonedUploadsRemoved() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 10)
        _ = try box.backup()
        let started = try box.peer("start-multipart", box.prefix + "app.db-crashed.db.gz.enc")
        #expect(started.status == 0, "\(started.output)")
        let oldTemp = box.prefix + "app.db-20250101T000000Z-x.db.gz.enc.tmp-4242-abcdef12"
        #expect(try box.peer("put-bytes", oldTemp, "partial").status == 0)
        let young = try box.run("clean-backup")
        #expect(young.status == 0, "\(young.output)")
        #expect(try box.peerUploads().count == 1, "a young upload may still be running: kept")
        #expect(try box.peerKeys().contains(oldTemp))
        let run = try box.run("clean-backup", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"])
        #expect(run.status == 0, "\(run.output)")
        #expect(try box.peerUploads().isEmpty)
        #expect(try !box.peerKeys().contains(oldTemp))
    }

    @Test("an odd prefix (space, '+', '=', non-ASCII) through backup, list, restore and clean")
    func oddPrefix() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        box.environment["BACKUP_PREFIX"] = "odd dir/a+b=c ünï/"
        box.environment["BACKUP_S3_LIST_PAGE_SIZE"] = "1"
        try TestDatabase.make(box.file("app.db"), rows: 200)
        let first = try box.backup()
        let second = try box.backup()
        #expect(first.hasPrefix("odd dir/a+b=c ünï/app.db-"))
        #expect(try box.peerKeys().sorted() == [first, second].sorted())
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        let list = try box.run("restore", "--list", "--db", "app.db", "--json")
        #expect(list.status == 0, "\(list.output)")
        #expect(list.stdout.contains(first) && list.stdout.contains(second))
        let run = try box.run("restore", "--key", first, "--out", "r.db")
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.count(box.file("r.db")) == 200)
        let clean = try box.run("clean-backup", "--keep-last", "1")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(try box.peerKeys() == [second])
    }

    @Test("a key holding a character XML 1.0 forbids does not break listing or retention (encoding-type=url)")
    func keyXMLCannotCarry() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let first = try box.backup()
        let last = try box.backup()
        #expect(try box.peer("put-bytes", box.prefix + "stray\u{01}key", "x").status == 0)
        let list = try box.run("restore", "--list")
        #expect(list.status == 0, "\(list.output)")
        #expect(list.stdout.contains(first))
        let clean = try box.run("clean-backup", "--keep-last", "1")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(try box.peerKeys().sorted() == [box.prefix + "stray\u{01}key", last].sorted())
    }

    @Test("Laju's object (key with ':', one gzip member, metadata only on the object) restores by key with no catalog")
    func lajuObjectRestores() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 1500, wal: false)
        let key = "backups/app.db-2025-01-10T23:33-\(UUID().uuidString.lowercased()).db.gz.enc"
        let made = try Tool.python("laju_format.py", ["encrypt", box.keyText, box.file("app.db"), box.file("object")], in: box.path)
        #expect(made.status == 0, "\(made.output)")
        try made.stdout.write(toFile: box.file("meta.json"), atomically: true, encoding: .utf8)
        let put = try box.peer("put", key, box.file("object"), box.file("meta.json"))
        #expect(put.status == 0, "\(put.output)")
        let run = try box.run("restore", "--key", key, "--out", "from-laju.db")
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.rows(box.file("from-laju.db")) == TestDatabase.rows(box.file("app.db")))
    }

    @Test("a missing bucket and an endpoint that does not answer give clear errors (78, 69)")
    func missingBucketAndDeadEndpoint() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let bucket = try box.run("backup", "--db", "app.db", env: ["S3_BUCKET": "no-such-bucket-here"])
        #expect(bucket.status == 78, "\(bucket.output)")
        #expect(bucket.stderr.contains("no-such-bucket-here"))

        let port = try Self.closedPort()
        let started = Date()
        let dead = try box.run("backup", "--db", "app.db", env: ["S3_ENDPOINT": "http://127.0.0.1:\(port)", "BACKUP_S3_RETRIES": "1"])
        #expect(dead.status == 69, "\(dead.output)")
        #expect(dead.stderr.contains("127.0.0.1:\(port)"))
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(try box.liveCatalogKeys().isEmpty)
    }

    /// A loopback port nothing listens on.
    static func closedPort() throws -> Int {
        let run = try Tool.runProcess(Tool.pythonPath, ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"], in: "/")
        return Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
    }
}

