import Foundation
import Testing
@testable import BackupKit

/// Signals and damaged catalogs.
struct InterruptionTests {
    @Test("SIGTERM during a backup exits 143, says so in the log and the metrics, and leaves no temp file, object or row behind")
    func sigtermCleansUp() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 400_000)
        box.environment["BACKUP_METRICS_FILE"] = box.file("m.prom")
        let process = box.process("backup", ["--db", "app.db"])
        let stderr = Pipe()
        process.standardOutput = Pipe()
        process.standardError = stderr
        try process.run()
        // Wait until the run's private work folder exists (the snapshot is being taken or encoded).
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline
            && (try? FileManager.default.contentsOfDirectory(atPath: box.file("backups/.work")))?.isEmpty ?? true {
            usleep(2_000)
        }
        #expect(process.isRunning, "the backup finished before it could be interrupted")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 143)
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("ERROR backup: stopped by SIGTERM"), "\(log)")
        #expect(log.components(separatedBy: " ERROR ").count == 2, "the signal is the one error reported: \(log)")
        let metrics = try String(contentsOfFile: box.file("m.prom"), encoding: .utf8)
        #expect(metrics.contains("database_backup_failure_total{database=\"app.db\"} 1"))
        #expect(box.dir.allFiles(under: "backups").filter { !$0.hasPrefix(".locks/") && $0 != "catalog.sqlite" } == [])
        #expect(try box.liveCatalogKeys().isEmpty)
        // The next run works.
        _ = try box.backup()
        #expect(box.storedObjects().count == 1)
    }

    @Test("an unreadable catalog does not stop restore by key or --list; backup names it with 78")
    func unreadableCatalog() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let key = try box.backup()
        try String(repeating: "garbage", count: 1000).write(toFile: box.file("backups/catalog.sqlite"), atomically: true, encoding: .utf8)
        let restore = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(restore.stderr.contains("catalog"))
        #expect(try TestDatabase.count(box.file("r.db")) == 100)
        let list = try box.run("restore", "--list")
        #expect(list.status == 0)
        #expect(list.stdout.contains(key))
        let backup = try box.run("backup", "--db", "app.db")
        #expect(backup.status == 78)
        #expect(backup.stderr.contains("BACKUP_CATALOG_PATH"))
    }

    @Test("a restore temp file left by a killed restore is removed by the next restore to that output")
    func staleRestoreTempRemoved() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let key = try box.backup()
        let stale = box.file(".r.db.tmp-999999-abcd")
        _ = FileManager.default.createFile(atPath: stale, contents: Data([1, 2, 3]))
        let run = try box.run("restore", "--key", key, "--out", "r.db")
        #expect(run.status == 0)
        #expect(!FileManager.default.fileExists(atPath: stale))
    }
}
