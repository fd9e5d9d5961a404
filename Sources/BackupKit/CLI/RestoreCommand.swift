import ArgumentParser
import Foundation

/// `restore`: bring a backup back, verified, as a new file or into a live database.
public struct RestoreCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup: download, verify, decrypt, decompress, integrity-check, write.",
        discussion: """
            Without --key the newest backup (of --db's database when one is configured) is
            restored. Nothing is written to the output or the target unless the checksum, the
            GCM tag and PRAGMA integrity_check all pass.

            Examples:
              restore                                   newest backup -> ./backups/restored-<stamp>.db
              restore --list                            backups, newest first
              restore --key 'backups/app.db-20261123T061500Z-<uuid>.db.gz.enc' --out /tmp/app.db
              restore --verify-only                     full check of the newest backup, writes nothing
              restore --target app.db --yes             replace a live database (safety snapshot first)
              restore --sql app.sql                     newest backup as a plain SQL dump
              restore --pick                            choose from a numbered list (on a terminal)

            Backups made with a retired key restore when that key is listed in
            BACKUP_DECRYPTION_KEYS or BACKUP_DECRYPTION_KEYS_FILE: each backup records its key id.

            Exit codes: 0 ok, 1 unexpected, 64 usage (or no terminal to confirm --target),
            65 data error (tampered or corrupt backup, wrong key or iv/tag, failed integrity
            check), 66 backup missing, 69 storage unavailable, 73 cannot write the output,
            78 configuration (including: the key the backup names by id is not configured).
            """
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

    @Flag(help: "List the backups, newest first.")
    var list = false

    @Option(help: ArgumentHelp("Write a plain SQL dump of the restored database here instead of a .db.", valueName: "path"))
    var sql: String?

    @Flag(help: "Choose the backup from a numbered list (needs a terminal; --yes takes the newest).")
    var pick = false

    public init() {}

    public func validate() throws {
        let modes = [out != nil, target != nil, verifyOnly, list, sql != nil].filter { $0 }.count
        if modes > 1 { throw ValidationError("--out, --sql, --target, --verify-only and --list exclude each other: pass one of them") }
        if list && (key != nil || pick) { throw ValidationError("--list takes no --key or --pick: pass one of them") }
        if pick && key != nil { throw ValidationError("--pick chooses the key: pass --pick or --key, not both") }
        if overwrite && out == nil && sql == nil { throw ValidationError("--overwrite goes with --out PATH or --sql PATH") }
    }

    public func run() throws {
        if list {
            try CommandRunner.run(tool: "restore", options: options) { settings, console in
                try BackupListing.load(settings: settings, console: console)
            } human: { listing, console in
                listing.printTable(console)
            }
            return
        }
        let destination: RestoreRequest.Destination
        if let target { destination = .liveDatabase(target, confirmed: yes) }
        else if verifyOnly { destination = .verifyOnly }
        else if let sql { destination = .sqlDump(sql, overwrite: overwrite) }
        else { destination = .file(out, overwrite: overwrite) }
        try CommandRunner.run(tool: "restore", options: options, job: .restore) { settings, console in
            let chosen = pick ? try BackupPicker.choose(settings: settings, console: console, yes: yes) : key
            return try RestoreOperation(settings: settings, console: console).run(RestoreRequest(key: chosen, destination: destination))
        } human: { result, console in
            let size = "\(Formatting.bytes(result.storedSize)) -> \(Formatting.bytes(result.restoredSize))"
            let seconds = String(format: "%.1f s", result.durationSeconds)
            if result.verifyOnly {
                console.info("verified \(result.key) (\(size)): checksum, tag and integrity_check ok in \(seconds)")
            } else if let target = result.target {
                console.info("restored \(result.key) into \(target) (\(size)) in \(seconds)")
                if let safety = result.safetySnapshot { console.info("the previous content is saved in \(safety)") }
            } else if let output = result.output {
                console.result(output)
                let what = result.format == "sql" ? "as an SQL dump " : ""
                console.info("restored \(result.key) \(what)to \(output) (\(size)) in \(seconds)")
            }
        }
    }
}
