import Foundation
import Testing
@testable import BackupKit

/// Several processes at once on one database.
struct ConcurrencyTests {
    static func fingerprint(_ path: String) throws -> String {
        let row = try SQLiteConnection(path: path, mode: .readOnly).query("SELECT count(*), total(n), max(id) FROM items")[0]
        return "\(row[0].integer!),\(row[1].integer!),\(row[2].integer ?? 0)"
    }

    static func start(_ script: String, _ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        process.arguments = [Fixtures.path(script)] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, out)
    }

    @Test("restore --target while another process reads and one writes: every read sees the old or the new content")
    func restoreIntoBusyDatabase() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 20_000)
        try db.execute("CREATE TABLE log(id INTEGER PRIMARY KEY, body TEXT, n INTEGER)")
        let key = try box.backup()
        let old = try Self.fingerprint(box.file("app.db"))      // restoring brings this back
        try db.execute("UPDATE items SET n = n + 1000 WHERE id % 3 = 0")
        try TestDatabase.insert(db, from: 20_001, count: 5000)
        let current = try Self.fingerprint(box.file("app.db"))
        #expect(old != current)

        let stop = box.file("stop")
        let (reader, readerOut) = try Self.start("consistency_reader.py", [box.file("app.db"), stop, old, current])
        let (writer, writerOut) = try Self.start("writer.py", [box.file("app.db"), stop, "1", "log"])
        usleep(300_000)
        let run = try box.run("restore", "--key", key, "--target", "app.db", "--yes")
        usleep(300_000)
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        reader.waitUntilExit()
        writer.waitUntilExit()
        let report = try JSONSerialization.jsonObject(with: readerOut.fileHandleForReading.readDataToEndOfFile()) as! [String: Any]
        _ = writerOut.fileHandleForReading.readDataToEndOfFile()

        #expect((report["bad"] as! [String]).isEmpty, "a read saw a mix: \(report)")
        #expect((report["reads"] as! Int) > 10)
        // The restore either completed (the old content is back) or failed and left it as it was.
        let after = try Self.fingerprint(box.file("app.db"))
        if run.status == 0 {
            #expect(after == old)
            #expect((report["seen"] as! [String: Int])[old] != nil, "readers saw the restored content")
        } else {
            #expect(run.status == 75, "\(run.output)")
            #expect(after == current)
        }
        #expect(try SQLiteConnection(path: box.file("app.db"), mode: .readWrite).integrityProblems(quick: false) == nil)
    }

    @Test("two backups of one database at once: the second exits 75 at once, the first completes unaffected")
    func twoBackupsAtOnce() throws {
        let box = try Sandbox()
        try TestDatabase.makeIncompressible(box.file("app.db"))
        let first = box.process("backup", ["--db", "app.db"])
        let firstOut = Pipe()
        first.standardOutput = firstOut
        first.standardError = FileHandle.nullDevice
        try first.run()
        // Pause the first run while it holds the lock (its work folder exists), run the second.
        let deadline = Date().addingTimeInterval(30)
        while first.isRunning && Date() < deadline
            && (try? FileManager.default.contentsOfDirectory(atPath: box.file("backups/.work")))?.isEmpty ?? true { usleep(2_000) }
        kill(first.processIdentifier, SIGSTOP)
        let started = Date()
        let second = try box.run("backup", "--db", "app.db")
        #expect(second.status == 75)
        #expect(Date().timeIntervalSince(started) < 10)
        kill(first.processIdentifier, SIGCONT)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        let key = String(decoding: firstOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(box.storedObjects() == [key])
        #expect(try box.run("restore", "--key", key, "--verify-only").status == 0)
    }
}
