import Foundation

/// `backup --status`: the configuration with secrets masked, whether storage answers, and
/// the newest backup's age, for a person or a monitoring check. Its `exitStatus` is 0 when
/// all is well, 78 for a configuration problem, 69 when storage does not answer, and 3 when
/// there is no backup or the newest is older than `BACKUP_MAX_AGE`.
package struct StatusReport: Encodable, Sendable {
    package struct Configuration: Encodable, Sendable {
        package var database: String?
        package var storage: StorageKind
        package var location: String
        package var prefix: String
        package var catalog: String
        package var keySource: String?
        package var keyID: String?
        package var retiredKeyIds: [String]
        package var compression: CompressionAlgorithm
        package var compressionLevel: Int
        package var s3Endpoint: String?
        package var s3Bucket: String?
        /// The region in use: the configured one, or the bucket's once S3 named it.
        package var s3Region: String?
        /// Where the credentials come from (environment, profile, web identity, container, instance).
        package var s3Credentials: String?
        /// The access key id, shortened; the secret is never shown.
        package var s3AccessKey: String?
        package var s3SecretKey: String?
        /// `compliance, 30 day(s)` with BACKUP_S3_OBJECT_LOCK; nil without.
        package var objectLock: String?
        package var minIntervalSeconds: Double?
        package var maxAgeSeconds: Double?
        package var retention: String?
        package var metricsFile: String?
    }

    package struct Backups: Encodable, Sendable {
        package var count: Int
        package var totalSize: Int64
        package var newestObjectKey: String?
        package var newestCreatedAt: Int64?
        package var newestAgeSeconds: Double?
        /// Objects whose metadata does not verify (not counted above).
        package var unauthenticated = 0

        enum CodingKeys: String, CodingKey {
            case count, totalSize, newestCreatedAt, newestAgeSeconds, unauthenticated
            case newestObjectKey = "newestKey"
        }
    }

    package var ok: Bool { problems.isEmpty }
    package var configuration: Configuration
    package var storageReachable: Bool
    package var backups: Backups?
    /// One line per problem, each naming the fix.
    package var problems: [String]
    /// Findings that do not fail the check but need a person (one name written from several places).
    package var warnings: [String] = []
    package var exitCode: Int32 { exitStatus.rawValue }
    var exitStatus: ExitStatus

    enum CodingKeys: String, CodingKey {
        case ok, configuration, storageReachable, backups, problems, warnings, exitCode
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ok, forKey: .ok)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(storageReachable, forKey: .storageReachable)
        try c.encode(backups, forKey: .backups)
        try c.encode(problems, forKey: .problems)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(exitCode, forKey: .exitCode)
    }

    /// Gathers the report; problems are collected, not thrown, so one run shows them all.
    package static func gather(settings: Settings, console: Console, now: Date = Date()) -> StatusReport {
        var problems: [(ExitStatus, String)] = []
        func note(_ error: Error) {
            let status = (error as? BackupError)?.exitStatus ?? .failure
            problems.append((status, (error as? BackupError)?.description ?? "\(error)"))
        }
        var config = Configuration(
            database: settings.databasePath, storage: settings.storageKind, location: "", prefix: settings.prefix,
            catalog: settings.catalogPath, retiredKeyIds: [], compression: settings.compression, compressionLevel: settings.compressionLevel,
            metricsFile: settings.metricsFile)
        var warnings: [String] = []
        if let path = settings.keyFilePath {
            config.keySource = "file \(Files.absolute(path))"
            if EncryptionKey.isLooselyProtected(file: path) {
                warnings.append("the key file \(Files.absolute(path)) can be read by other users: run 'chmod 600 \(Files.absolute(path))'")
            }
        }
        else if settings.environment["BACKUP_ENCRYPTION_KEY"] != nil { config.keySource = "BACKUP_ENCRYPTION_KEY" }
        do {
            let ring = try settings.keyRing()
            config.keyID = ring.current?.id
            config.retiredKeyIds = ring.retired.map(\.id)
            if ring.current == nil { throw BackupError.missingEncryptionKey }
        } catch { note(error) }
        do { config.minIntervalSeconds = try settings.minimumInterval() } catch { note(error) }
        do { config.maxAgeSeconds = try settings.maximumAge() } catch { note(error) }
        do {
            let policy = try RetentionPolicy.resolve(overrides: RetentionPolicy(), environment: settings.environment)
            config.retention = CleanOperation.describe(policy.effective)
        } catch { note(error) }
        if let database = settings.databasePath, !Files.exists(database) {
            problems.append((.noInput, BackupError.databaseMissing(path: database).description))
        }

        var reachable = false
        var backups: Backups?
        do {
            let repository = try BackupRepository(settings: settings, catalog: .ifPresent, console: console)
            let s3 = repository.storage as? S3Storage
            defer { if let s3 { describe(s3, into: &config) } }
            config.location = repository.location
            let inventory = try repository.inventory()
            reachable = true
            // Ages and counts come from authenticated records only: a forged future-dated
            // object never makes a stale database look fresh.
            let trusted = repository.origin.map { inventory.own($0) } ?? inventory.trusted
            let elsewhere = inventory.trusted.count - trusted.count
            warnings += inventory.sharedNames.map(Inventory.sharedNameWarning)
            let newest = trusted.first
            let age = newest?.age(at: now)
            backups = Backups(count: trusted.count, totalSize: trusted.saturatingSum(\.size),
                              newestObjectKey: newest?.objectKey, newestCreatedAt: newest?.createdAt, newestAgeSeconds: age,
                              unauthenticated: inventory.untrusted.count)
            if newest == nil && elsewhere > 0 {
                problems.append((.stale, "no backup of \(settings.databaseName ?? "") taken from \(settings.databasePath ?? "") on this host (\(DatabaseOrigin.thisHost)) under \(config.location); \(elsewhere) were taken elsewhere: run 'backup' here"))
            } else if newest == nil {
                problems.append((.stale, "no backup found under \(config.location): run 'backup' (and check BACKUP_PREFIX)"))
            } else if let age, let maxAge = config.maxAgeSeconds, age > maxAge {
                problems.append((.stale, "the newest backup is \(Formatting.shortDuration(age)) old, older than BACKUP_MAX_AGE (\(Formatting.shortDuration(maxAge))): check that the backup job runs (cron, its log)"))
            }
        } catch { note(error) }

        // The most fundamental problem decides the exit code.
        let order: [ExitStatus] = [.configuration, .noInput, .unavailable, .failure, .stale]
        let status = order.first { wanted in problems.contains { $0.0 == wanted } }
            ?? problems.first?.0 ?? .ok
        return StatusReport(configuration: config, storageReachable: reachable, backups: backups,
                            problems: problems.map(\.1), warnings: warnings, exitStatus: status)
    }

    /// The S3 rows, read after the first requests so the region is the one in use.
    private static func describe(_ s3: S3Storage, into config: inout Configuration) {
        config.s3Endpoint = "\(s3.config.scheme)://\(s3.session.authority)"
        config.s3Bucket = s3.config.bucket
        config.s3Region = s3.regionInUse
        config.s3Credentials = s3.credentialSource
        config.s3AccessKey = (try? s3.session.credentials.current().accessKey).map(mask)
        config.s3SecretKey = "****"
        config.objectLock = s3.config.objectLock?.description
    }

    /// `AKIA…WXYZ`: enough to recognise an access key id, not to use it.
    static func mask(_ accessKey: String) -> String {
        accessKey.count > 8 ? "\(accessKey.prefix(4))…\(accessKey.suffix(4))" : "****"
    }

    /// The report as aligned lines for a person (the problems are printed apart, as errors).
    package func lines() -> [String] {
        var rows: [(String, String)] = []
        let c = configuration
        rows.append(("database", c.database ?? "not set (BACKUP_DB_PATH or --db)"))
        rows.append(("storage", "\(c.storage.rawValue): \(c.location.isEmpty ? "unusable" : c.location)"))
        if let endpoint = c.s3Endpoint {
            rows.append(("s3", "bucket \(c.s3Bucket ?? "?") at \(endpoint), region \(c.s3Region ?? "?")"))
            rows.append(("credentials", "\(c.s3Credentials ?? "?"): access key \(c.s3AccessKey ?? "?"), secret \(c.s3SecretKey ?? "not set")"))
        }
        if c.s3Endpoint != nil { rows.append(("object lock", c.objectLock ?? "off")) }
        rows.append(("catalog", c.catalog))
        rows.append(("encryption key", c.keyID.map { "id \($0) (from \(c.keySource ?? "?"))" } ?? "not configured"))
        if !c.retiredKeyIds.isEmpty { rows.append(("retired keys", c.retiredKeyIds.joined(separator: ", "))) }
        rows.append(("compression", "\(c.compression.rawValue) level \(c.compressionLevel)"))
        rows.append(("min interval", c.minIntervalSeconds.map { Formatting.shortDuration($0) } ?? "not set"))
        rows.append(("max age", c.maxAgeSeconds.map { Formatting.shortDuration($0) } ?? "not set"))
        rows.append(("retention", c.retention ?? "?"))
        rows.append(("metrics file", c.metricsFile ?? "not set"))
        rows.append(("storage check", storageReachable ? "ok" : "FAILED"))
        if let b = backups {
            rows.append(("backups", "\(b.count), \(Formatting.bytes(b.totalSize)) in all"))
            if b.unauthenticated > 0 {
                rows.append(("unauthenticated", "\(b.unauthenticated) object(s) that do not verify, not counted ('clean-backup --check' lists them)"))
            }
            if let key = b.newestObjectKey, let age = b.newestAgeSeconds {
                rows.append(("newest", "\(key), \(Formatting.shortDuration(age)) old"))
            }
        }
        rows.append(("status", ok ? "ok" : "PROBLEM (exit \(exitCode))"))
        return rows.map { $0.0.padding(toLength: 15, withPad: " ", startingAt: 0) + $0.1 }
    }
}
