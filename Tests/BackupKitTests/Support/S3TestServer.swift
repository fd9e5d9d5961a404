import Foundation
import Testing

/// A real S3 server on loopback for the tests: moto_server, started once per test process
/// by Fixtures/s3_server.py and stopped when the process ends. `checking` verifies SigV4
/// signatures with an IAM key made through its first unauthenticated calls; `unchecked`
/// verifies nothing (for keys moto itself mis-signs, such as Laju's keys with ':').
struct S3TestServer: Sendable {
    let endpoint: String
    let bucket: String
    let accessKey: String
    let secretKey: String

    static let checking = Result { try start(auth: true) }
    static let unchecked = Result { try start(auth: false) }

    private static func start(auth: Bool) throws -> S3TestServer {
        let info = NSTemporaryDirectory() + "sqlite-s3-backup-tests/moto-\(auth ? "auth" : "noauth")-\(getpid())-\(UUID().uuidString.prefix(6)).json"
        try FileManager.default.createDirectory(atPath: (info as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        process.arguments = [Fixtures.path("s3_server.py"), info, String(getpid())] + (auth ? [] : ["--no-auth"])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        while !FileManager.default.fileExists(atPath: info) {
            if !process.isRunning || Date() > deadline {
                let log = (try? String(contentsOfFile: info + ".log", encoding: .utf8)) ?? ""
                throw SandboxFailure(description: "moto_server did not start (is moto[server] installed? `make test-deps`): \(log.suffix(2000))")
            }
            usleep(50_000)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: info))) as! [String: Any]
        return S3TestServer(endpoint: json["endpoint"] as! String, bucket: json["bucket"] as! String,
                            accessKey: json["access_key"] as! String, secretKey: json["secret_key"] as! String)
    }

    /// The variables that point the suite at this server.
    func environment(prefix: String) -> [String: String] {
        ["BACKUP_STORAGE": "s3", "S3_ENDPOINT": endpoint, "S3_BUCKET": bucket, "S3_ACCESS_KEY": accessKey,
         "S3_SECRET_KEY": secretKey, "BACKUP_PREFIX": prefix, "BACKUP_S3_RETRIES": "2"]
    }
}

extension Sandbox {
    /// A sandbox whose storage is a fresh prefix on `server`. The prefix has no '/': moto's
    /// signature check mis-signs query values that need percent-encoding (boto3's too).
    convenience init(s3 server: Result<S3TestServer, Error>, _ label: String = #function) throws {
        try self.init(label)
        let s3 = try server.get()
        let prefix = "t\(UUID().uuidString.prefix(8).lowercased())-"
        for (k, v) in s3.environment(prefix: prefix) { environment[k] = v }
    }

    var prefix: String { environment["BACKUP_PREFIX"]! }

    /// Runs the boto3 peer with this sandbox's S3 settings.
    func peer(_ arguments: String...) throws -> ToolRun {
        try Tool.runProcess(Tool.pythonPath, [Fixtures.path("s3_peer.py")] + arguments, in: path,
                            environment: environment.filter { $0.key.hasPrefix("S3_") })
    }

    /// The keys under this sandbox's prefix, as boto3 lists them.
    func peerKeys() throws -> [String] {
        let run = try peer("list", prefix)
        guard run.status == 0 else { throw SandboxFailure(description: "peer list failed: \(run.output)") }
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String]
    }
}
