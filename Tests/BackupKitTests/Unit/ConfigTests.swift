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

    @Test("defaults: local storage in ./backups, prefix backups/, level 6")
    func defaults() throws {
        let settings = try Settings(overrides: SettingOverrides(), environment: Environment([:]))
        #expect(settings.storageKind == .local)
        #expect(settings.localDirectory.hasSuffix("/backups"))
        #expect(settings.prefix == "backups/")
        #expect(settings.compressionLevel == 6)
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
}
