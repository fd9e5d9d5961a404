import ArgumentParser

/// The settings every executable takes: where the database, the backups, the catalog and
/// the key are, and how much to say. Flags win over the environment and `.env`.
package struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("env-file"), help: ArgumentHelp("Read settings from this file instead of ./.env.", valueName: "path"))
    var envFile: String?

    @Option(name: .customLong("db"), help: ArgumentHelp("The SQLite database (BACKUP_DB_PATH), optionally named: NAME=PATH (the name its backups go by; default its file name). backup and clean-backup take several: repeat --db, or list them (commas, globs) in BACKUP_DB_PATH.", valueName: "path"))
    var databases: [String] = []

    @Option(help: ArgumentHelp("'local' or 's3' (BACKUP_STORAGE).", valueName: "kind"))
    var storage: StorageKind?

    @Option(name: .customLong("local-dir"), help: ArgumentHelp("The local backup folder (BACKUP_LOCAL_DIR, default ./backups).", valueName: "path"))
    var localDir: String?

    @Option(help: ArgumentHelp("Object key prefix of the backups (BACKUP_PREFIX; default backups/ on S3, none in the local folder).", valueName: "prefix"))
    var prefix: PrefixArgument?

    @Option(help: ArgumentHelp("The SQLite file holding the backup_files table (BACKUP_CATALOG_PATH, default <local dir>/catalog.sqlite).", valueName: "path"))
    var catalog: String?

    @Option(name: .customLong("encryption-key-file"), help: ArgumentHelp("File holding the 32-byte key (BACKUP_ENCRYPTION_KEY_FILE).", valueName: "path"))
    var encryptionKeyFile: String?

    @Flag(help: "Print the result as JSON on stdout.")
    var json = false

    @Flag(name: [.short, .long], help: "Print nothing but errors (for cron).")
    var quiet = false

    @Flag(name: [.short, .long], help: "Print each step.")
    var verbose = false

    package init() {}

    package func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose contradict each other: pass one of them") }
    }

    func overrides() -> SettingOverrides {
        var o = SettingOverrides()
        o.databasePaths = databases
        o.storage = storage?.rawValue
        o.localDirectory = localDir
        o.prefix = prefix?.text
        o.catalogPath = catalog
        o.keyFile = encryptionKeyFile
        return o
    }

    func console(tool: String, sink: (@Sendable (Console.Stream, String) -> Void)? = nil) -> Console {
        Console(tool: tool, verbosity: quiet ? .quiet : verbose ? .verbose : .normal, json: json, sink: sink)
    }
}
