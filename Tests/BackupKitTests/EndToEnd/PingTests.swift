import Foundation
import Testing
@testable import BackupKit

/// `BACKUP_PING_URL` against a loopback push endpoint (Fixtures/ping_server.py): start, then
/// success or fail with the error line, for all three executables; retries; a ping that
/// cannot arrive is a warning that names no secret and changes no exit code.
struct PingTests {
    final class PingServer {
        let endpoint: String
        private let info: String

        init(_ box: Sandbox, failures: Int = 0) throws {
            info = box.file("ping-\(UUID().uuidString.prefix(6)).json")
            endpoint = try LoopbackFixture.start("ping_server.py", info: info, [String(getpid()), String(failures)])
        }

        /// The requests so far, as "METHOD path[?query]".
        func requests() throws -> [String] {
            try LoopbackFixture.log(info).map {
                let query = $0["query"] as! String
                return "\($0["method"] as! String) \($0["path"] as! String)" + (query.isEmpty ? "" : "?\(query)")
            }
        }

        func bodies() throws -> [String] { try LoopbackFixture.log(info).map { $0["body"] as! String } }
    }

    @Test("success and failure pings arrive in order for backup, restore and clean-backup; the exit code stays the run's")
    func pingsInOrder() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 200)
        let server = try PingServer(box)
        let env = ["BACKUP_PING_URL": server.endpoint + "/ping/check-token-1234"]
        #expect(try box.run("backup", ["--db", "app.db"], env: env).status == 0)
        #expect(try box.run("restore", ["--verify-only"], env: env).status == 0)
        #expect(try box.run("clean-backup", ["--keep-last", "5"], env: env).status == 0)
        let missing = try box.run("backup", ["--db", "gone.db"], env: env)
        #expect(missing.status == 66, "\(missing.output)")
        #expect(try server.requests() == [
            "GET /ping/check-token-1234/start", "GET /ping/check-token-1234",
            "GET /ping/check-token-1234/start", "GET /ping/check-token-1234",
            "GET /ping/check-token-1234/start", "GET /ping/check-token-1234",
            "GET /ping/check-token-1234/start", "POST /ping/check-token-1234/fail",
        ])
        #expect(try server.bodies().last?.contains("database not found") == true)
        #expect(!missing.stderr.contains("WARN"), "the failure ping arrived: \(missing.stderr)")
        // Listing is no job: it pings nothing.
        #expect(try box.run("restore", ["--list"], env: env).status == 0)
        #expect(try server.requests().count == 8)
    }

    @Test("a push URL with a query keeps it last; two failed attempts are retried; a dead endpoint is a warning naming only the host")
    func retriesAndWarnings() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 50)
        let flaky = try PingServer(box, failures: 2)
        let kuma = ["BACKUP_PING_URL": flaky.endpoint + "/api/push/kuma-token?status=up&msg=OK"]
        let run = try box.run("backup", ["--db", "app.db"], env: kuma)
        #expect(run.status == 0 && !run.stderr.contains("WARN"), "\(run.output)")
        #expect(try flaky.requests() == Array(repeating: "GET /api/push/kuma-token/start?status=up&msg=OK", count: 3)
                + ["GET /api/push/kuma-token?status=up&msg=OK"])

        let down = try PingServer(box, failures: 100)
        let failing = try box.run("backup", ["--db", "app.db", "--force"], env: ["BACKUP_PING_URL": down.endpoint + "/secret-uuid"])
        #expect(failing.status == 0, "a ping never fails the run: \(failing.output)")
        #expect(failing.stderr.contains("could not ping http://127.0.0.1 (start)") && failing.stderr.contains("could not ping http://127.0.0.1 (success)"),
                "\(failing.stderr)")
        #expect(!failing.output.contains("secret-uuid"), "the ping URL is a credential")
        let refused = try box.run("backup", ["--db", "app.db", "--force"], env: ["BACKUP_PING_URL": "http://127.0.0.1:9/check"])
        #expect(refused.status == 0 && refused.stderr.contains("could not ping"), "\(refused.output)")
        let bad = try box.run("backup", ["--db", "app.db"], env: ["BACKUP_PING_URL": "hc-ping.com/uuid"])
        #expect(bad.status == 78 && bad.stderr.contains("BACKUP_PING_URL is not an http(s) URL"), "\(bad.output)")
    }
}
