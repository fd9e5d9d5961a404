import Foundation

/// Fixtures/quirk_proxy.py in front of a test S3 server: records every request (length,
/// copy source, signing key and region) and answers some as real services sometimes do.
/// Runs until the test process ends (so no test depends on how long Swift keeps this alive).
final class QuirkProxy {
    let endpoint: String
    private let info: String

    /// `rules` as the fixture's doc comment describes them.
    init(_ box: Sandbox, upstream: S3TestServer, rules: [[String: Any]] = []) throws {
        info = box.file("proxy-\(UUID().uuidString.prefix(6)).json")
        let rulesText = String(decoding: try JSONSerialization.data(withJSONObject: rules), as: UTF8.self)
        endpoint = try LoopbackFixture.start("quirk_proxy.py", info: info, [String(upstream.port), rulesText, String(getpid())])
    }

    /// Points the suite at the proxy.
    var environment: [String: String] { ["S3_ENDPOINT": endpoint] }

    /// Every request so far, in order, as the fixture recorded it.
    func requests() throws -> [[String: Any]] { try LoopbackFixture.log(info) }

    /// The access keys that signed the requests, in order (nil for unsigned ones).
    func signingKeys() throws -> [String?] {
        try requests().map { $0["access_key"] as? String }
    }
}

/// Fixtures/cred_server.py: a loopback IMDSv2 and container credentials endpoint.
final class CredentialServer {
    let endpoint: String
    private let info: String

    init(_ box: Sandbox, config: [String: Any]) throws {
        info = box.file("creds-\(UUID().uuidString.prefix(6)).json")
        let configText = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        endpoint = try LoopbackFixture.start("cred_server.py", info: info, [String(getpid()), configText])
    }

    /// Every request so far, in order, as the fixture recorded it.
    func requests() throws -> [[String: Any]] { try LoopbackFixture.log(info) }
}

/// A Python fixture serving on a loopback port: started with its info file as first
/// argument, it writes {"port": N} there when ready, logs JSON lines to `<info>.log`, and
/// exits when the test process does.
enum LoopbackFixture {
    static func start(_ script: String, info: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        process.arguments = [Fixtures.path(script), info] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: info) && Date() < deadline { usleep(20_000) }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: info))) as! [String: Any]
        return "http://127.0.0.1:\(json["port"] as! Int)"
    }

    static func log(_ info: String) throws -> [[String: Any]] {
        let text = (try? String(contentsOfFile: info + ".log", encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }
}
