import Foundation

/// The resolved configuration shared by all three executables.
///
/// Precedence, highest first: flags, the process environment, the `.env` file, defaults.
/// | setting | flag | environment | default |
/// |---|---|---|---|
/// | database | `--db` | `BACKUP_DB_PATH` | none |
/// | storage | `--storage` | `BACKUP_STORAGE` | `s3` when a bucket is set, else `local` |
/// | local folder | `--local-dir` | `BACKUP_LOCAL_DIR` | `./backups` |
/// | key prefix | `--prefix` | `BACKUP_PREFIX` | `backups/` |
/// | catalog | `--catalog` | `BACKUP_CATALOG_PATH` | `<local folder>/catalog.sqlite` |
/// | key file | `--encryption-key-file` | `BACKUP_ENCRYPTION_KEY_FILE`, `BACKUP_ENCRYPTION_KEY` | none |
/// | compression | `--compression` | `BACKUP_COMPRESSION` = `gzip` \| `zstd` | gzip |
/// | its level | `--compression-level` | `BACKUP_COMPRESSION_LEVEL` | gzip 6 (1-9), zstd 3 (1-19) |
package struct Settings: Sendable {
    /// Every database the run names (`--db` repeated, or BACKUP_DB_PATH's list and globs),
    /// each with the name its backups go by.
    package var databases: [DatabaseEntry]
    /// The database this run works on: the first of `databases` (backup and clean run each
    /// of them with `withDatabase`; restore takes one).
    package var database: DatabaseEntry? { databases.first }
    package var databasePath: String? { database?.path }
    /// Every configured path, in order.
    package var databasePaths: [String] { databases.map(\.path) }
    package var storageKind: StorageKind
    package var localDirectory: String
    package var prefix: String
    package var catalogPath: String
    package var compression: CompressionAlgorithm
    /// `--incremental` / `BACKUP_INCREMENTAL`: store only new blocks and a manifest.
    package var incremental: Bool
    /// `BACKUP_BLOCK_SIZE_KB`: the block size of incremental backups (rounded up to a
    /// multiple of the page size).
    package var blockSize: Int
    package var compressionLevel: Int
    package var keyFile: String?
    package let environment: Environment

    /// The block size of incremental backups, in KiB, unless `BACKUP_BLOCK_SIZE_KB` says otherwise.
    static let defaultBlockSizeKB = 4

    /// Names of the variables that configure a bucket, in precedence order.
    static let bucketVariables = ["S3_BUCKET", "WASABI_BUCKET"]

    package init(overrides: SettingOverrides, environment: Environment) throws {
        self.environment = environment
        databases = try overrides.databases
            ?? DatabaseList.resolve(flags: overrides.databasePaths, environment: environment["BACKUP_DB_PATH"])

        let storageText = overrides.storage ?? environment["BACKUP_STORAGE"]
        if let text = storageText {
            guard let kind = StorageKind(rawValue: text.lowercased()) else {
                throw BackupError.configuration("BACKUP_STORAGE=\(text) is not a storage kind: use 'local' or 's3'")
            }
            storageKind = kind
        } else {
            storageKind = environment.first(Settings.bucketVariables) == nil ? .local : .s3
        }

        localDirectory = Files.absolute(overrides.localDirectory ?? environment["BACKUP_LOCAL_DIR"] ?? "./backups")
        prefix = try Settings.normalizedPrefix(overrides.prefix ?? environment["BACKUP_PREFIX"]
            ?? Settings.defaultPrefix(storage: storageKind, localDirectory: localDirectory))
        catalogPath = Files.absolute(overrides.catalogPath ?? environment["BACKUP_CATALOG_PATH"] ?? localDirectory + "/catalog.sqlite")
        keyFile = overrides.keyFile.map(Files.absolute)

        let compressionText = overrides.compression ?? environment["BACKUP_COMPRESSION"]
        if let text = compressionText {
            guard let algorithm = CompressionAlgorithm(rawValue: text.lowercased()) else {
                throw BackupError.configuration("BACKUP_COMPRESSION=\(text) is not a compression: use gzip (the default, Laju-compatible) or zstd")
            }
            compression = algorithm
        } else {
            compression = .gzip
        }
        let incrementalText = environment["BACKUP_INCREMENTAL"]?.lowercased()
        guard incrementalText == nil || ["true", "false", "1", "0", "yes", "no"].contains(incrementalText!) else {
            throw BackupError.configuration("BACKUP_INCREMENTAL=\(environment["BACKUP_INCREMENTAL"]!) is not true or false: fix it in the environment or .env")
        }
        incremental = overrides.incremental || ["true", "1", "yes"].contains(incrementalText ?? "")
        blockSize = (try environment.integer("BACKUP_BLOCK_SIZE_KB", in: 1...1024) ?? Settings.defaultBlockSizeKB) * 1024
        // The level is per algorithm: a gzip level means nothing to zstd and the other way round.
        let levels = compression.levels
        if let level = overrides.compressionLevel {
            guard levels.contains(level) else {
                throw BackupError.invalidArgument("--compression-level \(level) is out of range for \(compression.rawValue): use \(levels.lowerBound) (fastest) to \(levels.upperBound) (smallest)")
            }
            compressionLevel = level
        } else {
            compressionLevel = try environment.integer("BACKUP_COMPRESSION_LEVEL", in: levels) ?? compression.defaultLevel
        }
    }

    /// The encryption key, loaded only by the commands that need it.
    package func encryptionKey() throws -> EncryptionKey {
        try EncryptionKey.resolve(keyFile: keyFile, environment: environment)
    }

    /// The current key and the retired ones. Restore needs at least one of them; the
    /// current key alone may be missing when retired keys are configured.
    package func keyRing() throws -> KeyRing {
        let retired = try KeyRing.retiredKeys(environment: environment)
        do {
            return KeyRing(current: try encryptionKey(), retired: retired)
        } catch BackupError.missingEncryptionKey where !retired.isEmpty {
            return KeyRing(current: nil, retired: retired)
        }
    }

    /// The key ring, failing with `missingEncryptionKey` when it holds no key: for the runs
    /// whose choices rest on records only a configured key verifies (restore, clean, --check).
    package func requiredKeyRing() throws -> KeyRing {
        let ring = try keyRing()
        guard !ring.all.isEmpty else { throw BackupError.missingEncryptionKey }
        return ring
    }

    /// `BACKUP_MIN_INTERVAL`: backup skips while the newest backup is younger.
    package func minimumInterval() throws -> TimeInterval? { try environment.duration("BACKUP_MIN_INTERVAL") }

    /// `BACKUP_CHECK_INTERVAL` (default 1 h; 0: every backup): how long after its chain's last
    /// quick_check an incremental backup stored as a delta may skip its own (`SnapshotCheckRule`).
    func snapshotCheckRule() throws -> SnapshotCheckRule {
        SnapshotCheckRule(intervalSeconds: try environment.duration("BACKUP_CHECK_INTERVAL") ?? SnapshotCheckRule.defaultInterval)
    }

    /// `BACKUP_ABANDONED_UPLOAD_HOURS` (default 24): how old what an interrupted run left (an
    /// unfinished S3 upload, a pack no manifest names) must be before clean-up removes it.
    package func abandonedAfter() throws -> TimeInterval {
        TimeInterval(try environment.integer("BACKUP_ABANDONED_UPLOAD_HOURS", in: 0...8760) ?? 24) * 3600
    }

    /// `BACKUP_MAX_AGE`: `backup --status` fails when the newest backup is older.
    package func maximumAge() throws -> TimeInterval? { try environment.duration("BACKUP_MAX_AGE") }

    /// `BACKUP_METRICS_FILE`: the Prometheus textfile each run updates.
    package var metricsFile: String? { environment["BACKUP_METRICS_FILE"].map(Files.absolute) }

    /// The key file in use, if the key comes from a file.
    package var keyFilePath: String? {
        keyFile ?? environment["BACKUP_ENCRYPTION_KEY_FILE"]
    }

    /// These settings for `entry` alone (one database of a run over several).
    package func withDatabase(_ entry: DatabaseEntry) -> Settings {
        var settings = self
        settings.databases = [entry]
        return settings
    }

    /// Fails unless the run names at most one database (restore and clean take one).
    package func requireAtMostOneDatabase(_ hint: String) throws {
        guard databasePaths.count <= 1 else {
            throw BackupError.invalidArgument("\(databasePaths.count) databases given (--db or BACKUP_DB_PATH) but this takes one: \(hint)")
        }
    }

    /// The prefix when none is set: `backups/` on S3 (a bucket is shared); none for the local
    /// folder, which is the backups' own (objects sit directly in it), unless the folder has
    /// the `backups/` subfolder earlier versions wrote into, which then stays in use.
    static func defaultPrefix(storage: StorageKind, localDirectory: String) -> String {
        guard storage == .local else { return "backups/" }
        return Files.isDirectory(localDirectory + "/backups") ? "backups/" : ""
    }

    /// The database path or a usage error naming both ways to set it.
    package func requireDatabase() throws -> String {
        guard let path = databasePath else {
            throw BackupError.invalidArgument("no database given: pass --db PATH or set BACKUP_DB_PATH")
        }
        return path
    }

    /// The configured database as backups name it: its name, absolute path and this host.
    package func databaseOrigin() throws -> DatabaseOrigin {
        let path = try requireDatabase()
        return DatabaseOrigin(name: database?.name ?? (path as NSString).lastPathComponent, path: Files.absolute(path))
    }

    /// The name of the configured database, which scopes restore and retention.
    package var databaseName: String? { database?.name }

    /// The prefix as given (a plain string prefix, as S3 treats it: `backups/` is a folder,
    /// `nightly-` a name prefix), without leading `/`, and with no `.` or `..` segment.
    static func normalizedPrefix(_ raw: String) throws -> String {
        var prefix = raw
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        if prefix.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
            throw BackupError.configuration("BACKUP_PREFIX=\(raw) contains '.' or '..' segments: use a plain folder name such as 'backups/'")
        }
        return prefix
    }
}
