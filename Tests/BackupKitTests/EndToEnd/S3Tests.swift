import Foundation
import Testing
@testable import BackupKit

/// The executables against a real S3 server on loopback (moto_server) that checks SigV4
/// signatures, read back by an independent client (boto3).
struct S3Tests {
    @Test("S3 round trip: backup, restore latest and by key, read back by boto3 with Laju's restore logic")
    func roundTrip() throws {
        let box = try Sandbox(s3: S3TestServer.checking)
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
        let box = try Sandbox(s3: S3TestServer.checking)
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
        let row = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false).record(forKey: key)
        #expect(row?.storage == "s3" && row?.encTag != nil && row?.checksum?.count == 32)
    }

    @Test("multipart: a database of several parts uploads in parts, restores, and leaves no temp object")
    func multipart() throws {
        let box = try Sandbox(s3: S3TestServer.checking)
        box.environment["BACKUP_S3_MULTIPART_THRESHOLD_MB"] = "5"
        box.environment["BACKUP_S3_PART_SIZE_MB"] = "5"
        box.environment["BACKUP_SSE"] = "true"
        // Random blobs barely compress: about 16 MiB stored, four parts.
        let db = try SQLiteConnection(path: box.file("app.db"), mode: .readWriteCreate)
        try db.execute("CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB)")
        try db.execute("BEGIN")
        for i in 1...4000 { try db.run("INSERT INTO blobs VALUES (?, randomblob(4096))", [.integer(Int64(i))]) }
        try db.execute("COMMIT")
        let run = try box.run("backup", "--db", "app.db", "--json", "-v")
        #expect(run.status == 0, "\(run.output)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let key = json["key"] as! String
        #expect((json["stored_size"] as! Int) > 15 << 20)
        #expect(try box.peerKeys() == [key])
        let uploads = try box.peer("uploads", box.prefix)
        #expect(uploads.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let head = try JSONSerialization.jsonObject(with: Data(try box.peer("head", key).stdout.utf8)) as! [String: Any]
        #expect(head["sse"] as? String == "AES256")
        #expect((head["metadata"] as! [String: String])["tag"] != nil, "the final object carries the tag")

        let restore = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        let original = try SQLiteConnection(path: box.file("app.db"), mode: .readOnly).query("SELECT id, data FROM blobs ORDER BY id")
        let restored = try SQLiteConnection(path: box.file("r.db"), mode: .readOnly).query("SELECT id, data FROM blobs ORDER BY id")
        #expect(original == restored)
    }

    @Test("a wrong secret: clear error naming the credentials, exit 78, the secret never printed")
    func wrongSecret() throws {
        let box = try Sandbox(s3: S3TestServer.checking)
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
        let box = try Sandbox(s3: S3TestServer.checking)
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
        let box = try Sandbox(s3: S3TestServer.checking)
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

    @Test("clean-backup aborts abandoned multipart uploads under the prefix")
    func abandonedMultipartAborted() throws {
        let box = try Sandbox(s3: S3TestServer.checking)
        try TestDatabase.make(box.file("app.db"), rows: 10)
        _ = try box.backup()
        let started = try box.peer("start-multipart", box.prefix + "app.db-crashed.db.gz.enc.tmp-1-abcdef12")
        #expect(started.status == 0, "\(started.output)")
        #expect(try box.peer("uploads", box.prefix).stdout.contains("crashed"))
        // That a young upload is kept cannot be shown against moto: it reports every upload
        // as initiated on 2010-11-10. The age limit is lowered to 0 to abort this one.
        let run = try box.run("clean-backup", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"])
        #expect(run.status == 0, "\(run.output)")
        #expect(try box.peer("uploads", box.prefix).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test("a missing bucket and an endpoint that does not answer give clear errors (78, 69)")
    func missingBucketAndDeadEndpoint() throws {
        let box = try Sandbox(s3: S3TestServer.checking)
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

/// Retries through a proxy that fails the first requests.
struct S3RetryTests {
    /// Starts fault_proxy.py in front of the checking server; returns its endpoint.
    func proxy(_ box: Sandbox, mode: String, faults: Int) throws -> (endpoint: String, process: Process) {
        let server = try S3TestServer.checking.get()
        let upstream = Int(server.endpoint.split(separator: ":").last!)!
        let info = box.file("proxy.json")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        process.arguments = [Fixtures.path("fault_proxy.py"), info, String(upstream), mode, String(faults), String(getpid())]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: info) && Date() < deadline { usleep(20_000) }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: info))) as! [String: Any]
        return ("http://127.0.0.1:\(json["port"] as! Int)", process)
    }

    func injected(_ box: Sandbox) -> Int {
        Int((try? String(contentsOfFile: box.file("proxy.json.count"), encoding: .utf8)) ?? "0") ?? 0
    }

    @Test("503s and cut connections on the first requests are retried: the backup and restore succeed", arguments: ["503", "reset"])
    func retriesSucceed(_ mode: String) throws {
        let box = try Sandbox(s3: S3TestServer.checking)
        try TestDatabase.make(box.file("app.db"), rows: 500)
        let (endpoint, process) = try proxy(box, mode: mode, faults: 2)
        defer { process.terminate() }
        let env = ["S3_ENDPOINT": endpoint, "BACKUP_S3_RETRIES": "4"]
        let run = try box.run("backup", "--db", "app.db", "-v", env: env)
        #expect(run.status == 0, "\(run.output)")
        #expect(injected(box) == 2)
        #expect(run.stderr.contains("retrying"))
        let restore = try box.run("restore", "--db", "app.db", "--out", "r.db", env: env)
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.count(box.file("r.db")) == 500)
    }

    @Test("when retries run out: exit 69, no catalog row, no object visible", arguments: ["503", "reset"])
    func retriesExhausted(_ mode: String) throws {
        let box = try Sandbox(s3: S3TestServer.checking)
        try TestDatabase.make(box.file("app.db"), rows: 500)
        let (endpoint, process) = try proxy(box, mode: mode, faults: 1000)
        defer { process.terminate() }
        let run = try box.run("backup", "--db", "app.db", env: ["S3_ENDPOINT": endpoint, "BACKUP_S3_RETRIES": "2"])
        #expect(run.status == 69, "\(run.output)")
        #expect(run.stderr.contains("BACKUP_S3_RETRIES"))
        #expect(injected(box) == 3)
        #expect(try box.liveCatalogKeys().isEmpty)
        #expect(try box.peerKeys().isEmpty)
    }
}

