import ArgumentParser
import Foundation

/// `backup`: snapshot, compress, encrypt and store one database.
public struct BackupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up a live SQLite database: snapshot, gzip, AES-256-GCM, store, catalog.",
        discussion: """
            Settings come from flags, the environment and ./.env (see the README). The new
            object's key is printed on stdout; progress and the summary go to stderr.

            Examples:
              backup --db app.db                      back up to ./backups with the key from .env
              BACKUP_ENCRYPTION_KEY_FILE=.backup.key backup --db app.db --quiet
              backup --db app.db --json               machine-readable result
              backup --generate-key > .backup.key     make a new key (then chmod 600 it)

            Exit codes: 0 ok, 1 unexpected, 64 usage, 65 data error (database corrupt or not
            SQLite), 66 database missing, 69 storage unavailable, 73 cannot write, 75 another
            backup of this database is running, 78 configuration (key, storage settings).
            """
    )

    @OptionGroup var options: CommonOptions

    @Option(name: .customLong("compression-level"), help: ArgumentHelp("gzip level 1-9 (BACKUP_COMPRESSION_LEVEL, default 6).", valueName: "n"))
    var compressionLevel: Int?

    @Flag(name: .customLong("generate-key"), help: "Print a new random key as base64 and exit.")
    var generateKey = false

    public init() {}

    public func run() throws {
        if generateKey {
            print(try EncryptionKey.generateBase64())
            return
        }
        try CommandRunner.run(tool: "backup", options: options, compression: compressionLevel) { settings, console in
            try BackupOperation(settings: settings, console: console).run()
        } human: { result, console in
            console.result(result.key)
            console.info("backed up \((result.database as NSString).lastPathComponent) (\(Formatting.bytes(result.sourceSize)) -> \(Formatting.bytes(result.storedSize))) to \(result.location) in \(String(format: "%.1f s", result.durationSeconds))")
        }
    }
}
