import ArgumentParser
import Foundation

/// `backup`: snapshot, compress, encrypt and store one database.
package struct BackupCommand: RunnableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up a live SQLite database: snapshot, compress, encrypt, store.",
        discussion: """
            Settings come from flags, the environment and ./.env (see the README).
            The new object's key goes to stdout; progress and the summary to stderr.
            Off a terminal (cron), log lines carry a timestamp and a level.
            BACKUP_METRICS_FILE names a Prometheus textfile each run updates.

            Compression is gzip by default, which Laju's restore.ts reads. zstd
            (--compression zstd) is faster but not always smaller, and Laju
            cannot read it; this suite's restore reads both.

            Examples:
              backup --db app.db            back up to ./backups
              backup --db app.db --quiet    print only errors (cron)
              backup --db app.db --json     machine-readable result
              backup --generate-key-file .backup.key
                                            make a key, readable by you alone
              backup --db app.db --vacuum   compacted snapshot (VACUUM INTO)
              backup --db app.db --keep-forever
                                            one clean-backup never deletes
              backup --db a.db --db b.db    several databases, one after another
              backup --db app.db --incremental
                                            only what changed, restorable alone
              backup --db app.db --compression zstd
                                            zstd instead of gzip (not for Laju)
              backup --status               settings, storage check, newest age

            \(ExitStatus.helpBlock([
                .ok: "ok, or skipped by BACKUP_MIN_INTERVAL",
                .failure: "unexpected failure",
                .stale: "--status: no backup, or newest older than BACKUP_MAX_AGE",
                .usage: "usage: an unknown flag or a bad flag value",
                .dataError: "data error: database corrupt or not SQLite",
                .noInput: "database missing",
                .unavailable: "storage unavailable",
                .cannotCreate: "cannot write (folder, free space, catalog row), or cannot read\na WAL database whose folder is not writable",
                .tryAgain: "another backup of this database is running, the database stayed\nlocked for 30 s, commits landed each time its snapshot started,\nor a clean removed a pack this backup reused",
                .configuration: "configuration: key, storage settings",
            ]))
            """,
        version: SuiteVersion.current
    )

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("gzip or zstd (BACKUP_COMPRESSION, default gzip; zstd objects are not Laju-readable).",
                               valueName: "algorithm"))
    var compression: CompressionAlgorithm?

    @Option(name: .customLong("compression-level"),
            help: ArgumentHelp("gzip 1-9 (default 6) or zstd 1-19 (default 3) (BACKUP_COMPRESSION_LEVEL).", valueName: "n"))
    var compressionLevel: Int?

    @Flag(name: .customLong("generate-key"), help: "Print a new random key as base64 and exit.")
    var generateKey = false

    @Option(name: .customLong("generate-key-file"), help: ArgumentHelp(
        "Write a new random key to this file, readable by you alone (0600, whatever the umask; an existing file is never replaced), print its id and exit.",
        valueName: "path"))
    var generateKeyFile: String?

    @Flag(help: "Back up even when the newest backup is younger than BACKUP_MIN_INTERVAL.")
    var force = false

    @Flag(help: "Take the snapshot with VACUUM INTO: a compacted copy (slower, smaller).")
    var vacuum = false

    @Flag(help: "Store only the blocks no live backup of this database stores yet, and a manifest (BACKUP_INCREMENTAL).")
    var incremental = false

    @Flag(name: .customLong("keep-forever"), help: "Mark this backup so clean-backup never deletes it, whatever the rules (implies --force).")
    var keepForever = false

    @Flag(help: "Show the settings (secrets masked), check storage, report the newest backup; exit 3 when it is older than BACKUP_MAX_AGE.")
    var status = false

    package init() {}

    package func validate() throws {
        if generateKey && generateKeyFile != nil {
            throw ValidationError("--generate-key prints a key, --generate-key-file writes one: pass one of them")
        }
        if status && (generateKey || generateKeyFile != nil || force || vacuum || keepForever) {
            throw ValidationError("--status only reports: pass it without --generate-key, --force, --vacuum or --keep-forever")
        }
        // Without --compression the algorithm may come from BACKUP_COMPRESSION: the widest range
        // here (naming both), the algorithm's own when the settings are resolved.
        let levels = compression?.levels ?? 1...CompressionAlgorithm.allCases.map(\.levels.upperBound).max()!
        if let compressionLevel, !levels.contains(compressionLevel) {
            let ranges = compression.map { "for \($0.rawValue): use \($0.levels.lowerBound) (fastest) to \($0.levels.upperBound) (smallest)" }
                ?? "use " + CompressionAlgorithm.allCases.map { "\($0.levels.lowerBound) to \($0.levels.upperBound) for \($0.rawValue)" }.joined(separator: ", ")
            throw ValidationError("--compression-level \(compressionLevel) is out of range \(ranges)")
        }
    }

    var job: MetricsFile.Job? { generateKey || generateKeyFile != nil || status ? nil : .backup }

    func overrides() -> SettingOverrides {
        var overrides = options.overrides()
        overrides.compression = compression?.rawValue
        overrides.incremental = incremental
        overrides.compressionLevel = compressionLevel
        return overrides
    }

    func execute(_ context: RunContext) throws -> any CommandResult {
        if generateKey {
            return GeneratedKey(encryptionKey: try EncryptionKey.generateBase64())
        }
        if let generateKeyFile {
            return try GeneratedKeyFile.write(to: Files.absolute(generateKeyFile))
        }
        let settings = try context.settings()
        if status {
            if settings.databases.count > 1 {
                return DatabaseFanOut(settings: settings, console: context.console, job: nil, verb: "ok").run {
                    StatusReport.gather(settings: $0, console: context.console)
                }
            }
            return StatusReport.gather(settings: settings, console: context.console)
        }
        var operation = BackupOperation(settings: settings, console: context.console)
        operation.force = force
        operation.vacuum = vacuum
        operation.keepForever = keepForever
        if settings.databases.count > 1 {
            return DatabaseFanOut(settings: settings, console: context.console, job: .backup, verb: "backed up or skipped").run {
                var one = operation
                one.settings = $0
                return try one.run()
            }
        }
        return try operation.run()
    }
}

extension BackupOutcome: CommandResult {
    var metricsOutcome: MetricsFile.Outcome {
        switch self {
        case .completed(let result): return .success(sizeBytes: result.storedSize)
        case .skipped: return .skipped
        }
    }

    func render(on console: Console) {
        switch self {
        case .completed(let result):
            console.result(result.objectKey)
            let sizes = "\(Formatting.bytes(result.sourceSize)) -> \(Formatting.bytes(result.storedSize))"
            console.info("backed up \((result.database as NSString).lastPathComponent) (\(sizes)) to \(result.location) in \(String(format: "%.1f s", result.durationSeconds))")
        case .skipped(let skip):
            console.info("skipped: \(skip.reason)")
        }
    }
}

extension StatusReport: CommandResult {
    func render(on console: Console) {
        for line in lines() { console.result(line) }
        for warning in warnings { console.warning(warning) }
        for problem in problems { console.error(problem) }
    }
}
