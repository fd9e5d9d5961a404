import Foundation
import Testing
@testable import BackupKit

/// The parts of incremental backups that need no storage: block ids, the manifest's bytes
/// (both layouts), and the lookup of reusable blocks.
struct ManifestTests {
    static let key = try! EncryptionKey(bytes: (0..<32).map { UInt8($0 * 7 & 0xFF) })

    static func randomID() -> BlockID { BlockID(high: .random(in: 0...UInt64.max), low: .random(in: 0...UInt64.max)) }

    static func header(blocks: Int, blockSize: Int = 4096, packs: Int) -> Manifest.Header {
        Manifest.Header(database: "app.db", pageSize: 4096, blockSize: blockSize, snapshotSize: Int64(blocks * blockSize),
                        pageCount: Int64(blocks * blockSize / 4096), sha256: String(repeating: "ab", count: 32), compression: .zstd, keyID: key.id,
                        packs: (0..<packs).map { Manifest.Pack(objectKey: "p\($0).pack.enc", size: 1 << 20) })
    }

    @Test("a block id is HMAC-SHA256 under the derived key, cut to 16 bytes, for every block size")
    func blockIDsAreTruncatedHMAC() throws {
        let identity = BlockIdentity(key: Self.key)
        let idKey = HMACSHA256.mac(key: Self.key.bytes, message: Array("sqlite-s3-backup block id v1".utf8))
        for size in [0, 1, 55, 64, 4096, 65536] {
            let block = (0..<size).map { _ in UInt8.random(in: 0...255) }
            let id = block.withUnsafeBytes { identity.id(of: $0) }
            #expect(id.bytes == Array(HMACSHA256.mac(key: idKey, message: block).prefix(16)), "size \(size)")
            #expect(id == block.withUnsafeBytes { identity.id(of: $0) }, "the same block, the same id")
            #expect(id.bytes.withUnsafeBytes { BlockID(bytes: $0) } == id)
        }
        let other = BlockIdentity(key: try EncryptionKey(bytes: [UInt8](repeating: 9, count: 32)))
        let block = [UInt8](repeating: 1, count: 4096)
        #expect(block.withUnsafeBytes { identity.id(of: $0) } != block.withUnsafeBytes { other.id(of: $0) },
                "another key names the same block differently")
    }

    @Test("a manifest reads back as written: runs, gaps, blocks met again, three packs; runs cost no offset bytes")
    func manifestRoundTrip() throws {
        var blocks: [Manifest.Block] = []
        var offsets = [UInt64](repeating: 0, count: 3)
        for index in 0..<5000 {
            let pack = UInt32(index / 2000)
            if index % 700 == 3, index > 10 {
                blocks.append(blocks[index / 2])   // a block met again, further back in its pack
                continue
            }
            let length = UInt32.random(in: 40...4200)
            if index % 997 == 0 { offsets[Int(pack)] += 100 }   // a gap: bytes another backup uses
            blocks.append(Manifest.Block(id: Self.randomID(), pack: pack, offset: offsets[Int(pack)], length: length))
            offsets[Int(pack)] += UInt64(length)
        }
        let manifest = Manifest(header: Self.header(blocks: blocks.count, packs: 3), blocks: blocks)
        let bytes = try manifest.encoded()
        #expect(try Manifest(decoding: bytes) == manifest)
        // Entries of blocks stored one after another hold a zero offset difference.
        let start = bytes.count - blocks.count * Manifest.entrySize
        let entry = start + 5 * Manifest.entrySize
        #expect(bytes[(entry + 24)..<(entry + 32)].allSatisfy { $0 == 0 })
    }

    @Test("a manifest parses the same whatever pieces its bytes arrive in")
    func parsesInPieces() throws {
        let blocks = (0..<300).map { Manifest.Block(id: Self.randomID(), pack: UInt32($0 % 2), offset: UInt64($0 / 2) * 90, length: 90) }
        let manifest = Manifest(header: Self.header(blocks: blocks.count, packs: 2), blocks: blocks)
        let bytes = try manifest.encoded()
        for piece in [1, 7, 31, 33, 1000] {
            let parser = ManifestParser()
            for start in stride(from: 0, to: bytes.count, by: piece) {
                try bytes[start..<min(start + piece, bytes.count)].withUnsafeBytes { try parser.feed($0) }
            }
            #expect(try parser.finish() == manifest, "pieces of \(piece)")
        }
        let cut = ManifestParser()
        try bytes.dropLast(5).withUnsafeBytes { try cut.feed($0) }
        #expect(throws: DecompressionFailure.self) { try cut.finish() }
    }

    @Test("manifests of the first layout (SQLBINC1, absolute offsets) still read")
    func firstLayoutStillReads() throws {
        let blocks = (0..<3).map { Manifest.Block(id: Self.randomID(), pack: 0, offset: UInt64($0) * 5000 + 17, length: 4000) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var header = Self.header(blocks: 3, packs: 1)
        header.format = 1
        let json = Array(try encoder.encode(header))
        var bytes = Array("SQLBINC1".utf8)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { bytes += $0 }
        bytes += json
        for block in blocks {
            bytes += block.id.bytes
            withUnsafeBytes(of: block.pack.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: block.offset.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: block.length.littleEndian) { bytes += $0 }
        }
        #expect(try Manifest(decoding: bytes).blocks == blocks)
    }

    @Test("a damaged manifest is refused: wrong magic, a block in a pack it does not list, too few blocks")
    func damagedManifestsAreRefused() throws {
        let blocks = (0..<4).map { Manifest.Block(id: Self.randomID(), pack: 0, offset: UInt64($0) * 100, length: 100) }
        let good = try Manifest(header: Self.header(blocks: 4, packs: 1), blocks: blocks).encoded()
        var magic = good
        magic[7] = UInt8(ascii: "9")
        #expect(throws: DecompressionFailure.self) { try Manifest(decoding: magic) }
        var pack = good
        pack[pack.count - Manifest.entrySize + 16] = 5
        #expect(throws: DecompressionFailure.self) { try Manifest(decoding: pack) }
        #expect(throws: DecompressionFailure.self) { try Manifest(decoding: Array(good.dropLast(Manifest.entrySize))) }
    }

    @Test("reusable blocks: every stored id is found, unknown ids are new, blocks of a mostly unused pack are stored again")
    func reusableBlocksLookup() throws {
        // Pack 0 is used whole; pack 1 (1 MiB) holds only one 4000-byte block the manifest uses.
        var blocks = (0..<20_000).map { Manifest.Block(id: Self.randomID(), pack: 0, offset: UInt64($0) * 50, length: 50) }
        blocks.append(Manifest.Block(id: Self.randomID(), pack: 1, offset: 0, length: 4000))
        blocks.append(blocks[3])   // met twice: one entry
        var header = Self.header(blocks: blocks.count, packs: 2)
        header = Manifest.Header(database: header.database, pageSize: 4096, blockSize: 4096, snapshotSize: header.snapshotSize,
                                 sha256: header.sha256, compression: .zstd, keyID: header.keyID,
                                 packs: [Manifest.Pack(objectKey: "p0", size: 20_000 * 50), Manifest.Pack(objectKey: "p1", size: 1 << 20)])
        let reusable = ReusableBlocks(previous: Manifest(header: header, blocks: blocks))
        #expect(reusable.count == 20_001)
        #expect(reusable.thinPacks == 1)
        for block in blocks.prefix(20_000) {
            guard case .reuse(let found, _) = reusable.lookup(block.id) else {
                Issue.record("a stored block was not found")
                return
            }
            #expect(found == block)
        }
        guard case .storeAgain = reusable.lookup(blocks[20_000].id) else {
            Issue.record("a block of a mostly unused pack was reused")
            return
        }
        for _ in 0..<1000 {
            guard case .new = reusable.lookup(Self.randomID()) else {
                Issue.record("an unknown id was found")
                return
            }
        }
        guard case .new = ReusableBlocks().lookup(blocks[0].id) else {
            Issue.record("an empty set found a block")
            return
        }
    }
}
