import Foundation

/// What a running command may use: its console and its settings. The settings (the
/// environment, `.env`, the flags) load on first use, so `backup --generate-key` needs none;
/// loading them also names the metrics file the run is recorded in.
final class RunContext {
    let console: Console
    private let command: any RunnableCommand
    private let processEnvironment: [String: String]
    private let recorder: RunRecorder
    private var loaded: Settings?

    init(command: any RunnableCommand, processEnvironment: [String: String], console: Console, recorder: RunRecorder) {
        self.command = command
        self.processEnvironment = processEnvironment
        self.console = console
        self.recorder = recorder
    }

    /// The resolved settings: flags over the environment over `.env` over defaults.
    func settings() throws -> Settings {
        if let loaded { return loaded }
        var overrides = command.overrides()
        let environment = try Environment.load(envFile: command.options.envFile, process: processEnvironment)
        for warning in KnownVariables.warnings(for: environment) { console.warning(warning) }
        // Resolved (globs expanded) once: the settings take the list as given.
        let databases = try DatabaseList.resolve(flags: overrides.databasePaths, environment: environment["BACKUP_DB_PATH"])
        overrides.databases = databases
        // A run over several databases records one series per database itself (DatabaseFanOut).
        if let path = environment["BACKUP_METRICS_FILE"], databases.count <= 1 {
            recorder.configure(MetricsFile(path: Files.absolute(path)), database: databases.first?.name ?? "all")
        }
        if let url = environment["BACKUP_PING_URL"], !url.isEmpty {
            recorder.configure(ping: try PingURL(url))
        }
        let settings = try Settings(overrides: overrides, environment: environment)
        // Every executable sweeps what killed runs left (a plaintext snapshot among them),
        // without creating the folder when there is none.
        WorkDirectory.removeLeftovers(in: settings.localDirectory + "/.work")
        loaded = settings
        return settings
    }
}
