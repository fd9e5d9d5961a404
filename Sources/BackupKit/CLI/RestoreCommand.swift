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

            Exit codes: 0 ok, 1 unexpected, 64 usage (or no terminal to confirm --target),
            65 data error (wrong key, tampered or corrupt backup, failed integrity check),
            66 backup missing, 69 storage unavailable, 73 cannot write the output,
            78 configuration.
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

    public init() {}

    public func validate() throws {
        let modes = [out != nil, target != nil, verifyOnly, list].filter { $0 }.count
        if modes > 1 { throw ValidationError("--out, --target, --verify-only and --list exclude each other: pass one of them") }
        if list && key != nil { throw ValidationError("--list takes no --key: pass one of them") }
        if overwrite && out == nil { throw ValidationError("--overwrite goes with --out PATH") }
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
        else { destination = .file(out, overwrite: overwrite) }
        try CommandRunner.run(tool: "restore", options: options) { settings, console in
            try RestoreOperation(settings: settings, console: console).run(RestoreRequest(key: key, destination: destination))
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
                console.info("restored \(result.key) to \(output) (\(size)) in \(seconds)")
            }
        }
    }
}
