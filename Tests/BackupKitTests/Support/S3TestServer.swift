import Foundation
import Testing

/// Real S3 servers on loopback for the tests, each started once per test process by
/// Fixtures/s3_server.py and stopped when the process ends:
/// - `seaweed`: SeaweedFS (`weed mini`), a production S3-compatible store that checks
///   SigV4; the main target. Three identities, so tests can tell which one signed.
/// - `checking`: moto_server verifying SigV4 with an IAM key made through its first
///   unauthenticated calls (IAM policies); it mis-verifies signed queries that hold an
///   encoded '/', so its tests use prefixes without '/'.
/// - `unchecked`: moto verifying nothing (its STS, for web identity; keys moto mis-signs).
struct S3TestServer: Sendable {
    let endpoint: String
    let bucket: String
    let accessKey: String
    let secretKey: String
    /// Every identity the server knows, as (access key, secret).
    let identities: [[String]]
    let kind: Kind

    enum Kind: String, Sendable { case seaweed, checking, unchecked }

    static let seaweed = Result { try start(.seaweed) }
    static let checking = Result { try start(.checking) }
    static let unchecked = Result { try start(.unchecked) }

    private static func start(_ kind: Kind) throws -> S3TestServer {
        let info = TemporaryDirectory.root + "/s3-\(kind.rawValue)-\(getpid())-\(UUID().uuidString.prefix(6)).json"
        try FileManager.default.createDirectory(atPath: (info as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        let flag = ["seaweed": ["--seaweed"], "checking": [], "unchecked": ["--no-auth"]][kind.rawValue]!
        process.arguments = [Fixtures.path("s3_server.py"), info, String(getpid())] + flag
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: info) {
            if !process.isRunning || Date() > deadline {
                let log = (try? String(contentsOfFile: info + ".log", encoding: .utf8)) ?? ""
                throw SandboxFailure(description: "the \(kind.rawValue) S3 server did not start (is the test venv installed? `make test-deps`): \(log.suffix(2000))")
            }
            usleep(50_000)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: info))) as! [String: Any]
        return S3TestServer(endpoint: json["endpoint"] as! String, bucket: json["bucket"] as! String,
                            accessKey: json["access_key"] as! String, secretKey: json["secret_key"] as! String,
                            identities: json["identities"] as! [[String]], kind: kind)
    }

    var port: Int { Int(endpoint.split(separator: ":").last!)! }

    /// The variables that point the suite at this server.
    func environment(prefix: String?, bucket: String? = nil) -> [String: String] {
        var env = ["BACKUP_STORAGE": "s3", "S3_ENDPOINT": endpoint, "S3_BUCKET": bucket ?? self.bucket,
                   "S3_ACCESS_KEY": accessKey, "S3_SECRET_KEY": secretKey, "BACKUP_S3_RETRIES": "2"]
        if let prefix { env["BACKUP_PREFIX"] = prefix }
        return env
    }
}

extension Sandbox {
    /// A sandbox whose storage is fresh on `server`: on SeaweedFS a new bucket of its own
    /// with the default prefix `backups/`; on moto a fresh prefix without '/' in the shared
    /// bucket (moto mis-signs query values with an encoded '/').
    convenience init(s3 server: Result<S3TestServer, Error>, _ label: String = #function) throws {
        try self.init(label)
        let s3 = try server.get()
        if s3.kind == .seaweed {
            let bucket = "t-\(UUID().uuidString.prefix(13).lowercased())"
            for (k, v) in s3.environment(prefix: nil, bucket: bucket) { environment[k] = v }
            peerEnvironment = environment.filter { $0.key.hasPrefix("S3_") }
            let made = try peer("create-bucket", bucket)
            guard made.status == 0 else { throw SandboxFailure(description: "cannot create bucket \(bucket): \(made.output)") }
        } else {
            for (k, v) in s3.environment(prefix: "t\(UUID().uuidString.prefix(8).lowercased())-") { environment[k] = v }
            peerEnvironment = environment.filter { $0.key.hasPrefix("S3_") }
        }
    }

    /// The prefix backups go under (the default `backups/` unless set).
    var prefix: String { environment["BACKUP_PREFIX"] ?? (environment["BACKUP_STORAGE"] == "s3" ? "backups/" : "") }

    /// Runs the boto3 peer straight against the server (never through a test's proxy, with
    /// the server's own key whatever credentials the test gives the suite).
    func peer(_ arguments: String...) throws -> ToolRun {
        try Tool.runProcess(Tool.pythonPath, [Fixtures.path("s3_peer.py")] + arguments, in: path,
                            environment: peerEnvironment.merging(["S3_BUCKET": environment["S3_BUCKET"]!]) { $1 })
    }

    /// The keys under this sandbox's prefix, as boto3 lists them.
    func peerKeys() throws -> [String] {
        let run = try peer("list", prefix)
        guard run.status == 0 else { throw SandboxFailure(description: "peer list failed: \(run.output)") }
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String]
    }

    /// Unfinished multipart uploads under this sandbox's prefix, as boto3 lists them.
    func peerUploads() throws -> [String] {
        let run = try peer("uploads", prefix)
        guard run.status == 0 else { throw SandboxFailure(description: "peer uploads failed: \(run.output)") }
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String]
    }
}
