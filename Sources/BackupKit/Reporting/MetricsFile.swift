import Foundation
import Glibc

/// The Prometheus textfile-collector file named by `BACKUP_METRICS_FILE`, for node_exporter's
/// `--collector.textfile.directory`. Each run reads the file, updates its own job's series
/// (counters carry over from run to run), and replaces the file atomically (temp file, fsync,
/// rename), under a lock so that runs of different jobs do not lose each other's updates.
///
/// Series, each labelled `database="<file name>"` (`all` for clean-backup without a database):
/// - `database_<job>_success_total`, `database_<job>_failure_total` (counters)
/// - `database_<job>_size_bytes` (bytes stored by the last successful run)
/// - `database_<job>_duration_seconds` (the last run, successful or not)
/// - `database_<job>_last_success_timestamp_seconds`
/// where `<job>` is `backup`, `restore` (restores and `--verify-only` checks) or `clean`,
/// plus `database_backup_skipped_total` (runs skipped by `BACKUP_MIN_INTERVAL`).
package struct MetricsFile {
    /// The job a run reports as.
    package enum Job: String, Sendable { case backup, restore, clean }

    /// How a run ended.
    package enum Outcome: Sendable {
        case success(sizeBytes: Int64?)
        case failure
        case skipped
    }

    package let path: String

    package init(path: String) {
        self.path = path
    }

    /// Records one run; a file that cannot be written is a warning on `console`, never the run's failure.
    func record(job: Job, database: String, outcome: Outcome, durationSeconds: Double, warningOn console: Console) {
        do {
            try record(job: job, database: database, outcome: outcome, durationSeconds: durationSeconds)
        } catch {
            console.warning("could not update the metrics file \(path): \(error); check BACKUP_METRICS_FILE")
        }
    }

    /// Records one run. Throws when the file cannot be written (callers warn, not fail).
    package func record(job: Job, database: String, outcome: Outcome, durationSeconds: Double, now: Date = Date()) throws {
        let lockPath = path + ".lock"
        let lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard lockFD >= 0 else { throw BackupError.cannotWrite(path: lockPath, reason: errnoText()) }
        defer { close(lockFD) }
        guard flock(lockFD, LOCK_EX) == 0 else { throw BackupError.cannotWrite(path: lockPath, reason: errnoText()) }
        defer { flock(lockFD, LOCK_UN) }

        var samples = Self.parse((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
        let labels = "{database=\"\(Self.escape(database))\"}"
        func name(_ suffix: String) -> String { "database_\(job.rawValue)_\(suffix)" }
        func bump(_ suffix: String) { samples[name(suffix) + labels, default: 0] += 1 }
        func set(_ suffix: String, _ value: Double) { samples[name(suffix) + labels] = value }
        // Both counters exist from the first run on, so rate() and alerts see a zero, not a gap.
        samples[name("success_total") + labels, default: 0] += 0
        samples[name("failure_total") + labels, default: 0] += 0
        switch outcome {
        case .success(let size):
            bump("success_total")
            if let size { set("size_bytes", Double(size)) }
            set("last_success_timestamp_seconds", (now.timeIntervalSince1970 * 1000).rounded() / 1000)
            set("duration_seconds", durationSeconds)
        case .failure:
            bump("failure_total")
            set("duration_seconds", durationSeconds)
        case .skipped:
            bump("skipped_total")
        }
        // The temp name does not end in .prom, so the collector never reads it half-written.
        // Mode 0644: the collector usually runs as another user, and the file holds no secret.
        try Files.writeAtomically(Array(Self.render(samples).utf8), to: path, mode: 0o644)
    }

    /// `name{labels} value` lines of an earlier file, by series; comments and junk ignored.
    static func parse(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space].trimmingCharacters(in: .whitespaces)
            if series.hasPrefix("database_") { samples[series] = value }
        }
        return samples
    }

    /// The file's text: each metric's HELP and TYPE, then its series, sorted.
    static func render(_ samples: [String: Double]) -> String {
        let byMetric = Dictionary(grouping: samples.keys) { String($0.prefix { $0 != "{" }) }
        var out = ""
        for metric in byMetric.keys.sorted() {
            out += "# HELP \(metric) \(help(metric))\n"
            out += "# TYPE \(metric) \(metric.hasSuffix("_total") ? "counter" : "gauge")\n"
            for series in byMetric[metric]!.sorted() {
                out += "\(series) \(format(samples[series]!))\n"
            }
        }
        return out
    }

    static func help(_ metric: String) -> String {
        let job = metric.split(separator: "_").dropFirst().first.map(String.init) ?? "run"
        let what = ["backup": "backup runs", "restore": "restore and verify runs", "clean": "clean-backup runs"][job] ?? "runs"
        if metric.hasSuffix("_success_total") { return "Successful \(what)." }
        if metric.hasSuffix("_failure_total") { return "Failed \(what)." }
        if metric.hasSuffix("_skipped_total") { return "Backup runs skipped because the newest backup is younger than BACKUP_MIN_INTERVAL." }
        if metric.hasSuffix("_size_bytes") {
            return job == "restore" ? "Bytes of the database restored by the last successful run."
                : job == "clean" ? "Bytes of backups kept after the last successful run." : "Bytes stored by the last successful backup."
        }
        if metric.hasSuffix("_duration_seconds") { return "Duration of the last of the \(what)." }
        if metric.hasSuffix("_last_success_timestamp_seconds") { return "Unix time of the last successful of the \(what)." }
        return "sqlite-s3-backup metric."
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
