import Foundation
import Testing
@testable import BackupKit

/// clean-backup's retention through the executable, and the one-backup-at-a-time lock.
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
        #expect(Set(box.storedObjects().map { "backups/" + $0 }) == Set(keys.prefix(3)))
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect(Set(json["deleted"] as! [String]) == Set(keys.suffix(3)))
        let row = try BackupCatalog(path: box.file("backups/catalog.sqlite"), create: false).record(forKey: keys.last!)
        #expect(row?.deletedAt != nil)
        // Sidecars went with their objects.
        #expect(box.dir.allFiles(under: "backups/backups").filter { $0.hasSuffix(".meta.json") }.count == 3)
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
        #expect(Set(box.storedObjects().map { "backups/" + $0 }) == Set(keys.prefix(2)))
        #expect(run.stderr.contains("deleted 3, kept 2, failed 0"))
    }

    @Test("GFS keeps one per day, then per week and month, through the environment")
    func grandfatherFatherSon() throws {
        let box = try Sandbox()
        let keys = try backups(box, count: 12, daysApart: 0.5)  // two per day for 6 days
        let run = try box.run("clean-backup", "--json", env: ["BACKUP_RETENTION_DAILY": "3"])
        #expect(run.status == 0, "\(run.output)")
        let kept = Set(box.storedObjects().map { "backups/" + $0 })
        #expect(kept.count == 3)
        #expect(kept.contains(keys[0]))
    }

    @Test("with no rule, 30 days are kept; the newest backup is never deleted")
    func defaultPolicyAndNewest() throws {
        let box = try Sandbox()
        let keys = try backups(box, count: 3, daysApart: 40)  // ages 0, 40, 80 days
        let run = try box.run("clean-backup")
        #expect(run.status == 0)
        #expect(box.storedObjects().map { "backups/" + $0 } == [keys[0]])
        // All old: the newest survives even a 1-day rule.
        try box.backdate(keys[0], daysAgo: 100)
        let again = try box.run("clean-backup", "--keep-days", "1")
        #expect(again.status == 0)
        #expect(box.storedObjects().map { "backups/" + $0 } == [keys[0]])
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

struct LockTests {
    @Test("a second backup while one runs exits 75 at once; a killed holder's lock does not block the next")
    func oneBackupAtATime() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 10)
        _ = try box.backup()
        let locks = box.dir.allFiles(under: "backups/.locks")
        #expect(locks.count == 1)
        let lockFile = box.file("backups/.locks/" + locks[0])

        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        holder.arguments = [Fixtures.path("hold_lock.py"), lockFile]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        _ = out.fileHandleForReading.availableData // "locked"

        let started = Date()
        let second = try box.run("backup", "--db", "app.db")
        #expect(second.status == 75)
        #expect(second.stderr.contains("another backup"))
        #expect(Date().timeIntervalSince(started) < 10)

        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let third = try box.run("backup", "--db", "app.db")
        #expect(third.status == 0, "\(third.output)")
    }
}

/// Files the suite creates are private.
struct PermissionTests {
    @Test("objects, sidecars, the catalog and restored files are 0600 in 0700 folders")
    func privateModes() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        _ = try box.backup()
        let restored = try box.run("restore")
        #expect(restored.status == 0)
        let fm = FileManager.default
        for file in box.dir.allFiles(under: "backups") where !file.hasPrefix(".locks/") || true {
            let mode = try fm.attributesOfItem(atPath: box.file("backups/" + file))[.posixPermissions] as! Int
            #expect(mode == 0o600, "\(file) is \(String(mode, radix: 8))")
        }
        for folder in ["backups", "backups/backups", "backups/.locks", "backups/.work"] {
            let mode = try fm.attributesOfItem(atPath: box.file(folder))[.posixPermissions] as! Int
            #expect(mode == 0o700, "\(folder) is \(String(mode, radix: 8))")
        }
    }
}
