import Foundation

/// Which backups to keep. Each rule that is set keeps a set of backups; a backup is
/// deleted only when no rule keeps it (restic's `forget` semantics). With no rule set,
/// backups younger than 30 days are kept (Laju's default). The newest backup is always kept.
package struct RetentionPolicy: Sendable, Equatable {
    package static let defaultDays = 30

    /// Keep backups younger than this many days.
    package var days: Int?
    /// Keep the newest N backups.
    package var count: Int?
    /// Keep the newest backup of each of the last N days (UTC) that have backups.
    package var daily: Int?
    /// The same per ISO week.
    package var weekly: Int?
    /// The same per calendar month.
    package var monthly: Int?

    package init(days: Int? = nil, count: Int? = nil, daily: Int? = nil, weekly: Int? = nil, monthly: Int? = nil) {
        self.days = days
        self.count = count
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    /// True when no rule is set, so the 30-day default applies.
    package var isEmpty: Bool {
        days == nil && count == nil && daily == nil && weekly == nil && monthly == nil
    }

    /// The policy actually applied.
    package var effective: RetentionPolicy {
        isEmpty ? RetentionPolicy(days: Self.defaultDays) : self
    }

    /// One backup as retention sees it.
    package struct Candidate: Sendable, Equatable {
        package let objectKey: String
        /// Milliseconds since the epoch.
        package let createdAt: Int64

        package init(objectKey: String, createdAt: Int64) {
            self.objectKey = objectKey
            self.createdAt = createdAt
        }
    }

    /// The verdict for one backup, with the rules that keep it.
    package struct Decision: Sendable, Equatable {
        package let candidate: Candidate
        package let reasons: [String]
        package var keep: Bool { !reasons.isEmpty }
    }

    /// Decides for each candidate of one database, newest first in the result.
    package func evaluate(_ candidates: [Candidate], now: Date) -> [Decision] {
        let policy = effective
        let sorted = candidates.sorted { ($0.createdAt, $0.objectKey) > ($1.createdAt, $1.objectKey) }
        var reasons = [[String]](repeating: [], count: sorted.count)
        if !sorted.isEmpty { reasons[0].append("newest") }

        if let count = policy.count {
            for i in sorted.indices.prefix(count) { reasons[i].append("last \(count)") }
        }
        if let days = policy.days {
            let cutoff = Int64((now.timeIntervalSince1970 - Double(days) * 86_400) * 1000)
            for i in sorted.indices where sorted[i].createdAt >= cutoff { reasons[i].append("within \(days)d") }
        }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let buckets: [(Int?, String, (Date) -> [Int])] = [
            (policy.daily, "daily", { let c = calendar.dateComponents([.year, .month, .day], from: $0); return [c.year!, c.month!, c.day!] }),
            (policy.weekly, "weekly", { let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0); return [c.yearForWeekOfYear!, c.weekOfYear!] }),
            (policy.monthly, "monthly", { let c = calendar.dateComponents([.year, .month], from: $0); return [c.year!, c.month!] }),
        ]
        for (limit, name, bucketOf) in buckets {
            guard let limit, limit > 0 else { continue }
            var lastBucket: [Int]?
            var kept = 0
            for i in sorted.indices {
                let bucket = bucketOf(Date(timeIntervalSince1970: Double(sorted[i].createdAt) / 1000))
                if bucket != lastBucket {
                    lastBucket = bucket
                    reasons[i].append(name)
                    kept += 1
                    if kept == limit { break }
                }
            }
        }
        return sorted.indices.map { Decision(candidate: sorted[$0], reasons: reasons[$0]) }
    }

    /// Reads the rules from the environment (`BACKUP_RETENTION_DAYS`, `BACKUP_RETENTION_COUNT`,
    /// `BACKUP_RETENTION_DAILY`, `_WEEKLY`, `_MONTHLY`); flags given in `overrides` win.
    /// The range of every rule's number (the flags check it in `validate()`).
    static let limits = 1...1_000_000

    package static func resolve(overrides: RetentionPolicy, environment: Environment) throws -> RetentionPolicy {
        let limit = limits
        return RetentionPolicy(
            days: try overrides.days ?? environment.integer("BACKUP_RETENTION_DAYS", in: limit),
            count: try overrides.count ?? environment.integer("BACKUP_RETENTION_COUNT", in: limit),
            daily: try overrides.daily ?? environment.integer("BACKUP_RETENTION_DAILY", in: limit),
            weekly: try overrides.weekly ?? environment.integer("BACKUP_RETENTION_WEEKLY", in: limit),
            monthly: try overrides.monthly ?? environment.integer("BACKUP_RETENTION_MONTHLY", in: limit))
    }
}
