import Foundation
import Testing
@testable import BackupKit

struct ConfigTests {
    @Test(".env parsing: comments, export, quotes, inline comments")
    func dotEnvParsing() {
        let values = DotEnv.parse("""
            # comment
            BACKUP_DB_PATH=./app.db
            export BACKUP_PREFIX="nightly/"
            BACKUP_STORAGE='local'
            BACKUP_COMPRESSION_LEVEL=9 # fastest? no, smallest
            EMPTY=
            not a line
            """)
        #expect(values["BACKUP_DB_PATH"] == "./app.db")
        #expect(values["BACKUP_PREFIX"] == "nightly/")
        #expect(values["BACKUP_STORAGE"] == "local")
        #expect(values["BACKUP_COMPRESSION_LEVEL"] == "9")
        #expect(values["EMPTY"] == "")
        #expect(values.count == 5)
    }

    @Test("flags win over the process environment, which wins over .env")
    func precedence() throws {
        let dir = TemporaryDirectory()
        try "BACKUP_PREFIX=fromfile/\nBACKUP_LOCAL_DIR=/tmp/fromfile\nBACKUP_COMPRESSION_LEVEL=2\n".write(toFile: dir.file("e.env"), atomically: true, encoding: .utf8)
        let env = try Environment.load(envFile: dir.file("e.env"), process: ["BACKUP_PREFIX": "fromenv/"])
        var flags = SettingOverrides()
        flags.localDirectory = "/tmp/fromflag"
        let settings = try Settings(overrides: flags, environment: env)
        #expect(settings.prefix == "fromenv/")
        #expect(settings.localDirectory == "/tmp/fromflag")
        #expect(settings.compressionLevel == 2)
        #expect(settings.catalogPath == "/tmp/fromflag/catalog.sqlite")
        #expect(settings.storageKind == .local)
    }

    @Test("defaults: local storage in ./backups with no prefix (objects in the folder itself), backups/ on S3, level 6")
    func defaults() throws {
        let dir = TemporaryDirectory()
        let local = ["BACKUP_LOCAL_DIR": dir.file("store")]
        let settings = try Settings(overrides: SettingOverrides(), environment: Environment(local))
        #expect(settings.storageKind == .local)
        #expect(settings.prefix == "")
        #expect(settings.compressionLevel == 6)
        #expect(try Settings(overrides: SettingOverrides(), environment: Environment([:])).localDirectory.hasSuffix("/backups"))
        let s3 = try Settings(overrides: SettingOverrides(), environment: Environment(local.merging(["S3_BUCKET": "b"]) { $1 }))
        #expect(s3.prefix == "backups/")
        // A folder an earlier version wrote (objects under <local dir>/backups/) keeps its layout.
        try FileManager.default.createDirectory(atPath: dir.file("store/backups"), withIntermediateDirectories: true)
        #expect(try Settings(overrides: SettingOverrides(), environment: Environment(local)).prefix == "backups/")
        #expect(try Settings(overrides: SettingOverrides(), environment: Environment(local.merging(["BACKUP_PREFIX": "nightly-"]) { $1 })).prefix == "nightly-")
    }

    @Test("a configured bucket makes s3 the default storage")
    func bucketSelectsS3() throws {
        #expect(try Settings(overrides: SettingOverrides(), environment: Environment(["S3_BUCKET": "b"])).storageKind == .s3)
        #expect(try Settings(overrides: SettingOverrides(), environment: Environment(["S3_BUCKET": "b", "BACKUP_STORAGE": "local"])).storageKind == .local)
    }

    @Test("bad values are configuration errors that name the setting",
          arguments: [["BACKUP_COMPRESSION_LEVEL": "0"], ["BACKUP_COMPRESSION_LEVEL": "fast"], ["BACKUP_STORAGE": "ftp"], ["BACKUP_PREFIX": "../up"]])
    func badValues(_ values: [String: String]) {
        do {
            _ = try Settings(overrides: SettingOverrides(), environment: Environment(values))
            Issue.record("accepted \(values)")
        } catch let error as BackupError {
            #expect(error.exitStatus == .configuration)
            #expect(error.description.contains(values.keys.first!))
        } catch { Issue.record("\(error)") }
    }

    @Test("a named env file that is missing is a configuration error")
    func missingEnvFile() {
        #expect(throws: BackupError.self) { try Environment.load(envFile: "/nonexistent/.env", process: [:]) }
    }

    @Test("ISO-8601 times: UTC, offsets, local zone, fractions, a date alone is its last millisecond; nonsense is refused")
    func isoTimes() throws {
        let utc = TimeZone(identifier: "UTC")!, jakarta = TimeZone(identifier: "Asia/Jakarta")!
        let base = 1_763_650_800.0   // 2025-11-20T15:00:00Z
        #expect(TimeText.date("2025-11-20T15:00:00Z", timeZone: jakarta)?.timeIntervalSince1970 == base)
        #expect(TimeText.date("2025-11-20T16:00+01:00", timeZone: utc)?.timeIntervalSince1970 == base)
        #expect(TimeText.date("2025-11-20T10:30:00-0430", timeZone: utc)?.timeIntervalSince1970 == base)
        #expect(TimeText.date("2025-11-20 22:00", timeZone: jakarta)?.timeIntervalSince1970 == base)
        #expect(TimeText.date("2025-11-20T15:00:00.250", timeZone: utc)?.timeIntervalSince1970 == base + 0.25)
        #expect(TimeText.date("2025-11-20", timeZone: utc)?.timeIntervalSince1970 == 1_763_683_200 - 0.001)
        for bad in ["", "yesterday", "2025-13-01", "2025-02-30", "2025-11-20T25:00", "2025-11-20T15:00+25:00", "20251120"] {
            #expect(TimeText.date(bad, timeZone: utc) == nil, "\(bad)")
        }
    }
}
