import Foundation
import Testing
@testable import BackupKit

/// Neither the encryption key nor the S3 secret ever appears in what the executables print,
/// whatever happens, with `--verbose` and with `--json`; and no flag takes either one.
struct SecretsTests {
    /// Every way a secret could be written: as configured, and as hex and base64 of its bytes.
    func forms(ofKey text: String) throws -> [String] {
        let bytes = try EncryptionKey.parse(text, source: "test").bytes
        return [text, bytes.hexString, bytes.hexString.uppercased(), Data(bytes).base64EncodedString()]
    }

    func expectClean(_ run: ToolRun, of secrets: [String], _ label: String) {
        for secret in secrets {
            #expect(!run.output.contains(secret), "\(label) printed a secret: \(run.output)")
        }
    }

    @Test("local storage: the key never appears across successes, failures and bad input, with --verbose and --json")
    func localSweep() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 3000)
        let retired = try EncryptionKey.generateBase64()
        let wrong = try EncryptionKey.generateBase64()
        let secrets = try forms(ofKey: box.keyText) + forms(ofKey: retired) + forms(ofKey: wrong)
        box.environment["BACKUP_DECRYPTION_KEYS"] = retired
        box.environment["BACKUP_METRICS_FILE"] = box.file("m.prom")
        let key = try box.backup()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: box.file("not.db")))
        try FileManager.default.copyItem(atPath: box.file("backups/" + key), toPath: box.file("object.copy"))
        try FileManager.default.copyItem(atPath: box.file("backups/" + key + ".meta.json"), toPath: box.file("meta.copy"))

        let cases: [(String, [String], [String: String], Int32?)] = [
            ("backup", ["--db", "app.db"], [:], 0),
            ("backup", ["--db", "app.db"], ["BACKUP_MIN_INTERVAL": "1h"], 0),
            ("backup", ["--status", "--db", "app.db"], [:], 0),
            ("backup", ["--db", "missing.db"], [:], 66),
            ("backup", ["--db", "not.db"], [:], 65),
            ("backup", ["--db", "app.db"], ["BACKUP_ENCRYPTION_KEY_FILE": "", "BACKUP_ENCRYPTION_KEY": String(box.keyText.dropLast(4))], 78),
            ("restore", ["--out", "r1-{mode}.db"], [:], 0),
            ("restore", ["--list"], [:], 0),
            ("restore", ["--verify-only"], [:], 0),
            ("restore", ["--sql", "r-{mode}.sql"], [:], 0),
            ("restore", ["--key", key, "--out", "r2.db"], ["BACKUP_ENCRYPTION_KEY_FILE": "", "BACKUP_ENCRYPTION_KEY": wrong], 78),
            ("restore", ["--key", key, "--out", "no/such/r.db"], [:], 73),
            ("restore", ["--key", key, "--out", "app.db"], [:], 73),
            ("restore", ["--key", "../../etc/passwd"], [:], 64),
            ("clean-backup", ["--keep-last", "1"], [:], 0),
        ]
        for (tool, arguments, env, status) in cases {
            for mode in [["--verbose"], ["--verbose", "--json"]] {
                let concrete = arguments.map { $0.replacingOccurrences(of: "{mode}", with: "\(mode.count)") }
                let run = try box.run(tool, concrete + mode, env: env)
                if let status { #expect(run.status == status, "\(tool) \(arguments): \(run.output)") }
                expectClean(run, of: secrets, "\(tool) \(arguments.joined(separator: " ")) \(mode.joined(separator: " "))")
            }
        }
        // Damaged objects (clean-backup deleted the original; put damaged copies back).
        let object = box.file("backups/" + key)
        try FileManager.default.copyItem(atPath: box.file("meta.copy"), toPath: object + ".meta.json")
        var data = try Data(contentsOf: URL(fileURLWithPath: box.file("object.copy")))
        data[200] ^= 1
        let damaged: [(Data, String)] = [(data, "flipped"), (data.prefix(data.count / 2), "truncated")]
        for (bytes, label) in damaged {
            try bytes.write(to: URL(fileURLWithPath: object))
            let run = try box.run("restore", "--key", key, "--out", "x.db", "--verbose")
            #expect(run.status == 65, "\(label): \(run.output)")
            expectClean(run, of: secrets, label)
        }
        #expect(!FileManager.default.fileExists(atPath: box.file("x.db")))
        let metrics = try String(contentsOfFile: box.file("m.prom"), encoding: .utf8)
        #expect(metrics.contains("database_backup_success_total"), "the runs above wrote their metrics: \(metrics)")
        #expect(!metrics.contains(box.keyText))
    }

    @Test("no flag takes the key or the S3 secret: only files and the environment do")
    func noSecretFlags() throws {
        let box = try Sandbox()
        for tool in ["backup", "restore", "clean-backup"] {
            let help = try box.run(tool, "--help").stdout
            #expect(help.contains("--encryption-key-file"))
            #expect(!help.contains("--encryption-key "), "\(tool) must not take the key itself as a flag")
            #expect(!help.lowercased().contains("--secret") && !help.lowercased().contains("--password"))
        }
    }

    @Test("S3: the secret and the key never appear, for successes and failures, with --verbose and --json")
    func s3Sweep() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.make(box.file("app.db"), rows: 3000)
        let s3Secret = box.environment["S3_SECRET_KEY"]!
        let wrongSecret = "Wr0ng/Secret+ValueThat-MustNotLeak"
        let secrets = try forms(ofKey: box.keyText) + [s3Secret, wrongSecret]
        _ = try box.backup()
        let cases: [(String, [String], [String: String], Int32)] = [
            ("backup", ["--db", "app.db"], [:], 0),
            ("backup", ["--status", "--db", "app.db"], [:], 0),
            ("restore", ["--out", "r-{mode}.db"], [:], 0),
            ("restore", ["--list"], [:], 0),
            ("restore", ["--verify-only"], [:], 0),
            ("clean-backup", ["--keep-last", "1"], [:], 0),
            ("backup", ["--db", "app.db"], ["S3_SECRET_KEY": wrongSecret], 78),
            ("backup", ["--status"], ["S3_SECRET_KEY": wrongSecret], 78),
            ("restore", ["--list"], ["S3_SECRET_KEY": wrongSecret], 78),
            ("backup", ["--db", "app.db"], ["S3_BUCKET": "no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())"], 78),
            ("backup", ["--db", "app.db"], ["S3_ENDPOINT": "http://127.0.0.1:9", "BACKUP_S3_RETRIES": "0"], 69),
        ]
        // --status shows the S3 settings masked.
        let status = try box.run("backup", "--status", "--json")
        let config = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["configuration"] as? [String: Any])
        #expect(config["s3_secret_key"] as? String == "****")
        let accessKey = box.environment["S3_ACCESS_KEY"]!
        #expect(config["s3_access_key"] as? String == "\(accessKey.prefix(4))…\(accessKey.suffix(4))")
        #expect(config["s3_bucket"] as? String == box.environment["S3_BUCKET"])
        for (tool, arguments, env, status) in cases {
            for mode in [["--verbose"], ["--verbose", "--json"]] {
                let concrete = arguments.map { $0.replacingOccurrences(of: "{mode}", with: "\(mode.count)") }
                let run = try box.run(tool, concrete + mode, env: env)
                #expect(run.status == status, "\(tool) \(arguments) \(env.keys.sorted()): \(run.output)")
                expectClean(run, of: secrets, "\(tool) \(arguments.joined(separator: " ")) \(env.keys.sorted())")
            }
        }
    }
}
