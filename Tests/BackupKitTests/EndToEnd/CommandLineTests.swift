import ArgumentParser
import Foundation
import Testing
@testable import BackupKit

/// How a run ends: usage errors, `--help`, the `--json` error shape, commands run in-process,
/// and failpoints that exist only in test builds.
struct CommandLineTests {
    @Test("a usage error under --json prints the JSON error shape on stdout and exits 64",
          arguments: [
            ["restore", "--list", "--verify-only", "--json"],
            ["clean-backup", "--keep-last", "0", "--json"],
            ["backup", "--compression-level", "12", "--json"],
            ["backup", "--no-such-flag", "--json"],
          ])
    func usageErrorAsJSON(_ command: [String]) throws {
        let box = try Sandbox()
        let run = try box.run(command[0], Array(command.dropFirst()))
        #expect(run.status == 64, "\(run.output)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                                    "stdout is one JSON object: \(run.stdout)")
        #expect(document["ok"] as? Bool == false)
        #expect(document["exit_code"] as? Int == 64)
        let flag = command.first { $0.hasPrefix("--") && $0 != "--json" && $0 != "--list" }!
        #expect((document["error"] as? String)?.contains(flag) == true, "the error names \(flag): \(document)")
        #expect(run.stderr.contains(flag), "stderr says it too: \(run.stderr)")
    }

    @Test("a usage error: on a terminal the parser's message and usage; off one (cron) one timestamped line; a bare path suggests --db")
    func usageErrorForAPerson() throws {
        let box = try Sandbox()
        let run = try box.run("clean-backup", "--keep-days", "-3")
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(" ERROR clean-backup: ") && lines[0].contains("--keep-days"), "\(run.stderr)")
        #expect(lines[0].first?.isNumber == true, "timestamped: \(run.stderr)")
        let terminal = try Tool.runProcess(Tool.pythonPath, [Fixtures.path("pty_run.py"), "--", Tool.path("clean-backup"), "--keep-days", "-3"],
                                           in: box.path, environment: box.environment)
        #expect(terminal.status == 64 && terminal.stdout.contains("Usage:") && terminal.stdout.contains("--keep-days"), "\(terminal.output)")
        let bare = try box.run("backup", "app.db")
        #expect(bare.status == 64 && bare.stderr.contains("write --db app.db"), "\(bare.output)")
    }

    @Test("--help fits 80 columns, with short examples and one exit code per line")
    func helpFitsEightyColumns() throws {
        let box = try Sandbox()
        for tool in ["backup", "restore", "clean-backup"] {
            let run = try box.run(tool, "--help")
            #expect(run.status == 0)
            #expect(run.stdout.contains("Examples:"))
            let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            for line in lines { #expect(line.count <= 80, "\(tool) --help: \(line.count) columns: \(line)") }
            let codes = lines.drop { $0 != "Exit codes:" }.dropFirst().prefix { !$0.isEmpty }
            let numbers = codes.compactMap { line in line.split(separator: " ").first.flatMap { Int($0) } }
            #expect(numbers.contains(0) && numbers.contains(64) && numbers.contains(69), "\(tool): \(codes)")
            #expect(Set(numbers).count == numbers.count, "each code once")
            for number in numbers {
                #expect(ExitStatus(rawValue: Int32(number)) != nil, "\(tool) documents \(number), an exit code of the suite")
            }
        }
    }

    @Test("commands run in-process return their outcome; the console goes to the caller")
    func inProcess() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 200)
        try "".write(toFile: box.file("empty.env"), atomically: true, encoding: .utf8)
        let common = ["--db", box.file("app.db"), "--local-dir", box.file("backups"), "--env-file", box.file("empty.env"), "--json"]
        let environment = ["BACKUP_ENCRYPTION_KEY_FILE": box.file("backup.key")]

        let backup = InProcessRun(BackupCommand.self, common, environment)
        #expect(backup.outcome.status == .ok, "\(backup.stderr)")
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as? [String: Any])
        let key = try #require(stored["key"] as? String)
        #expect(backup.outcome.json == backup.stdout.trimmingCharacters(in: .newlines))

        let listing = InProcessRun(RestoreCommand.self, common + ["--list"], environment)
        #expect(listing.outcome.status == .ok)
        #expect(listing.stdout.contains(key))

        let missing = InProcessRun(RestoreCommand.self, common + ["--key", "backups/nope.db.gz.enc"], environment)
        #expect(missing.outcome.status == .noInput)
        #expect(missing.outcome.error?.contains("backups/nope.db.gz.enc") == true)
        #expect(missing.stdout.contains("\"exit_code\":66"), "\(missing.stdout)")

        let usage = InProcessRun(BackupCommand.self, ["--quiet", "--verbose", "--json"], [:])
        #expect(usage.outcome.status == .usage)
        #expect(usage.stdout.contains("\"exit_code\":64"))
    }

    @Test("a release build ignores BACKUP_FAILPOINT: the backup runs to the end")
    func releaseBuildHasNoFailpoints() throws {
        // `make test` builds the release executables first (bin/ and cron run those).
        let release = URL(fileURLWithPath: Tool.binDirectory).deletingLastPathComponent().appendingPathComponent("release/backup").path
        #expect(FileManager.default.isExecutableFile(atPath: release), "no release build at \(release): run 'make release'")
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 200)
        for failpoint in [Failpoint.afterSnapshot, .beforeComplete, .afterUpload] {
            let run = try Tool.runProcess(release, ["--db", "app.db"], in: box.path,
                                          environment: box.environment.merging(["BACKUP_FAILPOINT": failpoint.rawValue]) { $1 },
                                          timeout: 60)
            #expect(run.status == 0, "\(failpoint.rawValue): \(run.output)")
            #expect(!run.stderr.contains("failpoint"))
        }
        #expect(box.storedObjects().count == 3)
    }
}

/// One command run in this process, its console captured.
struct InProcessRun {
    let outcome: RunOutcome
    let stdout: String
    let stderr: String

    init(_ command: any ParsableCommand.Type, _ arguments: [String], _ environment: [String: String]) {
        let out = LockedData(), err = LockedData()
        outcome = CommandLineTool.run(command, arguments: arguments, environment: environment) { stream, text in
            (stream == .stdout ? out : err).append(Data(text.utf8))
        }
        stdout = out.string
        stderr = err.string
    }
}
