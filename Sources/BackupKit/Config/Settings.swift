import Foundation

/// Where backups are stored.
public enum StorageKind: String, Sendable, Codable {
    case local
    case s3
}

/// Values given as flags. Each one, when set, wins over the environment.
public struct SettingOverrides: Sendable {
    public var databasePath: String?
    public var storage: String?
    public var localDirectory: String?
    public var prefix: String?
    public var catalogPath: String?
    public var keyFile: String?
    public var compressionLevel: Int?

    public init() {}
}

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
/// | gzip level | `--compression-level` | `BACKUP_COMPRESSION_LEVEL` | 6 |
public struct Settings: Sendable {
    public var databasePath: String?
    public var storageKind: StorageKind
    public var localDirectory: String
    public var prefix: String
    public var catalogPath: String
    public var compressionLevel: Int
    public var keyFile: String?
    public let environment: Environment
    /// Where storage reports retries and detours (`--verbose`) and warnings.
    public var storageLog: StorageLog = .silent

    /// Names of the variables that configure a bucket, in precedence order.
    static let bucketVariables = ["S3_BUCKET", "WASABI_BUCKET"]

    public init(overrides: SettingOverrides, environment: Environment) throws {
        self.environment = environment
        databasePath = (overrides.databasePath ?? environment["BACKUP_DB_PATH"]).map(Files.absolute)

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
        prefix = try Settings.normalizedPrefix(overrides.prefix ?? environment["BACKUP_PREFIX"] ?? "backups/")
        catalogPath = Files.absolute(overrides.catalogPath ?? environment["BACKUP_CATALOG_PATH"] ?? localDirectory + "/catalog.sqlite")
        keyFile = overrides.keyFile.map(Files.absolute)

        if let level = overrides.compressionLevel {
            guard (1...9).contains(level) else {
                throw BackupError.invalidArgument("--compression-level \(level) is out of range: use 1 (fastest) to 9 (smallest)")
            }
            compressionLevel = level
        } else {
            compressionLevel = try environment.integer("BACKUP_COMPRESSION_LEVEL", in: 1...9) ?? 6
        }
    }

    /// The encryption key, loaded only by the commands that need it.
    public func encryptionKey() throws -> EncryptionKey {
        try EncryptionKey.resolve(keyFile: keyFile, environment: environment)
    }

    /// The current key and the retired ones. Restore needs at least one of them; the
    /// current key alone may be missing when retired keys are configured.
    public func keyRing() throws -> KeyRing {
        let retired = try KeyRing.retiredKeys(environment: environment)
        do {
            return KeyRing(current: try encryptionKey(), retired: retired)
        } catch BackupError.missingEncryptionKey where !retired.isEmpty {
            return KeyRing(current: nil, retired: retired)
        }
    }

    /// `BACKUP_MIN_INTERVAL`: backup skips while the newest backup is younger.
    public func minimumInterval() throws -> TimeInterval? { try environment.duration("BACKUP_MIN_INTERVAL") }

    /// `BACKUP_MAX_AGE`: `backup --status` fails when the newest backup is older.
    public func maximumAge() throws -> TimeInterval? { try environment.duration("BACKUP_MAX_AGE") }

    /// `BACKUP_METRICS_FILE`: the Prometheus textfile each run updates.
    public var metricsFile: String? { environment["BACKUP_METRICS_FILE"].map(Files.absolute) }

    /// The key file in use, if the key comes from a file.
    public var keyFilePath: String? {
        keyFile ?? environment["BACKUP_ENCRYPTION_KEY_FILE"]
    }

    /// The database path or a usage error naming both ways to set it.
    public func requireDatabase() throws -> String {
        guard let path = databasePath else {
            throw BackupError.invalidArgument("no database given: pass --db PATH or set BACKUP_DB_PATH")
        }
        return path
    }

    /// The file name of the configured database, which scopes restore and retention.
    public var databaseName: String? {
        databasePath.map { ($0 as NSString).lastPathComponent }
    }

    /// Builds the storage backend these settings describe.
    public func makeStorage() throws -> any ObjectStorage {
        switch storageKind {
        case .local:
            return try LocalFolderStorage(root: localDirectory)
        case .s3:
            var storage = S3Storage(config: try S3Configuration(environment: environment),
                                    listPageSize: try environment.integer("BACKUP_S3_LIST_PAGE_SIZE", in: 1...1000) ?? 1000,
                                    log: storageLog)
            if let hours = try environment.integer("BACKUP_ABANDONED_UPLOAD_HOURS", in: 0...8760) {
                storage.abandonedAfter = TimeInterval(hours) * 3600
            }
            return storage
        }
    }

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
