import Foundation

/// What an incremental backup stores besides new blocks: the snapshot as an ordered list of
/// block ids and where each block lives. Restore rebuilds the snapshot from it alone and
/// checks the whole file's SHA-256; the next backup reads it to reuse unchanged blocks.
///
/// Binary layout (compressed and encrypted like a full backup object):
/// `SQLBINC1`, a little-endian u32 length, the header as JSON, then one 32-byte entry per
/// block: id (16 bytes), pack index (u32), offset in the pack (u64), sealed length (u32).
package struct Manifest: Sendable, Equatable {
    /// A data object ("pack") the manifest's blocks live in.
    package struct Pack: Codable, Sendable, Equatable {
        package let objectKey: String
        /// Stored bytes of the whole pack, to judge how much of it this backup still uses.
        package let size: Int64

        enum CodingKeys: String, CodingKey {
            case size
            case objectKey = "key"
        }
    }

    /// One block of the snapshot.
    package struct Block: Sendable, Equatable {
        package let id: [UInt8]
        package let pack: UInt32
        package let offset: UInt64
        package let length: UInt32
    }

    package struct Header: Codable, Sendable, Equatable {
        package var format = 1
        package let database: String
        package let pageSize: Int
        package let blockSize: Int
        package let snapshotSize: Int64
        /// SHA-256 hex of the whole snapshot, checked after a restore.
        package let sha256: String
        /// How each block is compressed before it is sealed.
        package let compression: CompressionAlgorithm
        /// The key every block of this manifest is sealed with (its id).
        package let keyID: String
        package let packs: [Pack]

        enum CodingKeys: String, CodingKey {
            case format, database, sha256, compression, packs
            case pageSize = "page_size", blockSize = "block_size", snapshotSize = "snapshot_size", keyID = "key_id"
        }
    }

    package var header: Header
    package var blocks: [Block]

    static let magic = Array("SQLBINC1".utf8)
    static let entrySize = 32

    package init(header: Header, blocks: [Block]) {
        self.header = header
        self.blocks = blocks
    }

    /// The bytes of the manifest.
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = Array(try encoder.encode(header))
        var out = Self.magic
        out.reserveCapacity(12 + json.count + blocks.count * Self.entrySize)
        Self.append(UInt32(json.count), to: &out)
        out += json
        for block in blocks {
            out += block.id
            Self.append(block.pack, to: &out)
            Self.append(block.offset, to: &out)
            Self.append(block.length, to: &out)
        }
        return out
    }

    /// Parses manifest bytes; nil names nothing, the caller says which object was bad.
    package init(decoding bytes: [UInt8]) throws {
        func bad(_ detail: String) -> Error { DecompressionFailure(description: "not a valid incremental manifest: \(detail)") }
        guard bytes.count >= 12, Array(bytes[0..<8]) == Self.magic else { throw bad("no SQLBINC1 header") }
        let jsonLength = Int(Self.read(UInt32.self, bytes, at: 8))
        guard bytes.count >= 12 + jsonLength else { throw bad("header cut short") }
        let decoder = JSONDecoder()
        do {
            header = try decoder.decode(Header.self, from: Data(bytes[12..<(12 + jsonLength)]))
        } catch {
            throw bad("header: \(error)")
        }
        let entries = bytes.count - 12 - jsonLength
        guard entries % Self.entrySize == 0 else { throw bad("block list cut short") }
        var blocks: [Block] = []
        blocks.reserveCapacity(entries / Self.entrySize)
        var at = 12 + jsonLength
        while at < bytes.count {
            let id = Array(bytes[at..<(at + BlockIdentity.length)])
            let pack = Self.read(UInt32.self, bytes, at: at + 16)
            guard Int(pack) < header.packs.count else { throw bad("a block names pack \(pack) of \(header.packs.count)") }
            blocks.append(Block(id: id, pack: pack, offset: Self.read(UInt64.self, bytes, at: at + 20),
                                length: Self.read(UInt32.self, bytes, at: at + 28)))
            at += Self.entrySize
        }
        let expected = (header.snapshotSize + Int64(header.blockSize) - 1) / Int64(max(1, header.blockSize))
        guard Int64(blocks.count) == expected else { throw bad("\(blocks.count) blocks for a \(header.snapshotSize)-byte snapshot") }
        self.blocks = blocks
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    private static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for i in (0..<MemoryLayout<T>.size).reversed() { value = value << 8 | T(bytes[offset + i]) }
        return value
    }
}
