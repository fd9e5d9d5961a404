import Foundation
import Testing
@testable import BackupKit

/// Each set rule keeps a set; a backup goes only when no rule keeps it.
struct RetentionTests {
    /// 2026-11-23 12:00 UTC.
    let now = Date(timeIntervalSince1970: 1_795_435_200)

    /// One backup per `hours` over `days` days before `now`, newest first by key number.
    func backups(everyHours hours: Double, forDays days: Double) -> [RetentionPolicy.Candidate] {
        var list: [RetentionPolicy.Candidate] = []
        var t = now.timeIntervalSince1970 - 60
        var n = 0
        while t > now.timeIntervalSince1970 - days * 86_400 {
            list.append(.init(objectKey: String(format: "b%05d", n), createdAt: Int64(t * 1000)))
            t -= hours * 3600
            n += 1
        }
        return list
    }

    func kept(_ policy: RetentionPolicy, _ candidates: [RetentionPolicy.Candidate]) -> [String] {
        policy.evaluate(candidates, now: now).filter(\.keep).map(\.candidate.objectKey)
    }

    @Test("no rule set keeps 30 days")
    func defaultIsThirtyDays() {
        let all = backups(everyHours: 24, forDays: 60)
        let keep = kept(RetentionPolicy(), all)
        #expect(keep.count == 30)
        #expect(RetentionPolicy().effective == RetentionPolicy(days: 30))
    }

    @Test("keep-days keeps exactly the backups younger than the cutoff")
    func days() {
        let all = backups(everyHours: 12, forDays: 10)
        let keep = Set(kept(RetentionPolicy(days: 3), all))
        let cutoff = Int64((now.timeIntervalSince1970 - 3 * 86_400) * 1000)
        #expect(keep == Set(all.filter { $0.createdAt >= cutoff }.map(\.objectKey)))
    }

    @Test("keep-last keeps the newest N")
    func count() {
        let all = backups(everyHours: 6, forDays: 10)
        #expect(kept(RetentionPolicy(count: 5), all) == Array(all.prefix(5).map(\.objectKey)))
    }

    @Test("daily/weekly/monthly keep the newest backup of each period, restic-style")
    func grandfatherFatherSon() {
        let all = backups(everyHours: 6, forDays: 400)
        let decisions = RetentionPolicy(daily: 7, weekly: 4, monthly: 12).evaluate(all, now: now)
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func date(_ c: RetentionPolicy.Candidate) -> Date { Date(timeIntervalSince1970: Double(c.createdAt) / 1000) }
        let daily = decisions.filter { $0.reasons.contains("daily") }.map { date($0.candidate) }
        #expect(daily.count == 7)
        #expect(Set(daily.map { calendar.dateComponents([.year, .month, .day], from: $0) }).count == 7)
        let monthly = decisions.filter { $0.reasons.contains("monthly") }.map { date($0.candidate) }
        #expect(monthly.count == 12)
        #expect(Set(monthly.map { calendar.dateComponents([.year, .month], from: $0) }).count == 12)
        // Each kept monthly backup is the newest of its month.
        for d in monthly {
            let month = calendar.dateComponents([.year, .month], from: d)
            let newest = all.map(date).filter { calendar.dateComponents([.year, .month], from: $0) == month }.max()!
            #expect(d == newest)
        }
        let keptCount = decisions.filter(\.keep).count
        #expect(keptCount <= 7 + 4 + 12 && keptCount >= 12)
    }

    @Test("rules add up: a backup kept by any rule stays")
    func unionOfRules() {
        let all = backups(everyHours: 24, forDays: 100)
        let a = Set(kept(RetentionPolicy(count: 3), all))
        let b = Set(kept(RetentionPolicy(monthly: 3), all))
        #expect(Set(kept(RetentionPolicy(count: 3, monthly: 3), all)) == a.union(b))
    }

    @Test("the newest backup is kept even when every rule would drop it")
    func newestAlwaysKept() {
        let old = [RetentionPolicy.Candidate(objectKey: "old", createdAt: 1_000), .init(objectKey: "older", createdAt: 500)]
        #expect(kept(RetentionPolicy(days: 1), old) == ["old"])
    }

    @Test("flags win over the environment; out-of-range environment values are refused (flags are checked by the parser)")
    func resolveFromEnvironment() throws {
        let env = Environment(["BACKUP_RETENTION_DAYS": "14", "BACKUP_RETENTION_COUNT": "3"])
        let policy = try RetentionPolicy.resolve(overrides: RetentionPolicy(count: 9), environment: env)
        #expect(policy == RetentionPolicy(days: 14, count: 9))
        let zero = BackupError.configuration("BACKUP_RETENTION_DAILY=0 is not a whole number from 1 to 1000000: fix it in the environment or .env")
        #expect(throws: zero) { try RetentionPolicy.resolve(overrides: RetentionPolicy(), environment: Environment(["BACKUP_RETENTION_DAILY": "0"])) }
        let parsed = #expect(throws: (any Error).self) { try CleanBackupCommand.parse(["--keep-daily", "0"]) }
        #expect(CleanBackupCommand.message(for: parsed!).contains("--keep-daily 0 is out of range"), "\(String(describing: parsed))")
        #expect(CleanBackupCommand.exitCode(for: parsed!).rawValue == 64)
        let text = BackupError.configuration("BACKUP_RETENTION_DAYS=x is not a whole number from 1 to 1000000: fix it in the environment or .env")
        #expect(throws: text) { try RetentionPolicy.resolve(overrides: RetentionPolicy(), environment: Environment(["BACKUP_RETENTION_DAYS": "x"])) }
    }
}
