import Foundation
import Testing
@testable import BackupKit

/// One backup of a database at a time.
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