/// Keys S3 allows but moto's signature check cannot verify, against the unchecked server.
struct S3KeyEncodingTests {
    @Test("Laju's object (key with ':', one gzip member, metadata only on the object) restores by key with no catalog")
    func lajuObjectRestores() throws {
        let box = try Sandbox(s3: S3TestServer.unchecked)
        box.environment["BACKUP_PREFIX"] = "backups/"
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

    @Test("keys with spaces, '+', ':', '=', unicode and '//' round-trip under their exact names")
    func oddKeysRoundTrip() throws {
        let box = try Sandbox(s3: S3TestServer.unchecked)
        let prefix = "odd dir \(UUID().uuidString.prefix(4))/a+b:c=d/ünï//"
        box.environment["BACKUP_PREFIX"] = prefix
        try TestDatabase.make(box.file("app.db"), rows: 200)
        let key = try box.backup()
        #expect(key.hasPrefix(prefix))
        #expect(try box.peerKeys() == [key])
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.count(box.file("r.db")) == 200)
        let list = try box.run("restore", "--list", "--db", "app.db")
        #expect(list.stdout.contains(key))
    }
}

/// The storage backend itself against the checking server, for paths the executables only
/// take with objects too large for a test.
struct S3StorageTests {
    func storage() throws -> (S3Storage, String) {
        let server = try S3TestServer.checking.get()
        let prefix = "lib\(UUID().uuidString.prefix(8).lowercased())-"
        let env = Environment(server.environment(prefix: prefix).merging(["BACKUP_S3_MULTIPART_THRESHOLD_MB": "5", "BACKUP_S3_PART_SIZE_MB": "5"]) { $1 })
        return (S3Storage(config: try S3Configuration(environment: env)), prefix)
    }

    @Test("objects above CopyObject's limit are copied into place with UploadPartCopy, metadata intact")
    func multipartCopy() throws {
        let (storage, prefix) = try storage()
        let upload = try storage.beginUpload(key: prefix + "big.db.gz.enc") as! S3Upload
        upload.copyLimit = 6 << 20      // pretend 6 MiB is the 5 GiB limit
        upload.copyPartSize = 5 << 20
        let data = (0..<(13 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        for start in stride(from: 0, to: data.count, by: 1 << 20) {
            try data[start..<min(start + (1 << 20), data.count)].withUnsafeBytes { try upload.write($0) }
        }
        try upload.complete(metadata: ObjectMetadata(["iv": "aXY=", "checksum": Digest.hash(.md5, data).hexString]))
        let head = try storage.head(key: prefix + "big.db.gz.enc")
        #expect(head.object.size == Int64(data.count))
        #expect(head.metadata["checksum"] == Digest.hash(.md5, data).hexString)
        var back: [UInt8] = []
        try storage.download(key: prefix + "big.db.gz.enc") { back += $0 }
        #expect(back == data)
        #expect(try storage.list(prefix: prefix).map(\.key) == [prefix + "big.db.gz.enc"])
    }

    @Test("an aborted multipart upload leaves no object and no unfinished upload")
    func abortedUpload() throws {
        let (storage, prefix) = try storage()
        let upload = try storage.beginUpload(key: prefix + "x.db.gz.enc")
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        for _ in 0..<12 { try chunk.withUnsafeBytes { try upload.write($0) } }
        upload.abort()
        #expect(try storage.list(prefix: prefix).isEmpty)
        let pool = S3ClientPool(config: storage.config, listPageSize: 1000, onRetry: nil)
        #expect(try pool.with { try $0.listMultipartUploads(prefix: prefix) }.isEmpty)
    }
}
