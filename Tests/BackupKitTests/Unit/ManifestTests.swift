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

    @Test("reusable blocks: every stored id is found, unknown ids are new, blocks of a mostly unused pack are stored again where the snapshot changes, those of a pack gone or damaged wherever found")
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
        guard case .reuse(let thin, _) = reusable.lookup(blocks[20_000].id) else {
            Issue.record("a block of a mostly unused pack was not found")
            return
        }
        #expect(reusable.compacts(thin, at: 20_000), "a block of a mostly unused pack is kept where the snapshot changes")
        #expect(!reusable.compacts(blocks[5], at: 5))
        let damaged = ReusableBlocks(previous: Manifest(header: header, blocks: blocks), unusablePacks: [0])
        guard case .storeAgain = damaged.lookup(blocks[5].id), case .reuse = damaged.lookup(blocks[20_000].id) else {
            Issue.record("a block of a damaged pack was reused, or one of another pack was not")
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

    @Test("reusable blocks: compacted where the snapshot changes are the span of a frame used less than three quarters (holes included) and the frames of a thin MiB of a pack; fuller frames, lone blocks and fuller stretches are not")
    func sparseFramesAndThinStretches() throws {
        // Blocks 0-15: frame A (pack 0 at 0) with members 1, 2, 5 and 6 replaced by single-block
        // frames in pack 1 (12 of 16 used: kept). Blocks 16-31: frame B (pack 0 at 1000) with
        // members 3-9 replaced (9 of 16 used: compacted, all 16, the holes' blocks too).
        // Blocks 32-33: frame C (pack 0 at 2000), its last members gone, so its span is 2: kept.
        // Blocks 36-38: lone frames in pack 2 (3 MiB), one in each MiB; the middle MiB is thin.
        var blocks: [Manifest.Block] = []
        var single: UInt64 = 0
        func lone() -> Manifest.Block {
            defer { single += 100 }
            return Manifest.Block(id: Self.randomID(), pack: 1, offset: single, length: 100, frame: 0)
        }
        for k in 0..<16 { blocks.append([1, 2, 5, 6].contains(k) ? lone() : Manifest.Block(id: Self.randomID(), pack: 0, offset: 0, length: 900, frame: k)) }
        for k in 0..<16 { blocks.append((3...9).contains(k) ? lone() : Manifest.Block(id: Self.randomID(), pack: 0, offset: 1000, length: 900, frame: k)) }
        for k in 0..<2 { blocks.append(Manifest.Block(id: Self.randomID(), pack: 0, offset: 2000, length: 300, frame: k)) }
        blocks += [lone(), lone()]
        for (offset, length) in [(0, 1_000_000), (1 << 20, 1000), (2 << 20, 1_000_000)] as [(UInt64, UInt32)] {
            blocks.append(Manifest.Block(id: Self.randomID(), pack: 2, offset: offset, length: length, frame: 0))
        }
        let header = Manifest.Header(database: "x.db", pageSize: 4096, blockSize: 4096, snapshotSize: Int64(blocks.count) * 4096,
                                     compression: .zstd, keyID: "k",
                                     packs: [Manifest.Pack(objectKey: "p0", size: 2300), Manifest.Pack(objectKey: "p1", size: Int64(single)),
                                             Manifest.Pack(objectKey: "p2", size: 3 << 20)])
        let reusable = ReusableBlocks(previous: Manifest(header: header, blocks: blocks))
        #expect(reusable.sparseFrames == 1 && reusable.thinSegments == 1 && reusable.thinPacks == 0)
        for (number, block) in blocks.enumerated() {
            guard case .reuse(let found, _) = reusable.lookup(block.id) else {
                Issue.record("block \(number) is not reusable")
                continue
            }
            #expect(reusable.compacts(found, at: number) == ((16..<32).contains(number) || number == 37), "block \(number)")
        }
        // Elsewhere in the new snapshot, a block of a sparse frame's span is judged by where it is now.
        #expect(!reusable.compacts(blocks[20], at: 40))
    }

    @Test("a frame crossing into the next MiB of its pack counts in both: a pack of large frames used whole has no thin stretch")
    func framesCountInEveryStretchTheyCover() throws {
        // 1.5 MiB and 0.5 MiB frames (one 2 MiB block each) fill a 2 MiB pack: its second MiB holds the end of one and all of the other.
        let blocks = [Manifest.Block(id: Self.randomID(), pack: 0, offset: 0, length: 3 << 19, frame: 0),
                      Manifest.Block(id: Self.randomID(), pack: 0, offset: 3 << 19, length: 1 << 19, frame: 0)]
        let header = Manifest.Header(database: "x.db", pageSize: 4096, blockSize: 2 << 20, snapshotSize: 4 << 20, compression: .zstd,
                                     keyID: "k", packs: [Manifest.Pack(objectKey: "p0", size: 2 << 20)])
        let reusable = ReusableBlocks(previous: Manifest(header: header, blocks: blocks))
        #expect(reusable.thinSegments == 0 && reusable.thinPacks == 0)
        #expect(!reusable.compacts(blocks[1], at: 1))
    }

    /// A whole manifest of `blocks` made at `time`, named `key`, and a delta on it.
    static func chainLink(_ key: String, time: Int64, blocks: Int, packs: [String], parent: Manifest.Header? = nil,
                          changed: Int64 = 0) -> Manifest.Header {
        var header = Manifest.Header(database: "app.db", objectKey: key, createdAt: time, pageSize: 4096, blockSize: 4096,
                                     snapshotSize: Int64(blocks * 4096), pageCount: Int64(blocks), compression: .zstd, keyID: key.isEmpty ? "" : Self.key.id,
                                     packs: packs.map { Manifest.Pack(objectKey: $0, size: 1 << 20) })
        if let parent {
            header.format = 4
            header.parent = parent.objectKey
            header.parentCreatedAt = parent.createdAt
            header.chainLength = (parent.chainLength ?? 0) + 1
            header.chainEntries = (parent.chainEntries ?? 0) + changed
            header.changedBlocks = changed
        }
        return header
    }

    @Test("a delta manifest reads back as written and applies onto its parent: changed blocks replaced, packs renumbered, grown and cut")
    func deltaRoundTripAndApply() throws {
        let parentBlocks = (0..<1000).map { Manifest.Block(id: Self.randomID(), pack: UInt32($0 % 2), offset: UInt64($0 / 2) * 90, length: 90) }
        let parentHeader = Self.chainLink("m0", time: 1000, blocks: 1000, packs: ["pA", "pB"])
        let parent = Manifest(header: parentHeader, blocks: parentBlocks)
        // The child lists the packs in another order, adds pC, and grows to 1200 blocks.
        let changes: [UInt64] = [0, 7, 8, 500] + (1000..<1200).map { UInt64($0) }
        let changed = changes.enumerated().map { Manifest.Block(id: Self.randomID(), pack: 0, offset: UInt64($0.offset) * 70, length: 70) }
        let childHeader = Self.chainLink("m1", time: 2000, blocks: 1200, packs: ["pC", "pB", "pA"], parent: parentHeader, changed: Int64(changes.count))
        let delta = Manifest(header: childHeader, blocks: changed, changes: changes)
        let bytes = try delta.encoded()
        #expect(Array(bytes.prefix(8)) == Array("SQLBINCD".utf8))
        let read = try Manifest(decoding: bytes)
        #expect(read == delta && read.isDelta)
        #expect(ManifestChain.linkProblem(child: read, parent: parent) == nil)

        let whole = try ManifestChain.apply(read, onto: parent, objectKey: "m1")
        #expect(whole.blocks.count == 1200 && !whole.isDelta && whole.ancestors == ["m0"])
        for index in 0..<1200 {
            if let at = changes.firstIndex(of: UInt64(index)) {
                #expect(whole.blocks[index] == changed[at])
            } else {
                let old = parentBlocks[index]
                #expect(whole.blocks[index].id == old.id && whole.blocks[index].offset == old.offset)
                #expect(whole.header.packs[Int(whole.blocks[index].pack)].objectKey == parentHeader.packs[Int(old.pack)].objectKey)
            }
        }
        // Cut: a child of 10 blocks keeps the first 10.
        let cut = try ManifestChain.apply(Manifest(header: Self.chainLink("m1", time: 2000, blocks: 10, packs: ["pA", "pB"], parent: parentHeader),
                                                   blocks: [], changes: []), onto: parent, objectKey: "m1")
        #expect(cut.blocks == Array(parentBlocks.prefix(10)))
    }

    @Test("a hostile delta is refused, never applied: an index past the snapshot, a tail its parent lacks, a pack it does not list, a parent of another time, database or chain")
    func hostileDeltasAreRefused() throws {
        let parentHeader = Self.chainLink("m0", time: 1000, blocks: 100, packs: ["pA"])
        let parent = Manifest(header: parentHeader, blocks: (0..<100).map { Manifest.Block(id: Self.randomID(), pack: 0, offset: UInt64($0) * 10, length: 10) })
        let one = [Manifest.Block(id: Self.randomID(), pack: 0, offset: 0, length: 10)]

        // An entry past the snapshot's last block does not parse.
        var past = try Manifest(header: Self.chainLink("m1", time: 2000, blocks: 100, packs: ["pA"], parent: parentHeader, changed: 1),
                                blocks: one, changes: [99]).encoded()
        past[past.count - Manifest.deltaEntrySize] = 100
        #expect(throws: DecompressionFailure.self) { try Manifest(decoding: past) }
        // A gap that overflows past 2^64.
        var overflow = try Manifest(header: Self.chainLink("m1", time: 2000, blocks: 100, packs: ["pA"], parent: parentHeader, changed: 2),
                                    blocks: one + one, changes: [1, 2]).encoded()
        for i in 0..<8 { overflow[overflow.count - Manifest.deltaEntrySize + i] = 0xFF }
        #expect(throws: DecompressionFailure.self) { try Manifest(decoding: overflow) }
        // A delta whose header says it has no parent, or a whole manifest that names one.
        var orphan = Self.chainLink("m1", time: 2000, blocks: 100, packs: ["pA"], parent: parentHeader)
        orphan.parent = nil
        let orphanBytes = Array("SQLBINCD".utf8) + (try Manifest(header: orphan, blocks: (0..<100).map { _ in one[0] }).encoded()).dropFirst(8)
        #expect(throws: DecompressionFailure.self) { try Manifest(decoding: Array(orphanBytes)) }
        // An absurd snapshot size is an error, not a trap.
        var absurd = Self.chainLink("m0", time: 1000, blocks: 1, packs: ["pA"])
        absurd = Manifest.Header(database: "app.db", pageSize: 4096, blockSize: 4096, snapshotSize: .max, compression: .zstd, keyID: "", packs: absurd.packs)
        #expect(throws: DecompressionFailure.self) { try Manifest(decoding: try Manifest(header: absurd, blocks: []).encoded()) }

        // Negative or absurd sizes and chain figures are errors, never traps or huge reservations.
        var negativePack = Self.chainLink("m0", time: 1000, blocks: 1, packs: ["pA"])
        negativePack = Manifest.Header(database: "app.db", pageSize: 4096, blockSize: 4096, snapshotSize: 4096, compression: .zstd, keyID: "",
                                       packs: [Manifest.Pack(objectKey: "pA", size: -5)])
        #expect(throws: DecompressionFailure.self) { try Manifest(decoding: try Manifest(header: negativePack, blocks: [one[0]]).encoded()) }
        for (length, entries) in [(1_000_000_000, 0 as Int64), (1, -1), (1, Int64.max)] {
            var link = Self.chainLink("m1", time: 2000, blocks: 100, packs: ["pA"], parent: parentHeader)
            link.chainLength = length
            link.chainEntries = entries
            #expect(throws: DecompressionFailure.self, "chain \(length), \(entries)") {
                try Manifest(decoding: try Manifest(header: link, blocks: [], changes: []).encoded())
            }
        }

        // A child that grows past its parent must list the new tail.
        let grown = Manifest(header: Self.chainLink("m1", time: 2000, blocks: 101, packs: ["pA"], parent: parentHeader), blocks: [], changes: [])
        #expect(throws: BackupError.self) { try ManifestChain.apply(grown, onto: parent, objectKey: "m1") }
        // A child that does not list the pack its parent's unchanged blocks use.
        let lost = Manifest(header: Self.chainLink("m1", time: 2000, blocks: 100, packs: ["pZ"], parent: parentHeader), blocks: [], changes: [])
        #expect(throws: BackupError.self) { try ManifestChain.apply(lost, onto: parent, objectKey: "m1") }

        // Links that do not agree with their child.
        let child = Manifest(header: Self.chainLink("m1", time: 2000, blocks: 100, packs: ["pA"], parent: parentHeader), blocks: [], changes: [])
        #expect(ManifestChain.linkProblem(child: child, parent: parent) == nil)
        var redated = parent
        redated.header.createdAt = 1500
        #expect(ManifestChain.linkProblem(child: child, parent: redated) != nil)
        var renamed = parent
        renamed.header.objectKey = "other"
        #expect(ManifestChain.linkProblem(child: child, parent: renamed) != nil)
        var otherDatabase = parent
        otherDatabase.header = Manifest.Header(database: "other.db", objectKey: "m0", createdAt: 1000, pageSize: 4096, blockSize: 4096,
                                               snapshotSize: parentHeader.snapshotSize, compression: .zstd, keyID: Self.key.id, packs: parentHeader.packs)
        #expect(ManifestChain.linkProblem(child: child, parent: otherDatabase) != nil)
        // A loop: a "parent" that is itself a delta claiming the same chain place.
        let loop = Manifest(header: Self.chainLink("m0", time: 1000, blocks: 100, packs: ["pA"], parent: child.header), blocks: [], changes: [])
        #expect(ManifestChain.linkProblem(child: child, parent: loop) != nil)

        // Resolving through a loader: a missing parent names it.
        var chain = ManifestChain { key in throw BackupError.backupNotFound(objectKey: key) }
        do {
            _ = try chain.resolve(child, objectKey: "m1")
            Issue.record("a delta resolved without its parent")
        } catch let error as BackupError {
            #expect("\(error)".contains("parent manifest m0 is missing"), "\(error)")
        }
    }

    @Test("frames: members of one frame share its offset and length and say their place; runs of frames cost no offset bytes; lone blocks of older manifests still read")
    func framesRoundTrip() throws {
        var blocks: [Manifest.Block] = []
        var offset: UInt64 = 0
        for frame in 0..<50 {
            let members = frame % 5 + 1, length = UInt32(1000 + frame)
            for member in 0..<members {
                blocks.append(Manifest.Block(id: Self.randomID(), pack: 0, offset: offset, length: length, frame: member))
            }
            offset += UInt64(length)
        }
        blocks.append(Manifest.Block(id: Self.randomID(), pack: 0, offset: offset + 77, length: 4000))   // a lone block, after a gap
        var header = Self.header(blocks: blocks.count, packs: 1)
        header.frameBytes = 65536
        let manifest = Manifest(header: header, blocks: blocks)
        let bytes = try manifest.encoded()
        let read = try Manifest(decoding: bytes)
        #expect(read == manifest)
        #expect(read.blocks[0].frame == 0 && read.blocks[2].frame == 1 && read.blocks[2].length == 1001 && read.blocks.last?.frame == nil)
        #expect(read.blocks[1].offset == read.blocks[2].offset && read.blocks[2].stored == 1001 | 2 << 24)
        let entries = bytes.count - blocks.count * Manifest.entrySize
        for number in 1..<(blocks.count - 1) {
            let at = entries + number * Manifest.entrySize
            #expect(bytes[(at + 24)..<(at + 32)].allSatisfy { $0 == 0 }, "entry \(number) costs no offset bytes")
        }
    }
}
