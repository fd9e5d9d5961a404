import Foundation
import Testing
@testable import BackupKit

/// The executables against SeaweedFS through a proxy that answers as real S3 services
/// sometimes do (AWS's documented 200-with-error, lost answers, redirects, clock skew,
/// throttling), recording every request.
struct S3QuirkTests {
    /// A sandbox on SeaweedFS with a proxy in front.
    func setUp(_ rules: [[String: Any]] = [], _ label: String = #function) throws -> (Sandbox, QuirkProxy) {
        let box = try Sandbox(s3: S3TestServer.seaweed, label)
        let proxy = try QuirkProxy(box, upstream: S3TestServer.seaweed.get(), rules: rules)
        for (k, v) in proxy.environment { box.environment[k] = v }
        return (box, proxy)
    }

    @Test("503s and cut connections on the first requests are retried: the backup and restore succeed", arguments: ["503", "reset"])
    func retriesSucceed(_ mode: String) throws {
        let (box, proxy) = try setUp([["match": "any", "action": mode, "count": 2]])
        box.environment["BACKUP_S3_RETRIES"] = "4"
        try TestDatabase.make(box.file("app.db"), rows: 500)
        let run = try box.run("backup", "--db", "app.db", "-v")
        #expect(run.status == 0, "\(run.output)")
        #expect(try proxy.requests().filter { $0["outcome"] as? String == "reset" || $0["outcome"] as? Int == 503 }.count == 2)
        #expect(run.stderr.contains("retrying"))
        let restore = try box.run("restore", "--db", "app.db", "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.count(box.file("r.db")) == 500)
    }

    @Test("when retries run out: exit 69 naming the settings, exactly retries+1 attempts, no row, no object", arguments: ["503", "reset"])
    func retriesExhausted(_ mode: String) throws {
        let (box, proxy) = try setUp([["match": "put", "action": mode, "count": 1000]])
        try TestDatabase.make(box.file("app.db"), rows: 500)
        let run = try box.run("backup", "--db", "app.db", env: ["BACKUP_S3_RETRIES": "2"])
        #expect(run.status == 69, "\(run.output)")
        #expect(run.stderr.contains("BACKUP_S3_RETRIES"))
        #expect(try proxy.requests().filter { $0["kind"] as? String == "put" }.count == 3)
        #expect(try box.liveCatalogKeys().isEmpty)
        #expect(try box.peerKeys().isEmpty)
    }

    @Test("503 with Retry-After: the retry waits what the server asked")
    func retryAfterHonoured() throws {
        let (box, proxy) = try setUp([["match": "put", "action": "503", "count": 1, "retry_after": 2]])
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let run = try box.run("backup", "--db", "app.db", "-v")
        #expect(run.status == 0, "\(run.output)")
        let puts = try proxy.requests().filter { $0["kind"] as? String == "put" }
        #expect(puts.count == 2)
        let waited = (puts[1]["time"] as! Double) - (puts[0]["time"] as! Double)
        #expect(waited >= 1.9, "waited \(waited) s, Retry-After said 2")
        #expect(run.stderr.contains("in 2.0 s"))
    }

    @Test("CompleteMultipartUpload answered 200 with an <Error> body is retried; the backup succeeds")
    func completeErrorIn200() throws {
        let (box, proxy) = try setUp([["match": "complete", "action": "error200", "count": 1]])
        box.environment["BACKUP_S3_MULTIPART_THRESHOLD_MB"] = "5"
        box.environment["BACKUP_S3_PART_SIZE_MB"] = "5"
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 2000)
        let run = try box.run("backup", "--db", "app.db", "-v")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("InternalError"))
        #expect(try proxy.requests().filter { $0["kind"] as? String == "complete" }.count == 2)
        let key = try #require(box.liveCatalogKeys().first)
        #expect(try box.peerKeys() == [key])
        #expect(try box.run("restore", "--key", key, "--verify-only").status == 0)
    }

    @Test("a Complete whose answer is lost after the server did it: ridden out whether the retry is answered 200 or NoSuchUpload (then the key holds our metadata, and a streamed pack the ETag of our parts), for a full backup and an incremental one's pack",
          arguments: [false, true], [false, true])
    func completeAnswerLost(_ serverForgetsUpload: Bool, incremental: Bool) throws {
        var rules: [[String: Any]] = [["match": "complete", "action": "lose", "count": 1]]
        if serverForgetsUpload { rules.append(["match": "complete", "action": "nosuchupload", "count": 1]) }
        let (box, proxy) = try setUp(rules)
        box.environment["BACKUP_S3_MULTIPART_THRESHOLD_MB"] = "5"
        box.environment["BACKUP_S3_PART_SIZE_MB"] = "5"
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 2000)
        let run = try box.run("backup", ["--db", "app.db", "-v"] + (incremental ? ["--incremental"] : []))
        #expect(run.status == 0, "\(run.output)")
        let completes = try proxy.requests().filter { $0["kind"] as? String == "complete" }
        #expect(completes.count == 2)
        #expect(completes.first?["outcome"] as? String == "lost after 200")
        if serverForgetsUpload {
            #expect(run.stderr.contains("answer to completing"), "\(run.stderr)")
        }
        let key = try #require(box.liveCatalogKeys().first)
        #expect(try box.peerKeys().filter { !ObjectKey.isPack($0) } == [key])
        #expect(try box.peerKeys().count == (incremental ? 2 : 1))
        #expect(try box.peerUploads().isEmpty)
        let restore = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.blobs(box.file("r.db")) == TestDatabase.blobs(box.file("app.db")))
    }

    @Test("a bucket in another region (301 with x-amz-bucket-region): re-signed for it and on; --verbose says so, --status shows it")
    func regionDiscovery() throws {
        let (box, proxy) = try setUp([["match": "any", "action": "region", "region": "eu-west-3"]])
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let run = try box.run("backup", "--db", "app.db", "-v")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("region eu-west-3"))
        let requests = try proxy.requests()
        #expect(requests.first?["outcome"] as? Int == 301)
        #expect(requests.dropFirst().allSatisfy { $0["region"] as? String == "eu-west-3" })
        let status = try box.run("backup", "--db", "app.db", "--status", "--json")
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        #expect((json["configuration"] as! [String: Any])["s3_region"] as? String == "eu-west-3", "\(status.output)")
    }

    @Test("RequestTimeTooSkewed with the server's Date: re-signed with the corrected time, one warning with the offset")
    func clockSkewCorrected() throws {
        let (box, proxy) = try setUp([["match": "any", "action": "skew", "offset": 600]])
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let run = try box.run("backup", "--db", "app.db")
        #expect(run.status == 0, "\(run.output)")
        let warnings = run.stderr.split(separator: "\n").filter { $0.contains("clock") }
        #expect(warnings.count == 1, "\(run.stderr)")
        #expect(warnings.first?.contains("-600 s") == true || warnings.first?.contains("-599 s") == true || warnings.first?.contains("-601 s") == true, "\(warnings)")
        #expect(try proxy.requests().filter { $0["outcome"] as? Int == 403 }.count == 1)
        #expect(try box.peerKeys().count == 1)
    }

    @Test("a listing answer with a key XML 1.0 cannot carry: asked URL-encoded, decoded, listing and retention work")
    func listingKeyEncoded() throws {
        let (box, proxy) = try setUp([["match": "list", "action": "badkey", "count": 1000]])
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let key = try box.backup()
        let list = try box.run("restore", "--list", "--json")
        #expect(list.status == 0, "\(list.output)")
        #expect(list.stdout.contains(key))
        #expect(try proxy.requests().filter { $0["kind"] as? String == "list" }.allSatisfy { ($0["query"] as! [String]).contains("encoding-type") })
        let clean = try box.run("clean-backup", "--keep-last", "1")
        #expect(clean.status == 0, "\(clean.output)")
    }

    @Test("a listing page that says it is truncated but gives no token: exit 69, never a short list acted on")
    func truncatedListingWithoutToken() throws {
        let (box, _) = try setUp()
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let keys = [try box.backup(), try box.backup()]
        let broken = try QuirkProxy(box, upstream: S3TestServer.seaweed.get(), rules: [["match": "list", "action": "notoken", "count": 1000]])
        for arguments in [["restore", "--list"], ["clean-backup", "--keep-last", "1"]] {
            let run = try box.run(arguments[0], Array(arguments.dropFirst()), env: broken.environment)
            #expect(run.status == 69, "\(arguments): \(run.output)")
            #expect(run.stderr.contains("continuation token"))
        }
        #expect(try box.peerKeys().sorted() == keys.sorted(), "nothing was deleted")
    }

    @Test("BACKUP_SSE on a store that answers 501 to it (Cloudflare R2): exit 78 naming R2 and BACKUP_SSE")
    func sseNotImplemented() throws {
        let (box, _) = try setUp([["match": "any", "action": "sse501"]])
        try TestDatabase.make(box.file("app.db"), rows: 10)
        let run = try box.run("backup", "--db", "app.db", env: ["BACKUP_SSE": "true"])
        #expect(run.status == 78, "\(run.output)")
        #expect(run.stderr.contains("R2") && run.stderr.contains("BACKUP_SSE"))
        #expect(try box.peerKeys().isEmpty)
        #expect(try box.run("backup", "--db", "app.db").status == 0, "without BACKUP_SSE it works")
    }

    @Test("a download cut mid-body resumes with Range and If-Match; when the object changed (412) the restore starts over",
          arguments: [false, true])
    func downloadResumes(_ objectChanged: Bool) throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 1000)
        let key = try box.backup()
        var rules: [[String: Any]] = [["match": "other", "action": "cutget", "count": 1]]
        if objectChanged { rules.append(["match": "other", "action": "changed", "count": 1]) }
        let cutting = try QuirkProxy(box, upstream: S3TestServer.seaweed.get(), rules: rules)
        let run = try box.run("restore", "--key", key, "--out", "r.db", "-v", env: cutting.environment)
        #expect(run.status == 0, "\(run.output)")
        #expect(try TestDatabase.blobs(box.file("r.db")) == TestDatabase.blobs(box.file("app.db")))
        let gets = try cutting.requests().filter { $0["method"] as? String == "GET" && $0["kind"] as? String == "other" }
        #expect((gets.first?["outcome"] as? String)?.hasPrefix("cut after") == true)
        let resumed = try #require(gets.dropFirst().first)
        #expect((resumed["range"] as? String)?.hasPrefix("bytes=") == true)
        #expect(resumed["if_match"] is String, "the resume names the ETag it continues")
        if objectChanged {
            #expect(resumed["outcome"] as? Int == 412)
            #expect(run.stderr.contains("starting over"))
            #expect(gets.count == 3 && gets[2]["range"] is NSNull, "started over from the first byte")
        }
    }

    @Test("a whole cycle (multipart backup, list, restore, clean, status): every request has a length, none is a copy")
    func everyRequestHasALength() throws {
        let (box, proxy) = try setUp()
        box.environment["BACKUP_S3_MULTIPART_THRESHOLD_MB"] = "5"
        box.environment["BACKUP_S3_PART_SIZE_MB"] = "5"
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 2000)
        let key = try box.backup()
        _ = try box.backup()
        for arguments in [["restore", "--list"], ["restore", "--key", key, "--out", "r.db"], ["backup", "--db", "app.db", "--status"],
                          ["clean-backup", "--keep-last", "1"]] {
            let run = try box.run(arguments[0], Array(arguments.dropFirst()))
            #expect(run.status == 0, "\(arguments): \(run.output)")
        }
        let requests = try proxy.requests()
        #expect(Set(requests.map { $0["method"] as! String }) == ["GET", "HEAD", "PUT", "POST", "DELETE"])
        #expect(requests.filter { $0["has_length"] as? Bool != true }.isEmpty)
        #expect(requests.allSatisfy { $0["copy_source"] is NSNull })
    }
}
