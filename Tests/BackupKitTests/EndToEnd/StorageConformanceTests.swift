import Foundation
import Testing
@testable import BackupKit

/// One body of tests run against every storage: the local folder, SeaweedFS and moto. Each
/// checks the `ObjectStorage` contract as its doc comment states it.
struct StorageConformanceTests {
    static let kinds = ["local", "seaweed", "moto"]

    /// A fresh storage and a prefix under which nothing exists yet.
    func make(_ kind: String, _ label: String = #function) throws -> (storage: any ObjectStorage, prefix: String, spool: TemporaryDirectory) {
        let spool = TemporaryDirectory(label)
        let unique = UUID().uuidString.prefix(8).lowercased()
        switch kind {
        case "local":
            return (try LocalFolderStorage(root: spool.file("store")), "conf-\(unique)/", spool)
        default:
            let server = try (kind == "seaweed" ? S3TestServer.seaweed : S3TestServer.checking).get()
            // moto mis-verifies signed queries holding an encoded '/' (and so a prefix with one).
            let prefix = kind == "moto" ? "conf\(unique)-" : "conf \(unique)/ü+=/"
            let env = Environment(server.environment(prefix: prefix).merging(["BACKUP_S3_MULTIPART_THRESHOLD_MB": "5", "BACKUP_S3_PART_SIZE_MB": "5"]) { $1 })
            return (S3Storage(config: try S3Configuration(environment: env), listPageSize: 2, abandonedAfter: 86_400), prefix, spool)
        }
    }

    func store(_ storage: any ObjectStorage, _ key: String, _ bytes: [UInt8], _ metadata: ObjectMetadata, spool: String) throws {
        let upload = try storage.beginUpload(objectKey: key, spoolDirectory: spool)
        for start in stride(from: 0, to: bytes.count, by: 1 << 20) {
            try bytes[start..<min(start + (1 << 20), bytes.count)].withUnsafeBytes { try upload.write($0) }
        }
        try upload.complete(metadata: metadata)
    }

    @Test("an object round-trips with its metadata, whole or in parts; listing pages through every key", arguments: kinds)
    func roundTrip(_ kind: String) throws {
        let (storage, prefix, spool) = try make(kind)
        let small = Array("hello, storage".utf8)
        let large = (0..<(11 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        let metadata = ObjectMetadata(["iv": "aXY=", "tag": "dGFn", "db-name": "données 100%.db", "checksum": Digest.hash(.md5, large).hexString])
        try store(storage, prefix + "a.db.gz.enc", small, metadata, spool: spool.path)
        try store(storage, prefix + "b.db.gz.enc", large, metadata, spool: spool.path)
        try store(storage, prefix + "c.db.gz.enc", small, metadata, spool: spool.path)
        #expect(try storage.list(prefix: prefix).map(\.objectKey).sorted() == ["a", "b", "c"].map { prefix + "\($0).db.gz.enc" })
        let head = try storage.head(objectKey: prefix + "b.db.gz.enc")
        #expect(head.object.size == Int64(large.count))
        for name in ["iv", "tag", "db-name", "checksum"] { #expect(head.metadata[name] == metadata[name], "\(name)") }
        var back: [UInt8] = []
        try storage.download(objectKey: prefix + "b.db.gz.enc") { back += $0 }
        #expect(back == large)
        let spooled = try FileManager.default.contentsOfDirectory(atPath: spool.path)
        #expect(!spooled.contains { $0.hasSuffix(".spool") }, "no spool left: \(spooled)")
    }

    @Test("ranged downloads return exactly the bytes asked for, from the start, the middle, across parts and to the end; of a missing object, not found", arguments: kinds)
    func rangedDownloads(_ kind: String) throws {
        let (storage, prefix, spool) = try make(kind)
        let bytes = (0..<(11 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let key = prefix + "p.pack.enc"
        try store(storage, key, bytes, ObjectMetadata(["kind": "pack"]), spool: spool.path)
        for range: Range<Int64> in [0..<1, 0..<4096, 12_345..<99_999, Int64(5 << 20) - 10..<Int64(5 << 20) + 10,
                                    Int64(bytes.count) - 3..<Int64(bytes.count), 1..<Int64(bytes.count)] {
            var back: [UInt8] = []
            try storage.download(objectKey: key, range: range) { back += $0 }
            #expect(back == Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)]), "\(range)")
        }
        #expect(throws: BackupError.backupNotFound(objectKey: prefix + "gone.pack.enc")) {
            try storage.download(objectKey: prefix + "gone.pack.enc", range: 0..<10) { _ in }
        }
    }

    @Test("missing objects: head and download say not found, delete succeeds; delete removes", arguments: kinds)
    func missingAndDelete(_ kind: String) throws {
        let (storage, prefix, spool) = try make(kind)
        #expect(throws: BackupError.backupNotFound(objectKey: prefix + "nope.db.gz.enc")) { try storage.head(objectKey: prefix + "nope.db.gz.enc") }
        #expect(throws: BackupError.backupNotFound(objectKey: prefix + "nope.db.gz.enc")) { try storage.download(objectKey: prefix + "nope.db.gz.enc") { _ in } }
        try storage.delete(objectKey: prefix + "nope.db.gz.enc")
        try store(storage, prefix + "x.db.gz.enc", [1, 2, 3], ObjectMetadata(["iv": "aXY="]), spool: spool.path)
        try storage.delete(objectKey: prefix + "x.db.gz.enc")
        #expect(try storage.list(prefix: prefix).isEmpty)
    }

    @Test("an aborted upload (after bytes of several parts) leaves nothing listed and nothing to clean", arguments: kinds)
    func abortLeavesNothing(_ kind: String) throws {
        let (storage, prefix, spool) = try make(kind)
        let upload = try storage.beginUpload(objectKey: prefix + "x.db.gz.enc", spoolDirectory: spool.path)
        let chunk = [UInt8](repeating: 7, count: 1 << 20)
        for _ in 0..<12 { try chunk.withUnsafeBytes { try upload.write($0) } }
        #expect(try storage.list(prefix: prefix).isEmpty, "invisible until complete")
        upload.abort()
        #expect(try storage.list(prefix: prefix).isEmpty)
        #expect(try storage.removeAbandonedUploads(prefix: prefix) == 0)
    }
}
