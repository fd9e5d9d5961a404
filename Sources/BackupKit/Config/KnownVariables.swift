/// Every variable the suite reads under its own prefixes, so a typo (`S3_BUCKT`) is said
/// instead of silently turning off-site backups into local ones.
enum KnownVariables {
    static let prefixes = ["BACKUP_", "S3_", "WASABI_"]

    static let names: Set<String> = [
        "BACKUP_ABANDONED_UPLOAD_HOURS", "BACKUP_BLOCK_SIZE_KB", "BACKUP_CATALOG_PATH", "BACKUP_CHECK_INTERVAL", "BACKUP_COMPRESSION",
        "BACKUP_COMPRESSION_LEVEL", "BACKUP_DB_PATH", "BACKUP_DECRYPTION_KEYS", "BACKUP_DECRYPTION_KEYS_FILE",
        "BACKUP_ENCRYPTION_KEY", "BACKUP_ENCRYPTION_KEY_FILE", "BACKUP_FAILPOINT", "BACKUP_FAILPOINT_RESUME",
        "BACKUP_INCREMENTAL", "BACKUP_LOCAL_DIR", "BACKUP_MAX_AGE", "BACKUP_METRICS_FILE", "BACKUP_MIN_INTERVAL",
        "BACKUP_PING_URL", "BACKUP_PREFIX", "BACKUP_RETENTION_COUNT", "BACKUP_RETENTION_DAILY", "BACKUP_RETENTION_DAYS",
        "BACKUP_RETENTION_MONTHLY", "BACKUP_RETENTION_WEEKLY", "BACKUP_S3_CONNECT_TIMEOUT", "BACKUP_S3_LIST_PAGE_SIZE",
        "BACKUP_S3_MULTIPART_THRESHOLD_MB", "BACKUP_S3_OBJECT_LOCK", "BACKUP_S3_OBJECT_LOCK_DAYS", "BACKUP_S3_PARALLEL_PARTS",
        "BACKUP_S3_PART_SIZE_MB", "BACKUP_S3_RETRIES", "BACKUP_S3_RETRY_SECONDS", "BACKUP_SSE",
        "BACKUP_STORAGE",
        "S3_ACCESS_KEY", "S3_ADDRESSING", "S3_BUCKET", "S3_CA_BUNDLE", "S3_ENDPOINT", "S3_REGION", "S3_SECRET_KEY", "S3_SECRET_KEY_FILE",
        "S3_SESSION_TOKEN",
        "WASABI_ACCESS_KEY", "WASABI_BUCKET", "WASABI_ENDPOINT", "WASABI_REGION", "WASABI_SECRET_KEY",
    ]

    /// One warning per unknown name under the suite's prefixes, naming the likely setting.
    static func warnings(for environment: Environment) -> [String] {
        environment.values.keys.filter { name in
            prefixes.contains { name.hasPrefix($0) } && !names.contains(name)
        }.sorted().map { name in
            if let likely = closest(to: name) {
                return "\(name) is not a setting of sqlite-s3-backup and is ignored: did you mean \(likely)?"
            }
            return "\(name) is not a setting of sqlite-s3-backup and is ignored (see the README's configuration table)"
        }
    }

    /// The known name within a small edit distance of `name`, if one is close enough.
    static func closest(to name: String) -> String? {
        let scored = names.map { ($0, distance(name, $0)) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let (best, score) = scored, score <= max(2, name.count / 5) else { return nil }
        return best
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
