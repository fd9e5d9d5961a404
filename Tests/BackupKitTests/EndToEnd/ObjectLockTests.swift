import Foundation
import Testing
@testable import BackupKit

/// Immutable backups: S3 Object Lock on moto, which enforces COMPLIANCE locks (SeaweedFS
/// accepts the headers but enforces nothing). Each test has a lock-enabled bucket of its own.
struct ObjectLockTests {
    func lockedSandbox(mode: String, days: Int = 2, _ label: String = #function) throws -> Sandbox {
        let box = try Sandbox(s3: S3TestServer.checking, label)
        let bucket = "lock-\(UUID().uuidString.prefix(8).lowercased())"
        let made = try box.peer("create-lock-bucket", bucket)
        guard made.status == 0 else { throw SandboxFailure(description: "cannot create \(bucket): \(made.output)") }
        box.environment["S3_BUCKET"] = bucket
        box.environment["BACKUP_S3_OBJECT_LOCK"] = mode
        box.environment["BACKUP_S3_OBJECT_LOCK_DAYS"] = String(days)
        return box
    }

    func lock(_ box: Sandbox, _ key: String) throws -> (mode: String?, until: Double?) {
        let run = try box.peer("lock", key)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.output)")
        return (json["mode"] as? String, json["retain_until"] as? Double)
    }

    func versions(_ box: Sandbox) throws -> [[Any]] {
        let run = try box.peer("versions", box.prefix)
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[Any]], "\(run.output)")
    }

    @Test("compliance for 2 days: every object (full, manifest, pack) is locked 2 days ahead; a reused pack is extended to its manifest's date; --status shows the mode")
    func everyObjectLocked() throws {
        let box = try lockedSandbox(mode: "compliance")
        let db = try TestDatabase.make(box.file("app.db"), rows: 300)
        let started = Date().timeIntervalSince1970
        let full = try box.backup()
        let base = try box.backup("app.db", "--incremental")
        let firstPack = try #require(try box.peerKeys().first(where: ObjectKey.isPack))
        let firstUntil = try #require(try lock(box, firstPack).until)
        for key in [full, base, firstPack] {
            let (mode, until) = try lock(box, key)
            #expect(mode == "COMPLIANCE", "\(key)")
            #expect(until.map { abs($0 - (started + 2 * 86_400)) < 120 } == true, "\(key): \(String(describing: until))")
        }
        #expect(try box.peer("delete-version", full).stdout.trimmingCharacters(in: .whitespacesAndNewlines) != "ok",
                "moto refuses to delete a locked version")
        sleep(2)
        try TestDatabase.insert(db, from: 9000, count: 2)
        let next = try box.backup("app.db", "--incremental")
        let manifestUntil = try #require(try lock(box, next).until)
        let extended = try #require(try lock(box, firstPack).until)
        #expect(extended > firstUntil && abs(extended - manifestUntil) < 1.5, "pack \(extended), manifest \(manifestUntil), before \(firstUntil)")
        let status = try box.run("backup", "--status", "--db", "app.db")
        #expect(status.stdout.contains("object lock    compliance, 2 day(s)"), "\(status.stdout)")
    }

    @Test("clean never deletes nor hides a locked backup: kept until its date, no delete marker; once the date passed it deletes the version itself")
    func cleanRespectsRetention() throws {
        let box = try lockedSandbox(mode: "governance", days: 1)
        try TestDatabase.make(box.file("app.db"), rows: 50)
        let old = try box.backup()
        let newest = try box.backup()
        let clean = try box.run("clean-backup", "--keep-last", "1", "--json")
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.stdout.contains("object lock until"), "\(clean.stdout)")
        #expect(Set(try box.peerKeys()) == [old, newest])
        let stored = try versions(box)
        #expect(stored.count == 2 && stored.allSatisfy { ($0[2] as? Bool) == false }, "no delete marker: \(stored)")

        #expect(try box.peer("shorten", old, "2").status == 0)
        sleep(3)
        let later = try box.run("clean-backup", "--keep-last", "1", "--json")
        #expect(later.status == 0 && later.stdout.contains("\"deleted\":[\"\(old)\"]"), "\(later.output)")
        let left = try versions(box)
        #expect(left.count == 1 && left.first?[0] as? String == newest && left.first?[2] as? Bool == false, "the version itself went: \(left)")
    }

    @Test("bad lock settings are one-line 78s naming the setting")
    func badSettings() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 5)
        for (env, needle) in [(["BACKUP_S3_OBJECT_LOCK": "forever"], "is not a lock mode"),
                              (["BACKUP_S3_OBJECT_LOCK": "compliance"], "needs BACKUP_S3_OBJECT_LOCK_DAYS"),
                              (["BACKUP_S3_OBJECT_LOCK": "compliance", "BACKUP_S3_OBJECT_LOCK_DAYS": "1e9"], "BACKUP_S3_OBJECT_LOCK_DAYS"),
                              (["BACKUP_S3_OBJECT_LOCK": "governance", "BACKUP_S3_OBJECT_LOCK_DAYS": "3"], "needs S3 storage")] {
            let run = try box.run("backup", ["--db", "app.db"], env: env)
            #expect(run.status == 78 && run.stderr.contains(needle) && run.stderr.split(separator: "\n").count == 1, "\(env): \(run.output)")
        }
    }
}
