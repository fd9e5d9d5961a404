import Foundation
import Testing
@testable import BackupKit

/// clean-backup's retention through the executable.
struct CleanBackupTests {
    /// Makes `count` backups, then backdates them one day apart (newest: today).
    func backups(_ box: Sandbox, count: Int, daysApart: Double = 1) throws -> [String] {
        try TestDatabase.make(box.file("app.db"), rows: 10)
        var keys: [String] = []
        for _ in 0..<count { keys.append(try box.backup()) }
        for (age, key) in keys.reversed().enumerated() { try box.backdate(key, daysAgo: Double(age) * daysApart) }
        return keys.reversed() // newest first
    }

    @Test("--keep-days deletes older backups from storage and soft-deletes their rows")
    func days() throws {
        let box = try Sandbox()
        let keys = try backups(box, count: 6)
        let run = try box.run("clean-backup", "--keep-days", "3", "--json")
        #expect(run.status == 0, "\(run.output)")
        // Ages 0, 1, 2 days are younger than 3 days (age 3 is at the cutoff minus run time).
        #expect(try box.liveCatalogKeys().sorted() == Array(keys.prefix(3)).sorted())
        #expect(Set(box.storedObjects()) == Set(keys.prefix(3)))
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect(Set(json["deleted"] as! [String]) == Set(keys.suffix(3)))
        let row = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false).record(forObjectKey: keys.last!)
        #expect(row?.deletedAt != nil)
        // Sidecars went with their objects.
        #expect(box.dir.allFiles(under: "backups").filter { $0.hasSuffix(".meta.json") }.count == 3)
    }

    @Test("--keep-last keeps the newest N; --dry-run deletes nothing")
    func count() throws {
        let box = try Sandbox()
        let keys = try backups(box, count: 5)
        let dry = try box.run("clean-backup", "--keep-last", "2", "--dry-run")
        #expect(dry.status == 0)
        #expect(box.storedObjects().count == 5)
        #expect(dry.stderr.contains("would delete"))
        let run = try box.run("clean-backup", "--keep-last", "2")
        #expect(run.status == 0, "\(run.output)")
        #expect(Set(box.storedObjects()) == Set(keys.prefix(2)))
        #expect(run.stderr.contains("deleted 3, kept 2, failed 0"))
    }

    @Test("GFS keeps one per day, then per week and month, through the environment")
    func grandfatherFatherSon() throws {
        let box = try Sandbox()
        let keys = try backups(box, count: 12, daysApart: 0.5)  // two per day for 6 days
        let run = try box.run("clean-backup", "--json", env: ["BACKUP_RETENTION_DAILY": "3"])
        #expect(run.status == 0, "\(run.output)")
        let kept = Set(box.storedObjects())
        #expect(kept.count == 3)
        #expect(kept.contains(keys[0]))
    }

    @Test("with no rule, 30 days are kept; the newest backup is never deleted")
    func defaultPolicyAndNewest() throws {
        let box = try Sandbox()
        let keys = try backups(box, count: 3, daysApart: 40)  // ages 0, 40, 80 days
        let run = try box.run("clean-backup")
        #expect(run.status == 0)
        #expect(box.storedObjects() == [keys[0]])
        // All old: the newest survives even a 1-day rule.
        try box.backdate(keys[0], daysAgo: 100)
        let again = try box.run("clean-backup", "--keep-days", "1")
        #expect(again.status == 0)
        #expect(box.storedObjects() == [keys[0]])
    }

    @Test("a row whose object is already gone is still marked deleted")
    func objectAlreadyGone() throws {
        let box = try Sandbox()
        let keys = try backups(box, count: 2)
        try FileManager.default.removeItem(atPath: box.file("backups/" + keys[1]))
        let run = try box.run("clean-backup", "--keep-last", "1")
        #expect(run.status == 0, "\(run.output)")
        #expect(try box.liveCatalogKeys() == [keys[0]])
    }
}
