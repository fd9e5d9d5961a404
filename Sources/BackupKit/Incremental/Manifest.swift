import Foundation

/// What an incremental backup stores besides new blocks: the snapshot as an ordered list of
/// block ids and where each block lives. Restore rebuilds the snapshot from it alone: every
/// block authenticates (AES-GCM, its id as associated data) and hashes to its id, and the
/// manifest itself is authenticated, so the ordered ids already pin the whole snapshot and no
/// second whole-file hash is taken (manifests before format 3 carry one, still checked). The
/// next backup reads it to reuse unchanged blocks.
///
/// Binary layout (compressed and encrypted like a full backup object): `SQLBINC2`, a
/// little-endian u32 length, the header as JSON, then one 32-byte entry per block: id
/// (16 bytes), pack index (u32), sealed length (u32), and the offset in the pack as an i64
/// difference from where the entry before it ended in the same pack (0 for blocks stored one
/// after another, which is most of them, so the compressed manifest costs about the 16 bytes
/// of the id per block). `SQLBINC1` manifests (absolute u64 offsets, the length last) still read.
package struct Manifest: Sendable, Equatable {
    /// A data object ("pack") the manifest's blocks live in.
    package struct Pack: Codable, Sendable, Equatable {
        package let objectKey: String
        /// Stored bytes of the whole pack, to judge how much of it a backup still uses.
        package let size: Int64
        /// The pack's storage version when it was stored (`StoredObject.version`): a pack
        /// rewritten in place, even to the same size, is never reused.
        package var version: String? = nil

        enum CodingKeys: String, CodingKey {
            case size, version
            case objectKey = "key"
        }
    }

    /// One block of the snapshot, and where its sealed bytes live: a *frame* of the pack, the
    /// blocks of a run stored together (compressed as one, sealed as one), or, in manifests
    /// before frames, the block sealed on its own with its id as associated data.
    package struct Block: Sendable, Equatable {
        package let id: BlockID
        package var pack: UInt32
        /// Where the frame starts in the pack.
        package let offset: UInt64
        /// As stored: the frame's sealed length in the low 24 bits; in the high 8, 0 for a block
        /// sealed on its own, else its place in its frame plus one.
        package let stored: UInt32

        package init(id: BlockID, pack: UInt32, offset: UInt64, length: UInt32, frame: Int? = nil) {
            precondition(length <= Self.lengthMask && (frame ?? 0) < Self.largestFrame, "a frame of \(length) bytes or member \(frame ?? 0)")
            self.init(id: id, pack: pack, offset: offset, stored: length | UInt32((frame ?? -1) + 1) << 24)
        }

        init(id: BlockID, pack: UInt32, offset: UInt64, stored: UInt32) {
            self.id = id
            self.pack = pack
            self.offset = offset
            self.stored = stored
        }

        static let lengthMask: UInt32 = 0xFF_FFFF
        /// Blocks a frame may hold.
        static let largestFrame = 255

        /// Sealed bytes of the frame (or lone block) holding this block.
        package var length: UInt32 { stored & Self.lengthMask }
        /// The block's place in its frame; nil for a block sealed on its own.
        package var frame: Int? { stored >> 24 == 0 ? nil : Int(stored >> 24) - 1 }
    }

    package struct Header: Codable, Sendable, Equatable {
        /// 3: no whole-snapshot SHA-256 (the ordered, authenticated block ids stand for it).
        /// 4: new blocks stored in frames (`frameBytes`), and delta manifests.
        /// 5: block ids by the scheme `blockIDs` names (keyed BLAKE3).
        package var format = 3
        package let database: String
        /// The manifest's own object key and creation time (milliseconds), so a manifest
        /// copied under another name or date is caught on restore; absent in earlier manifests.
        package var objectKey: String? = nil
        package var createdAt: Int64? = nil
        package let pageSize: Int
        package let blockSize: Int
        package let snapshotSize: Int64
        /// Pages in the snapshot (its size over the page size; absent in manifests of the first layout).
        package var pageCount: Int64? = nil
        /// SHA-256 hex of the whole snapshot, in manifests before format 3 (checked on restore).
        package var sha256: String? = nil
        /// How each block is compressed before it is sealed.
        package let compression: CompressionAlgorithm
        /// The key every block of this manifest is sealed with (its id).
        package let keyID: String
        /// Every pack the whole snapshot uses (a delta's too: its parents' blocks are renumbered into this list).
        package let packs: [Pack]
        /// A delta's parent: the manifest it lists its differences from, and that one's time.
        package var parent: String? = nil
        package var parentCreatedAt: Int64? = nil
        /// A delta's place in its chain (1: its parent is a whole manifest) and the delta
        /// entries of the chain up to and including this one.
        package var chainLength: Int? = nil
        package var chainEntries: Int64? = nil
        /// A delta's own entries.
        package var changedBlocks: Int64? = nil
        /// The most snapshot bytes one frame of new blocks holds (absent: every block sealed alone).
        package var frameBytes: Int? = nil
        /// The time (milliseconds) of the newest snapshot of this manifest's chain that passed
        /// quick_check, this one's own when it was checked (`SnapshotCheckRule`); absent in
        /// manifests of earlier versions, whose every snapshot was checked.
        package var checkedAt: Int64? = nil
        /// How block ids are computed; absent: HMAC-SHA256, as before format 5.
        package var blockIDs: BlockIDScheme? = nil

        enum CodingKeys: String, CodingKey {
            case format, database, sha256, compression, packs, parent
            case pageSize = "page_size", blockSize = "block_size", snapshotSize = "snapshot_size", pageCount = "page_count"
            case keyID = "key_id", objectKey = "object_key", createdAt = "created_at"
            case parentCreatedAt = "parent_created_at", chainLength = "chain_length", chainEntries = "chain_entries"
            case changedBlocks = "changed_blocks", frameBytes = "frame_bytes", checkedAt = "checked_at"
            case blockIDs = "block_ids"
        }

        /// The scheme of this manifest's block ids.
        package var idScheme: BlockIDScheme { blockIDs ?? .hmacSHA256 }

        /// The newest manifest format this version reads.
        static let newestFormat = 5

        /// Blocks a snapshot of `snapshotSize` bytes is cut into.
        var blockCount: Int { Int((snapshotSize + Int64(blockSize) - 1) / Int64(max(1, blockSize))) }
    }

    package var header: Header
    /// Every block of the snapshot in order; a delta's changed blocks only (`changes` says where).
    package var blocks: [Block]
    /// A delta's block indexes, one per entry of `blocks`, increasing; nil for a whole manifest.
    package var changes: [UInt64]?
    /// The manifests a delta was rebuilt from, its parent first (`ManifestChain`); never stored.
    package var ancestors: [String] = []

    /// Whether this manifest, as read, lists only what differs from its parent (a resolved
    /// one lists every block, and still names its parent).
    package var isDelta: Bool { changes != nil }

    static let magic = Array("SQLBINC2".utf8)
    static let firstMagic = Array("SQLBINC1".utf8)
    static let deltaMagic = Array("SQLBINCD".utf8)
    static let entrySize = 32
    static let deltaEntrySize = 40

    package init(header: Header, blocks: [Block], changes: [UInt64]? = nil) {
        self.header = header
        self.blocks = blocks
        self.changes = changes
    }

    /// Parses manifest bytes; the caller says which object was bad.
    package init(decoding bytes: [UInt8]) throws {
        let parser = ManifestParser()
        try bytes.withUnsafeBytes { try parser.feed($0) }
        self = try parser.finish()
    }

    /// Where an entry in `pack` is stored relative to: when the entry before it is in the same
    /// pack, that entry's frame for a later member of a frame, else the end of that frame;
    /// otherwise the pack's start. Blocks stored one after another so cost no offset bytes.
    static func relativeStart(of pack: UInt32, frame: Int?, after previous: Block?) -> UInt64 {
        guard let previous, previous.pack == pack else { return 0 }
        return (frame ?? 0) > 0 ? previous.offset : previous.offset + UInt64(previous.length)
    }

    /// Appends the 32 bytes of `block`'s entry, `previous` being the entry before it.
    static func appendEntry(_ block: Block, after previous: Block?, to out: inout [UInt8]) {
        let start = relativeStart(of: block.pack, frame: block.frame, after: previous)
        withUnsafeBytes(of: block.id.high.bigEndian) { out += $0 }
        withUnsafeBytes(of: block.id.low.bigEndian) { out += $0 }
        withUnsafeBytes(of: block.pack.littleEndian) { out += $0 }
        withUnsafeBytes(of: block.stored.littleEndian) { out += $0 }
        withUnsafeBytes(of: (Int64(bitPattern: block.offset) &- Int64(bitPattern: start)).littleEndian) { out += $0 }
    }

    /// Appends a delta entry: the gap from the entry before (`previousIndex`, nil for the
    /// first), then the block's 32 bytes relative to the delta's previous block.
    static func appendDeltaEntry(_ block: Block, index: UInt64, after previous: (index: UInt64, block: Block)?, to out: inout [UInt8]) {
        let gap = previous.map { index - $0.index - 1 } ?? index
        withUnsafeBytes(of: gap.littleEndian) { out += $0 }
        appendEntry(block, after: previous?.block, to: &out)
    }

    /// The bytes of a manifest whose entries are all in memory (tests, small snapshots).
    package func encoded() throws -> [UInt8] {
        var out = try Self.start(header, delta: changes != nil)
        var previous: Block?
        for (number, block) in blocks.enumerated() {
            if let changes {
                Self.appendDeltaEntry(block, index: changes[number], after: number == 0 ? nil : (changes[number - 1], previous!), to: &out)
            } else {
                Self.appendEntry(block, after: previous, to: &out)
            }
            previous = block
        }
        return out
    }

    /// The magic (a delta's when `delta`), the header's length and the header.
    static func start(_ header: Header, delta: Bool) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = Array(try encoder.encode(header))
        var out = delta ? Self.deltaMagic : Self.magic
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { out += $0 }
        return out + json
    }
}
