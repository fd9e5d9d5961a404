import Foundation
import Testing
@testable import BackupKit

/// The snapshot is read in place, inside one read transaction: each page from its newest
/// committed WAL frame, else from the database file. These databases are held open with
/// their state split between the two, and frames of a rolled-back transaction after the last
/// commit, as a live application leaves them.
struct SnapshotSourceTests {
    /// Builds the held-open database (`wal_states.py`); returns the holder, the file sizes and
    /// the committed row count.
    private func holdWALState(_ path: String, pageSize: Int, unpublished: Bool = false) throws -> (Process, Pipe, dbBytes: Int, walBytes: Int, rows: Int) {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: Tool.pythonPath)
        holder.arguments = [Fixtures.path("wal_states.py"), path, String(pageSize)] + (unpublished ? ["--unpublished"] : [])
        let out = Pipe(), input = Pipe()
        holder.standardOutput = out
        holder.standardInput = input
        try holder.run()
        var seen = Data()
        while !seen.contains(UInt8(ascii: "\n")) {
            let more = out.fileHandleForReading.availableData
            if more.isEmpty { break }
            seen.append(more)
        }
        let line = String(decoding: seen, as: UTF8.self)
        let fields = line.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(fields.first == "ready", "\(line)")
        guard fields.count == 4, let db = Int(fields[1]), let wal = Int(fields[2]), let rows = Int(fields[3]) else {
            throw SandboxFailure(description: "wal_states.py: \(line)")
        }
        return (holder, input, db, wal, rows)
    }

    @Test("a WAL database held open (state split between file and WAL, rolled-back frames after the last commit) backs up to exactly its committed state",
          arguments: [1024, 4096, 65536], [false, true])
    func walStateRestoresExactly(pageSize: Int, incremental: Bool) throws {
        let box = try Sandbox()
        let (holder, input, dbBytes, walBytes, rows) = try holdWALState(box.file("app.db"), pageSize: pageSize)
        #expect(walBytes > dbBytes / 4, "the WAL holds a real part of the state (db \(dbBytes), wal \(walBytes))")
        let backup = try box.run("backup", ["--db", "app.db"] + (incremental ? ["--incremental"] : []))
        #expect(backup.status == 0, "\(backup.output)")
        #expect(box.dir.allFiles(under: "backups/.work").isEmpty)
        input.fileHandleForWriting.write(Data("done\n".utf8))
        holder.waitUntilExit()

        let restore = try box.run("restore", "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.count(box.file("r.db"), table: "t") == rows, "the rolled-back rows are not in it")
        // The holder closed the database cleanly: its file is now the committed state alone.
        let same = try Tool.python("compare_dbs.py", [box.file("app.db"), box.file("r.db")], in: box.path)
        #expect(same.status == 0 && same.stdout.contains("same"), "\(same.output)")
        let pragma = try SQLiteConnection(path: box.file("r.db"), mode: .readOnly).query("PRAGMA page_size")
        #expect(pragma.first?.first == .integer(Int64(pageSize)))
    }

    @Test("a commit frame in the WAL file that the wal-index does not publish yet (a writer between its fsync and its publication) is not part of the snapshot",
          arguments: [false, true])
    func unpublishedCommitIsNotRead(incremental: Bool) throws {
        let box = try Sandbox()
        let (holder, input, _, _, rows) = try holdWALState(box.file("app.db"), pageSize: 4096, unpublished: true)
        let backup = try box.run("backup", ["--db", "app.db"] + (incremental ? ["--incremental"] : []))
        #expect(backup.status == 0, "\(backup.output)")
        input.fileHandleForWriting.write(Data("done\n".utf8))
        holder.waitUntilExit()

        let restore = try box.run("restore", "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.count(box.file("r.db"), table: "t") == rows)
        // Closing, SQLite checkpointed what it had published: the file is the acknowledged state.
        let same = try Tool.python("compare_dbs.py", [box.file("app.db"), box.file("r.db")], in: box.path)
        #expect(same.status == 0 && same.stdout.contains("same"), "\(same.output)")
    }

    @Test("under two writers and a checkpointer restarting the WAL, eight backups in a row (full and incremental) each restore a committed prefix")
    func walUnderWritersAndCheckpoints() throws {
        let box = try Sandbox()
        let database = box.file("app.db")
        try TestDatabase.make(database, rows: 40000)
        try SQLiteConnection(path: database, mode: .readWrite).execute("CREATE TABLE log(id INTEGER PRIMARY KEY, body TEXT NOT NULL, n INTEGER)")
        let stop = box.file("stop")
        func start(_ script: String, _ arguments: [String]) throws -> (Process, Pipe) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Tool.pythonPath)
            process.arguments = [Fixtures.path(script)] + arguments
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            return (process, out)
        }
        let helpers = [try start("writer.py", [database, stop, "40001"]), try start("writer.py", [database, stop, "1", "log"]),
                       try start("checkpointer.py", [database, stop])]
        defer {
            _ = FileManager.default.createFile(atPath: stop, contents: nil)
            for (process, _) in helpers { process.waitUntilExit() }
        }
        while try TestDatabase.count(database) < 40100 { usleep(20_000) }
        var keys: [String] = []
        for run in 0..<8 {
            let backup = try box.run("backup", ["--db", "app.db", "--force", "--compression-level", "1"] + (run % 2 == 1 ? ["--incremental"] : []))
            #expect(backup.status == 0, "run \(run): \(backup.output)")
            keys.append(backup.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        for (process, _) in helpers { process.waitUntilExit() }
        let checkpoints = Int(String(decoding: helpers[2].1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(checkpoints > 0, "the WAL was checkpointed in full while the backups ran")

        var previous = 0
        for (index, key) in keys.enumerated() where !key.isEmpty {
            let out = box.file("r\(index).db")
            let restore = try box.run("restore", "--key", key, "--out", out)
            #expect(restore.status == 0, "\(key): \(restore.output)")
            for (table, first) in [("items", 1), ("log", 1)] {
                let ids = try SQLiteConnection(path: out, mode: .readOnly).query("SELECT id FROM \(table) ORDER BY id").map { Int($0[0].integer!) }
                #expect(ids.isEmpty || ids == Array(first...(first + ids.count - 1)), "\(table) is a committed prefix in \(key)")
                #expect(table != "log" || ids.count % 2 == 0, "no torn transaction in \(table)")
                if table == "items" {
                    #expect((ids.count - 40000) % 2 == 0, "no torn transaction in items")
                    #expect(ids.count >= previous, "each backup is at least as new as the one before")
                    previous = ids.count
                }
            }
        }
    }

    @Test("the WAL restarted and overwritten while a snapshot of a fully checkpointed database is read: the pages come from the file, the run succeeds and restores the snapshot",
          arguments: [false, true])
    func walRestartedUnderTheSnapshot(incremental: Bool) throws {
        let box = try Sandbox()
        let database = box.file("app.db")
        let db = try TestDatabase.make(database, rows: 40000)
        try db.execute("PRAGMA wal_autocheckpoint=0")
        // Frames for pages all over the file, then every one of them checkpointed (the WAL keeps them).
        try db.execute("UPDATE items SET body = 'before ' || id WHERE id % 7 = 0")
        let checkpoint = try db.query("PRAGMA wal_checkpoint(PASSIVE)")
        #expect(checkpoint.first?[1] == checkpoint.first?[2], "every frame backfilled: \(checkpoint)")
        #expect((Files.size(database + "-wal") ?? 0) > 1 << 20, "the WAL still holds its frames")
        let snapshot = try TestDatabase.rows(database)

        let paused = try PausedRun(box, "backup", ["--db", "app.db", "--verbose"] + (incremental ? ["--incremental"] : []), at: .midSnapshot)
        // The next write restarts the WAL (every frame was backfilled) and overwrites its first frames.
        try db.execute("UPDATE items SET body = 'after ' || id WHERE id % 3 = 0")
        let finished = try paused.resume()
        #expect(finished.status == 0, "\(finished.output)")
        let restore = try box.run("restore", "--key", finished.stdoutLines.last ?? "", "--out", "r.db")
        #expect(restore.status == 0, "\(restore.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == snapshot, "the state the snapshot began with, not the later write")
    }
}
