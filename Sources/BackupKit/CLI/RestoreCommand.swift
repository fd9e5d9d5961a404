import ArgumentParser
import Foundation

/// `restore`: bring a backup back, verified, as a new file or into a live database.
package struct RestoreCommand: RunnableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup: download, verify, decrypt, integrity-check, write.",
        discussion: """
            Without --key the newest backup (of --db's database when one is set) is
            restored. Nothing is written to the output or the target unless the
            checksum, the GCM tag and PRAGMA integrity_check all pass. Backups made
            with a retired key restore when it is in BACKUP_DECRYPTION_KEYS.

            Examples:
              restore                       newest -> ./restored-<stamp>.db
              restore --list                backups, newest first
              restore --key KEY --out x.db  one backup (a key from --list)
              restore --at 2026-11-20T15:00 the newest taken at or before then
                                            (local time; or ...Z, ...+01:00)
              restore --verify-only         check the newest, write nothing
              restore --target app.db --yes replace a live database (safely)
              restore --sql app.sql         newest backup as an SQL dump
              restore --pick                choose from a list (on a terminal)

            \(ExitStatus.helpBlock([
                .ok: "ok",
                .failure: "unexpected failure",
                .usage: "usage, or no terminal to confirm --target",
                .dataError: "data error: tampered or corrupt backup, wrong key or iv/tag,\nfailed integrity check",
                .noInput: "backup missing, or none taken at or before --at",
                .unavailable: "storage unavailable",
                .cannotCreate: "cannot write the output, or it exists (--overwrite)",
                .tryAgain: "--target stayed locked by another connection for 30 s",
                .configuration: "configuration, or the key the backup names is not configured",
            ]))
            """,
        version: SuiteVersion.current
    )

    @OptionGroup var options: CommonOptions

    @Option(help: ArgumentHelp("The object key to restore (default: the newest backup).", valueName: "key"))
    var key: String?

    @Option(help: ArgumentHelp("Write the restored database here.", valueName: "path"))
    var out: String?

    @Flag(help: "Replace --out if it exists.")
    var overwrite = false

    @Option(help: ArgumentHelp("Restore into this database, which may be in use, through the SQLite backup API.", valueName: "path"))
    var target: String?

    @Flag(name: [.short, .long], help: "Do not ask for confirmation.")
    var yes = false

    @Flag(name: .customLong("verify-only"), help: "Download, decrypt and integrity-check, but write nothing.")
    var verifyOnly = false

    @Option(help: ArgumentHelp("Restore the newest backup taken at or before this ISO-8601 time (local zone unless one is given; a date alone means its end). With --list: list only those.", valueName: "time"))
    var at: String?

    @Flag(help: "List the backups, newest first: time (in the zone --at reads), kind, restored and stored size, database, key.")
    var list = false

    @Flag(help: "With --list: sizes as exact byte counts (for scripts).")
    var bytes = false

    @Option(help: ArgumentHelp("Write a plain SQL dump of the restored database here instead of a .db.", valueName: "path"))
    var sql: String?

    @Flag(help: "Choose the backup from a numbered list (needs a terminal; --yes takes the newest).")
    var pick = false

    package init() {}

    package func validate() throws {
        let modes = [out != nil, target != nil, verifyOnly, list, sql != nil].filter { $0 }.count
        if modes > 1 { throw ValidationError("--out, --sql, --target, --verify-only and --list exclude each other: pass one of them") }
        if bytes && !list { throw ValidationError("--bytes goes with --list") }
        if list && (key != nil || pick) { throw ValidationError("--list takes no --key or --pick: pass one of them (--at filters it)") }
        if pick && key != nil { throw ValidationError("--pick chooses the key: pass --pick or --key, not both") }
        if at != nil && (key != nil || pick) { throw ValidationError("--at chooses the backup: pass --at, --key or --pick, not two of them") }
        if let at, TimeText.date(at) == nil {
            throw ValidationError("--at '\(at)' is not a time: use ISO-8601, e.g. 2026-11-20T15:00 (local time), 2026-11-20T15:00:00Z or 2026-11-20")
        }
        if overwrite && out == nil && sql == nil { throw ValidationError("--overwrite goes with --out PATH or --sql PATH") }
    }

    var job: MetricsFile.Job? { list ? nil : .restore }

    func execute(_ context: RunContext) throws -> any CommandResult {
        var settings = try context.settings()
        // --target without --db or --key restores only backups of the target's own name (its
        // configured entry's, else its file name): never another database's newest.
        var targetName: String?
        if let target, options.databases.isEmpty, key == nil {
            let path = Files.absolute(target)
            let entry = settings.databases.first { Files.absolute($0.path) == path } ?? DatabaseEntry(path: path)
            settings = settings.withDatabase(entry)
            targetName = entry.name
        }
        // --verify-only checks the newest backup of every configured database (the weekly verify).
        if verifyOnly && key == nil && at == nil && !pick && settings.databases.count > 1 {
            return DatabaseFanOut(settings: settings, console: context.console, job: .restore, verb: "verified").run {
                try RestoreOperation(settings: $0, console: context.console)
                    .run(RestoreRequest(selection: .newest, destination: .verifyOnly))
            }
        }
        try settings.requireAtMostOneDatabase("pass the one to restore with --db PATH")
        let console = context.console
        // The zone of a time without one: TZ as the run sees it (.env included), else the system's.
        let zone = settings.environment["TZ"].flatMap { TimeZone(identifier: $0) } ?? .current
        // To the millisecond, rounded: a Double's fraction may fall one short.
        let time = at.flatMap { TimeText.date($0, timeZone: zone) }.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
        if list {
            var listing = try BackupListing.load(settings: settings, console: console, takenBy: time)
            listing.zone = zone
            listing.exactBytes = bytes
            return listing
        }
        let destination: RestoreRequest.Destination
        if let target { destination = .liveDatabase(target, confirmed: yes) }
        else if verifyOnly { destination = .verifyOnly }
        else if let sql { destination = .sqlDump(sql, overwrite: overwrite) }
        else { destination = .file(out, overwrite: overwrite) }
        let selection: RestoreRequest.Selection
        if pick { selection = .chosen { [yes] in try BackupPicker.choose(from: $0, console: console, yes: yes) } }
        else if let key { selection = .objectKey(key) }
        else if let time { selection = .takenBy(millis: time) }
        else { selection = .newest }
        do {
            return try RestoreOperation(settings: settings, console: console)
                .run(RestoreRequest(selection: selection, destination: destination))
        } catch let error as BackupError where targetName != nil {
            switch error {
            case .noBackups, .noAuthenticatedBackups:
                throw BackupError.noBackupsOfTarget(name: targetName!, target: target!)
            default:
                throw error
            }
        }
    }
}

