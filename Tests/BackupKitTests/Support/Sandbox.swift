import Foundation
@testable import BackupKit

/// One user's working folder: a database, a key file, `./backups`, and helpers to run the
/// three executables there with a clean environment.
final class Sandbox {
    let dir: TemporaryDirectory
    var environment: [String: String]
    /// The S3 settings of the boto3 peer (`peer(...)`), set with the S3 storage.
    var peerEnvironment: [String: String] = [:]
    let keyText: String

    init(_ label: String = #function) throws {
        dir = TemporaryDirectory(label)
        keyText = try EncryptionKey.generateBase64()
        try (keyText + "\n").write(toFile: dir.file("backup.key"), atomically: true, encoding: .utf8)
        chmod(dir.file("backup.key"), 0o600)
        // HOME is the sandbox (no developer's ~/.aws leaks in), and the instance metadata
        // service is never asked: tests talk to loopback only.
        environment = ["BACKUP_ENCRYPTION_KEY_FILE": dir.file("backup.key"), "HOME": dir.path,
                       "AWS_EC2_METADATA_DISABLED": "true"]
    }

    var path: String { dir.path }
    func file(_ name: String) -> String { dir.file(name) }

    @discardableResult
    func run(_ tool: String, _ arguments: String..., env extra: [String: String] = [:], stdin: String? = nil) throws -> ToolRun {
        try run(tool, arguments, env: extra, stdin: stdin)
    }

    @discardableResult
    func run(_ tool: String, _ arguments: [String], env extra: [String: String] = [:], stdin: String? = nil) throws -> ToolRun {
        var env = environment
        for (k, v) in extra { env[k] = v }
        return try Tool.run(tool, arguments, in: path, environment: env, stdin: stdin)
    }

    /// `tool` set up to run here with this sandbox's environment (plus `extra`), not yet
    /// started: for tests that signal, pause or kill a run.
    func process(_ tool: String, _ arguments: [String], env extra: [String: String] = [:]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tool.path(tool))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: path)
        process.environment = environment.merging(extra) { $1 }
        return process
    }

    /// Runs `backup --db NAME` and returns the key it printed.
    func backup(_ database: String = "app.db", _ more: String...) throws -> String {
        let result = try run("backup", ["--db", database] + more)
        guard result.status == 0, let key = result.stdoutLines.last else {
            throw SandboxFailure(description: "backup failed (\(result.status)): \(result.output)")
        }
        return key
    }

    /// The objects (not sidecars) in the local folder ./backups, gzip and zstd: their keys,
    /// since local objects sit directly in the folder (no prefix).
    func storedObjects() -> [String] {
        dir.allFiles(under: "backups").filter { ObjectKey.isBackup($0) && !$0.contains("/") }
    }

    /// The live rows of the catalog.
    func liveCatalogKeys() throws -> [String] {
        try BackupCatalog(path: file("backups/catalog.sqlite"), create: false).records().filter { $0.deletedAt == nil }.sorted { $0.uploadedAt > $1.uploadedAt }.map(\.objectKey)
    }

    /// Re-dates a backup as if it had been made `daysAgo` days ago, as only a holder of the
    /// key can: its catalog row gets the new time in metadata sealed again with the key.
    /// (Changing the time without the key is what the forgery tests do.)
    func backdate(_ key: String, daysAgo: Double, from now: Date = Date()) throws {
        let catalog = try BackupCatalog(path: file("backups/catalog.sqlite"))
        guard var metadata = try catalog.record(forObjectKey: key)?.sealedMetadata else {
            throw SandboxFailure(description: "\(key) has no sealed catalog row to re-date")
        }
        let millis = Int64((now.timeIntervalSince1970 - daysAgo * 86_400) * 1000)
        metadata[ObjectMetadata.Field.createdAt] = String(millis)
        let sealed = MetadataSeal(key: try EncryptionKey.parse(keyText, source: "test")).seal(metadata, objectKey: key)
        try catalog.updateSealedMetadata(objectKey: key, sealed)
        let db = try SQLiteConnection(path: file("backups/catalog.sqlite"), mode: .readWrite)
        try db.run("UPDATE backup_files SET uploaded_at = ? WHERE key = ?", [.integer(millis), .text(key)])
    }
}

struct SandboxFailure: Error, CustomStringConvertible {
    let description: String
}
