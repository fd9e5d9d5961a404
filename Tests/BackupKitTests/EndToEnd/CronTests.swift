import Foundation
import Testing
@testable import BackupKit

/// The shipped crontab.example, line by line as cron would run it (bash -c, the file's
/// variables), against two databases in a sandbox instead of /srv/app.
struct CronTests {
    /// The file's job lines (minute hour … command), each with its command part.
    static func jobs() throws -> [(schedule: String, command: String)] {
        let text = try String(contentsOfFile: InstallTests.packageDirectory + "/crontab.example", encoding: .utf8)
        return text.split(separator: "\n").map(String.init).filter { line in
            guard let first = line.first else { return false }
            return first.isNumber || first == "*"
        }.map { line in
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            return (fields.prefix(5).joined(separator: " "), String(fields[5]))
        }
    }

    /// Runs a job's command as cron would, in `box` instead of /srv/app, with the built tools.
    func run(_ command: String, in box: Sandbox, env: [String: String] = [:]) throws -> ToolRun {
        let local = command
            .replacingOccurrences(of: "cd /srv/app", with: "cd \(box.path)")
            .replacingOccurrences(of: "/srv/sqlite-s3-backup/bin/", with: Tool.binDirectory + "/")
            .replacingOccurrences(of: "/var/log/", with: box.path + "/log-")
        var environment = box.environment.merging(env) { $1 }
        environment["PATH"] = "/usr/bin:/bin"
        return try Tool.runProcess("/bin/bash", ["-c", local], in: box.path, environment: environment)
    }

    func job(_ fragment: String) throws -> String {
        try #require(try Self.jobs().first { $0.command.contains(fragment) }?.command, "no crontab.example line runs \(fragment)")
    }

    @Test("every line sends failures to cron mail (one line naming the exit code) and logs the rest")
    func failuresReachCronMail() throws {
        let jobs = try Self.jobs()
        #expect(jobs.count == 5)
        for (_, command) in jobs { #expect(command.contains("|| echo"), "\(command)") }
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 5)
        box.environment["BACKUP_DB_PATH"] = "app.db"
        box.environment["BACKUP_ENCRYPTION_KEY_FILE"] = box.file("no-such.key")
        for fragment in ["bin/backup --quiet >>", "BACKUP_MIN_INTERVAL", "restore --verify-only", "clean-backup"] {
            let run = try run(try job(fragment), in: box)
            #expect(run.stderr.contains("failed with exit 78") && !run.stdout.contains("ERROR"), "\(fragment): \(run.output)")
        }
    }

    @Test("the hourly safety net does not back up again an hour before the nightly run, but does when the night was missed")
    func safetyNetOncePerNight() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("one.db"), rows: 20)
        try TestDatabase.make(box.file("two.db"), rows: 30, seed: 2)
        box.environment["BACKUP_DB_PATH"] = "one.db,two.db"
        let nightly = try run(try job("bin/backup --quiet >>"), in: box)
        #expect(nightly.status == 0 && box.storedObjects().count == 2, "\(nightly.output)")
        // 03:05: the night before's 03:15 backups are 23 h 50 min old.
        for key in box.storedObjects() { try box.backdate(key, daysAgo: (23 * 60 + 50) / 1440.0) }
        let hourly = try job("BACKUP_MIN_INTERVAL")
        let early = try run(hourly, in: box)
        #expect(early.status == 0 && box.storedObjects().count == 2, "no second backup that night: \(early.output)")
        // The nightly run was missed: 26 hours later the safety net backs up both.
        for key in box.storedObjects() { try box.backdate(key, daysAgo: 26 / 24.0) }
        let late = try run(hourly, in: box)
        #expect(late.status == 0 && box.storedObjects().count == 4, "\(late.output)")
        // The weekly verify covers both databases.
        let verify = try run(try job("restore --verify-only"), in: box)
        #expect(verify.status == 0, "\(verify.output)")
        let log = try String(contentsOfFile: box.file("log-sqlite-backup-verify.log"), encoding: .utf8)
        #expect(log.contains("2 of 2 databases verified"), "\(log)")
    }
}
