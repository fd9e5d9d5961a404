import Foundation
import Testing
@testable import BackupKit

/// The local folder storage keeps the contract every storage follows.
struct LocalStorageTests {
    @Test("an object is invisible until complete, then listed with its metadata")
    func atomicVisibility() throws {
        let dir = TemporaryDirectory()
        let storage = try LocalFolderStorage(root: dir.path)
        let upload = try storage.beginUpload(objectKey: "backups/x.db.gz.enc", spoolDirectory: dir.path)
        try [UInt8](repeating: 7, count: 1000).withUnsafeBytes { try upload.write($0) }
        #expect(try storage.list(prefix: "backups/").isEmpty)
        try upload.complete(metadata: ObjectMetadata(["iv": "abc", "checksum": "00"]))
        let listed = try storage.list(prefix: "backups/")
        #expect(listed.map(\.objectKey) == ["backups/x.db.gz.enc"])
        #expect(listed.first?.size == 1000)
        #expect(try storage.head(objectKey: "backups/x.db.gz.enc").metadata["iv"] == "abc")
        let mode = try FileManager.default.attributesOfItem(atPath: dir.file("backups/x.db.gz.enc"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("an aborted upload leaves no file behind")
    func abortLeavesNothing() throws {
        let dir = TemporaryDirectory()
        let storage = try LocalFolderStorage(root: dir.path)
        let upload = try storage.beginUpload(objectKey: "backups/y.db.gz.enc", spoolDirectory: dir.path)
        try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try upload.write($0) }
        upload.abort()
        #expect(dir.allFiles().isEmpty)
    }

    @Test("delete removes object and sidecar; deleting a missing object succeeds")
    func deleteContract() throws {
        let dir = TemporaryDirectory()
        let storage = try LocalFolderStorage(root: dir.path)
        let upload = try storage.beginUpload(objectKey: "p/z.db.gz.enc", spoolDirectory: dir.path)
        try upload.complete(metadata: ObjectMetadata(["a": "b"]))
        try storage.delete(objectKey: "p/z.db.gz.enc")
        #expect(dir.allFiles().isEmpty)
        try storage.delete(objectKey: "p/z.db.gz.enc")
        #expect(throws: BackupError.backupNotFound(objectKey: "p/z.db.gz.enc")) { try storage.head(objectKey: "p/z.db.gz.enc") }
    }

    @Test("keys that would leave the folder are refused", arguments: ["../x", "/etc/passwd", "a/../../b", "a//b", "", "x.meta.json"])
    func unsafeKeys(_ key: String) throws {
        let storage = try LocalFolderStorage(root: TemporaryDirectory().path)
        #expect(throws: BackupError.unsafeObjectKey(key)) { try storage.validate(objectKey: key) }
    }

    @Test("temp files of dead processes are removed; a live process's are not")
    func leftoversOfDeadRunsAreRemoved() throws {
        let dir = TemporaryDirectory()
        let storage = try LocalFolderStorage(root: dir.path)
        try FileManager.default.createDirectory(atPath: dir.file("backups"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir.file("backups/.a.db.gz.enc.tmp-999999-abcd"), contents: Data([1]))
        _ = FileManager.default.createFile(atPath: dir.file("backups/.b.db.gz.enc.tmp-\(getpid())-abcd"), contents: Data([1]))
        #expect(try storage.removeAbandonedUploads(prefix: "backups/") == 1)
        #expect(dir.allFiles() == ["backups/.b.db.gz.enc.tmp-\(getpid())-abcd"])
    }
}

struct ObjectKeyTests {
    @Test("new keys have the documented shape and name their database")
    func newKeys() {
        let date = Date(timeIntervalSince1970: 1_795_414_500) // 2026-11-23 06:15:00 UTC
        let key = ObjectKey.make(prefix: "backups/", databaseName: "app.db", date: date)
        #expect(key.hasPrefix("backups/app.db-20261123T061500Z-"))
        #expect(key.hasSuffix(".db.gz.enc"))
        #expect(!key.contains(":"))
        #expect(ObjectKey.databaseName(of: key) == "app.db")
    }

    @Test("Laju's keys and names with digits and dashes parse too", arguments: [
        ("backups/app.db-2025-01-10T23:33-0b6f2c2e-3c1d-4b8e-9a57-5d2f0e4b9c11.db.gz.enc", "app.db"),
        ("backups/my-2024-app.db-20261123T061500Z-0b6f2c2e-3c1d-4b8e-9a57-5d2f0e4b9c11.db.gz.enc", "my-2024-app.db"),
        ("x/other.sqlite-20261123T061500Z-0b6f2c2e-3c1d-4b8e-9a57-5d2f0e4b9c11.db.gz.enc", "other.sqlite"),
    ])
    func parseNames(_ key: String, _ name: String) {
        #expect(ObjectKey.databaseName(of: key) == name)
    }

    @Test("other files are not backups")
    func notBackups() {
        #expect(ObjectKey.databaseName(of: "backups/readme.txt") == nil)
        #expect(!ObjectKey.isBackup("backups/readme.txt"))
    }
}

/// The free-space check before a backup's snapshot and spool.
struct FreeSpaceTests {
    @Test("too little room in the work folder is exit 73, naming the folder and the bytes needed")
    func insufficientSpace() throws {
        let dir = TemporaryDirectory()
        do {
            try BackupOperation.requireFreeSpace(in: dir.path, shownAs: "/srv/backups/.work", needed: Int64.max / 2)
            Issue.record("no file system has that much room")
        } catch let error as BackupError {
            #expect(error.exitStatus == .cannotCreate)
            #expect(error.description.contains("/srv/backups/.work"))
            #expect(error.description.contains("\(Int64.max / 2) bytes"))
            #expect(error.description.contains("BACKUP_LOCAL_DIR"))
        }
        try BackupOperation.requireFreeSpace(in: dir.path, shownAs: dir.path, needed: 1)
    }

    @Test("S3 asks room for a spool of the worst deflate case; the local folder needs none")
    func spoolEstimate() throws {
        let env = Environment(["S3_BUCKET": "b", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s"])
        let s3 = S3Storage(config: try S3Configuration(environment: env), abandonedAfter: 86_400)
        let size: Int64 = 1 << 30
        #expect(s3.spoolBytes(forSnapshotOf: size) > size)
        #expect(s3.spoolBytes(forSnapshotOf: size) < size + size / 100)
        #expect(try LocalFolderStorage(root: TemporaryDirectory().path).spoolBytes(forSnapshotOf: size) == 0)
    }
}
