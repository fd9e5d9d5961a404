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
              BACKUP_MIN_INTERVAL=23h backup --db app.db   skip if a backup is younger than 23 h
              backup --db app.db --vacuum             compacted snapshot (VACUUM INTO)
              backup --status                         settings, storage check, newest backup's age

            On a terminal, stages show a live progress line; off a terminal (cron) log lines
            carry an ISO-8601 timestamp and a level. BACKUP_METRICS_FILE names a Prometheus
            textfile the run updates.

            Exit codes: 0 ok (or skipped by BACKUP_MIN_INTERVAL), 1 unexpected, 3 (--status)
            no backup or the newest older than BACKUP_MAX_AGE, 64 usage, 65 data error (database corrupt or not
            SQLite), 66 database missing, 69 storage unavailable, 73 cannot write, 75 another
            backup of this database is running, 78 configuration (key, storage settings).
            """
    )

    @OptionGroup var options: CommonOptions

    @Option(name: .customLong("compression-level"), help: ArgumentHelp("gzip level 1-9 (BACKUP_COMPRESSION_LEVEL, default 6).", valueName: "n"))
    var compressionLevel: Int?

    @Flag(name: .customLong("generate-key"), help: "Print a new random key as base64 and exit.")
    var generateKey = false

    @Flag(help: "Back up even when the newest backup is younger than BACKUP_MIN_INTERVAL.")
    var force = false

    @Flag(help: "Take the snapshot with VACUUM INTO: a compacted copy (slower, smaller).")
    var vacuum = false

    @Flag(help: "Show the settings (secrets masked), check storage, report the newest backup; exit 3 when it is older than BACKUP_MAX_AGE.")
    var status = false

    public init() {}

    public func run() throws {
        if generateKey {
            print(try EncryptionKey.generateBase64())
            return
        }
        if status {
            var exitCode: Int32 = 0
            try CommandRunner.run(tool: "backup", options: options, compression: compressionLevel) { settings, console in
                let report = StatusReport.gather(settings: settings, console: console)
                exitCode = report.exitCode
                return report
            } human: { report, console in
                for line in report.lines() { console.result(line) }
                for problem in report.problems { console.error(problem) }
            }
            if exitCode != 0 { throw ExitCode(exitCode) }
            return
        }
        try CommandRunner.run(tool: "backup", options: options, compression: compressionLevel, job: .backup) { settings, console in
            var operation = BackupOperation(settings: settings, console: console)
            operation.force = force
            operation.vacuum = vacuum
            return try operation.run()
        } human: { outcome, console in
            switch outcome {
            case .completed(let result):
                console.result(result.key)
                console.info("backed up \((result.database as NSString).lastPathComponent) (\(Formatting.bytes(result.sourceSize)) -> \(Formatting.bytes(result.storedSize))) to \(result.location) in \(String(format: "%.1f s", result.durationSeconds))")
            case .skipped(let skip):
                console.info("skipped: \(skip.reason)")
            }
        }
    }

    public func validate() throws {
        if status && (generateKey || force || vacuum) {
            throw ValidationError("--status only reports: pass it without --generate-key, --force or --vacuum")
        }
    }
}
