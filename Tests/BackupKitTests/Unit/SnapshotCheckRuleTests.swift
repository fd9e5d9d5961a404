import Testing
@testable import BackupKit

/// When an incremental backup's quick_check may be skipped: only on the authenticated
/// `checked_at` of its previous manifest, and never on an absurd one.
struct SnapshotCheckRuleTests {
    let hour: Int64 = 3_600_000

    func header(createdAt: Int64?, checkedAt: Int64?) -> Manifest.Header {
        var header = Manifest.Header(database: "app.db", objectKey: "m.db.inc.enc", createdAt: createdAt, pageSize: 4096, blockSize: 4096,
                                     snapshotSize: 4096, compression: .zstd, keyID: "k", packs: [])
        header.checkedAt = checkedAt
        return header
    }

    @Test("a delta within the interval of its chain's check skips it; an unchanged snapshot of a checked one skips it; anything else runs it")
    func decisions() {
        let rule = SnapshotCheckRule(intervalSeconds: 3600)
        let now: Int64 = 1_800_000_000_000
        let checked = header(createdAt: now - 10 * 60_000, checkedAt: now - 10 * 60_000)
        let skippedOne = header(createdAt: now - 5 * 60_000, checkedAt: now - 50 * 60_000)
        #expect(rule.decide(unchanged: true, previous: checked, deltaParent: checked, createdAt: now) == .skipUnchanged)
        #expect(rule.decide(unchanged: false, previous: checked, deltaParent: checked, createdAt: now) == .skipRecent(checkedAt: now - 10 * 60_000))
        #expect(rule.decide(unchanged: true, previous: skippedOne, deltaParent: skippedOne, createdAt: now) == .skipRecent(checkedAt: now - 50 * 60_000))
        #expect(rule.decide(unchanged: false, previous: skippedOne, deltaParent: skippedOne, createdAt: now + 11 * 60_000) == .run, "due")
        #expect(rule.decide(unchanged: false, previous: checked, deltaParent: nil, createdAt: now) == .run, "a whole manifest")
        #expect(rule.decide(unchanged: false, previous: nil, deltaParent: nil, createdAt: now) == .run, "a base")
        #expect(rule.maySkip(previous: checked, createdAt: now) && !rule.maySkip(previous: nil, createdAt: now))
        // An earlier version's manifest (no checked_at) was checked when it was taken.
        let old = header(createdAt: now - 60_000, checkedAt: nil)
        #expect(rule.decide(unchanged: true, previous: old, deltaParent: old, createdAt: now) == .skipUnchanged)
        #expect(rule.decide(unchanged: false, previous: old, deltaParent: old, createdAt: now) == .skipRecent(checkedAt: now - 60_000))
        // 0 checks every snapshot that differs.
        #expect(SnapshotCheckRule(intervalSeconds: 0).decide(unchanged: false, previous: checked, deltaParent: checked, createdAt: now) == .run)
        #expect(SnapshotCheckRule(intervalSeconds: 0).decide(unchanged: true, previous: checked, deltaParent: checked, createdAt: now) == .skipUnchanged)
    }

    @Test("an absurd checked_at (after its own manifest, negative, far future) or a clock gone back never skips a check")
    func absurdRecords() {
        let rule = SnapshotCheckRule(intervalSeconds: 1e300)
        let now: Int64 = 1_800_000_000_000
        for forged in [header(createdAt: now - 1000, checkedAt: now + hour), header(createdAt: now - 1000, checkedAt: -5),
                       header(createdAt: now - 1000, checkedAt: Int64.max), header(createdAt: nil, checkedAt: now - 1000),
                       header(createdAt: now + hour, checkedAt: now + hour)] {
            #expect(rule.decide(unchanged: false, previous: forged, deltaParent: forged, createdAt: now) == .run, "\(forged)")
            #expect(!rule.maySkip(previous: forged, createdAt: now), "\(forged)")
        }
        #expect(rule.intervalMillis == 100 * 365 * 86_400_000, "the interval is bounded")
    }
}
