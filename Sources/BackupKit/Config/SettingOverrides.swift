/// Values given as flags. Each one, when set, wins over the environment.
package struct SettingOverrides: Sendable {
    /// `--db`, as often as it was given.
    package var databasePaths: [String] = []
    /// The databases already resolved from `databasePaths` or the environment (globs expanded
    /// once per run); nil to resolve them in `Settings`.
    package var databases: [DatabaseEntry]?
    package var storage: String?
    package var localDirectory: String?
    package var prefix: String?
    package var catalogPath: String?
    package var keyFile: String?
    package var compression: String?
    package var compressionLevel: Int?
    package var incremental = false

    package init() {}
}