extension BackupListing: CommandResult {
    func render(on console: Console) {
        if backups.isEmpty {
            console.info("no backups found under \(location)")
            return
        }
        func size(_ bytes: Int64?) -> String {
            guard let bytes else { return "?" }
            return exactBytes ? String(bytes) : Formatting.bytes(bytes)
        }
        for item in backups {
            let time = Formatting.iso8601(millis: item.createdAt, zone: zone)
            let kind = item.kind.padding(toLength: 11, withPad: " ", startingAt: 0)
            let restored = size(item.restoredSize).padding(toLength: 10, withPad: " ", startingAt: 0)
            let stored = size(item.size).padding(toLength: 10, withPad: " ", startingAt: 0)
            let storage = item.storage.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
            let note = item.problem.map { "  (UNAUTHENTICATED: \($0))" } ?? (item.keepForever ? "  (kept forever)" : "")
            console.result("\(time)  \(kind)  \(restored)  \(stored)  \(storage)  \(item.database ?? "?")  \(item.objectKey)\(note)")
        }
    }
}

extension RestoreResult: CommandResult {
    var metricsOutcome: MetricsFile.Outcome { .success(sizeBytes: restoredSize) }

    func render(on console: Console) {
        let size = "\(Formatting.bytes(storedSize)) -> \(Formatting.bytes(restoredSize))"
        let seconds = String(format: "%.1f s", durationSeconds)
        if verifyOnly {
            console.info("verified \(objectKey) (\(size)): checksum, tag and integrity_check ok in \(seconds)")
        } else if let target {
            console.info("restored \(objectKey) into \(target) (\(size)) in \(seconds)")
            if let safetySnapshot { console.info("the previous content is saved in \(safetySnapshot)") }
        } else if let output {
            console.result(output)
            let what = format == "sql" ? "as an SQL dump " : ""
            console.info("restored \(objectKey) \(what)to \(output) (\(size)) in \(seconds)")
        }
    }
}
