import Foundation
import Testing
@testable import BackupKit

/// Backups to S3 whose work folder (BACKUP_LOCAL_DIR: catalog, locks, spool) has less free
/// space than the database: no copy of the database is made, only the upload's spool, and a
/// spool that does not fit fails loudly having uploaded nothing.
@Suite(.serialized)
struct SmallWorkFolderTests {
    let incremental = IncrementalTests()

    @Test("a WAL and a rollback-mode database of 25 MiB back up to S3 (full and incremental) through a 12 MiB work folder, and restore",
          arguments: [true, false])
    func fitsTheSpool(wal: Bool) throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        let db = try TestDatabase.make(box.file("app.db"), rows: 300_000, wal: wal)
        let size = try #require(Files.size(box.file("app.db")))
        let small = try SmallFileSystem(box.file("state"), megabytes: 12)
        #expect(small.freeBytes < size / 2, "\(small.freeBytes) free against a \(size)-byte database")
        let env = ["BACKUP_LOCAL_DIR": small.path, "BACKUP_COMPRESSION": "zstd"]

        let full = try box.run("backup", ["--db", "app.db", "--verbose"], env: env)
        #expect(full.status == 0, "\(full.output)")
        #expect(full.stderr.contains("reading it in place") == !wal, "a rollback-mode database is not copied: \(full.stderr)")
        let fullKey = try #require(full.stdoutLines.last)
        let fullRows = try TestDatabase.rows(box.file("app.db"))
        let base = try incremental.incremental(box, env: env)
        try incremental.change(db, appendFrom: 300_001, count: 100, updateEvery: 50_000)
        let next = try incremental.incremental(box, env: env)
        #expect(next["manifest_parent"] as? String == base["key"] as? String, "\(next)")

        let restoredFull = try box.run("restore", ["--key", fullKey, "--out", "full.db"], env: env)
        #expect(restoredFull.status == 0, "\(restoredFull.output)")
        #expect(try TestDatabase.rows(box.file("full.db")) == fullRows)
        let restored = try box.run("restore", ["--out", "newest.db"], env: env)
        #expect(restored.status == 0, "\(restored.output)")
        #expect(try TestDatabase.rows(box.file("newest.db")) == TestDatabase.rows(box.file("app.db")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: small.path + "/.work").isEmpty, "nothing left in the work folder")
    }

    @Test("an incremental base streams its pack: a 64 MiB incompressible database goes to S3 through a 28 MiB work folder (5 MiB parts, two at a time, each freed from the spool once sent), and restores")
    func packStreamsItsParts() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 16_000)
        let size = try #require(Files.size(box.file("app.db")))
        // At most four parts are spooled at once: two being sent, one queued, one being written.
        let small = try SmallFileSystem(box.file("state"), megabytes: 28)
        #expect(small.freeBytes < size / 2, "\(small.freeBytes) free against a \(size)-byte database")
        let env = ["BACKUP_LOCAL_DIR": small.path, "BACKUP_S3_PART_SIZE_MB": "5", "BACKUP_S3_MULTIPART_THRESHOLD_MB": "5",
                   "BACKUP_S3_PARALLEL_PARTS": "2"]
        let base = try incremental.incremental(box, env: env)
        #expect((base["uploaded_bytes"] as? Int ?? 0) > Int(size) / 4 * 3, "the blocks, nearly incompressible, were stored: \(base)")
        #expect(try box.peerUploads().isEmpty, "the multipart upload was completed")
        let restored = try box.run("restore", ["--out", "r.db"], env: env)
        #expect(restored.status == 0, "\(restored.output)")
        #expect(try TestDatabase.blobs(box.file("r.db")) == TestDatabase.blobs(box.file("app.db")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: small.path + "/.work").isEmpty, "nothing left in the work folder")
    }

    @Test("a spool that does not fit: exit 73 naming the folder and BACKUP_LOCAL_DIR, nothing uploaded or listed, the work folder emptied")
    func spoolTooBig() throws {
        let box = try Sandbox(s3: S3TestServer.seaweed)
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 4000)
        let small = try SmallFileSystem(box.file("state"), megabytes: 6)
        for arguments in [["--db", "app.db"], ["--db", "app.db", "--incremental"]] {
            let run = try box.run("backup", arguments, env: ["BACKUP_LOCAL_DIR": small.path])
            #expect(run.status == 73, "\(run.output)")
            #expect(run.stderr.contains("\(small.path)/.work ran out of space") && run.stderr.contains("BACKUP_LOCAL_DIR"), "\(run.stderr)")
            #expect(try box.peerKeys().isEmpty, "nothing uploaded")
            #expect(try FileManager.default.contentsOfDirectory(atPath: small.path + "/.work").isEmpty)
        }
        let list = try box.run("restore", ["--list"], env: ["BACKUP_LOCAL_DIR": small.path])
        #expect(list.stdout.isEmpty, "\(list.output)")
    }
}
