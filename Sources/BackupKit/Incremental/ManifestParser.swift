import Foundation

/// Parses a manifest as its bytes arrive (see `Manifest` for the layout), so reading one
/// holds its block list and never the decrypted bytes as well: memory stays at the 32 bytes
/// a block of `Manifest.Block`, whatever the snapshot's size.
final class ManifestParser {
    private var pending: [UInt8] = []
    private var header: Manifest.Header?
    private var relative = true
    private var delta = false
    private var blocks: [Manifest.Block] = []
    private var changes: [UInt64] = []

    /// The largest snapshot a manifest may describe: SQLite's own limit (2^32 pages of 64 KiB).
    static let largestSnapshot: Int64 = 1 << 48

    private func bad(_ detail: String) -> Error {
        DecompressionFailure(description: "not a valid incremental manifest: \(detail)")
    }

    /// Takes the next bytes of the manifest.
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        if header == nil {
            guard pending.count >= 12 else { return }
            let magic = Array(pending[0..<8])
            guard magic == Manifest.magic || magic == Manifest.firstMagic || magic == Manifest.deltaMagic else { throw bad("no SQLBINC header") }
            relative = magic != Manifest.firstMagic
            delta = magic == Manifest.deltaMagic
            let jsonLength = Int(pending.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) })
            guard pending.count >= 12 + jsonLength else { return }
            let json = Data(pending[12..<(12 + jsonLength)])
            // The format first, so a newer manifest says "upgrade" rather than what it holds that this version cannot read.
            struct Format: Decodable { var format: Int? }
            if let format = (try? JSONDecoder().decode(Format.self, from: json))?.format, format > Manifest.Header.newestFormat {
                throw bad("format \(format), newer than this version reads (\(Manifest.Header.newestFormat)): upgrade sqlite-s3-backup to restore it")
            }
            do {
                header = try JSONDecoder().decode(Manifest.Header.self, from: json)
            } catch {
                throw bad("header: \(error)")
            }
            // Authenticated, but still never trusted to size memory or arithmetic: no absurd size traps.
            guard header!.snapshotSize >= 0, header!.snapshotSize <= Self.largestSnapshot, header!.blockSize >= 512,
                  header!.blockSize <= 1 << 30, header!.pageSize > 0 else {
                throw bad("a snapshot of \(header!.snapshotSize) bytes in blocks of \(header!.blockSize)")
            }
            guard header!.packs.allSatisfy({ $0.size >= 0 && $0.size <= Self.largestSnapshot * 2 }) else {
                throw bad("a pack of a negative or absurd size")
            }
            if let length = header!.chainLength, length < 0 || length > ManifestChain.longestReadable { throw bad("a chain of \(length) links") }
            if let entries = header!.chainEntries, entries < 0 || entries > Self.largestSnapshot { throw bad("a chain of \(entries) entries") }
            guard (header!.parent != nil) == delta else { throw bad(delta ? "a delta names no parent" : "a whole manifest names a parent") }
            if delta {
                guard let changed = header!.changedBlocks, changed >= 0, changed <= Int64(header!.blockCount),
                      header!.parentCreatedAt != nil, let length = header!.chainLength, length >= 1,
                      let entries = header!.chainEntries, entries >= changed else {
                    throw bad("a delta without a valid changed_blocks, parent_created_at, chain_length or chain_entries")
                }
                blocks.reserveCapacity(min(Int(changed), 1 << 22))
                changes.reserveCapacity(min(Int(changed), 1 << 22))
            } else {
                // Grown as entries arrive past this: a header cannot make the parser reserve absurd memory.
                blocks.reserveCapacity(min(header!.blockCount, 1 << 22))
            }
            pending.removeFirst(12 + jsonLength)
        }
        let packs = UInt32(header!.packs.count)
        let size = delta ? Manifest.deltaEntrySize : Manifest.entrySize
        let whole = pending.count / size * size
        try pending.withUnsafeBytes { all in
            for start in stride(from: 0, to: whole, by: size) {
                var at = start
                if delta {
                    let gap = UInt64(littleEndian: all.loadUnaligned(fromByteOffset: at, as: UInt64.self))
                    let base = changes.last.map { $0 + 1 } ?? 0
                    let (index, overflow) = base.addingReportingOverflow(gap)
                    guard !overflow, index < UInt64(header!.blockCount) else { throw bad("a delta entry names block \(overflow ? "past 2^64" : String(index)) of \(header!.blockCount)") }
                    changes.append(index)
                    at += 8
                }
                let raw = UnsafeRawBufferPointer(rebasing: all[at..<(at + Manifest.entrySize)])
                let id = BlockID(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<BlockIdentity.length]))
                let pack = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
                guard pack < packs else { throw bad("a block names pack \(pack) of \(packs)") }
                if relative {
                    let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
                    let difference = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: Int64.self))
                    let block = Manifest.Block(id: id, pack: pack, offset: 0, stored: stored)
                    let start = Manifest.relativeStart(of: pack, frame: block.frame, after: blocks.last)
                    guard let offset = UInt64(exactly: Int64(bitPattern: start) &+ difference), offset <= UInt64(Self.largestSnapshot) * 2 else {
                        throw bad("a block lies before its pack or past any pack's size")
                    }
                    blocks.append(Manifest.Block(id: id, pack: pack, offset: offset, stored: stored))
                } else {
                    let length = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
                    let absolute = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 20, as: UInt64.self))
                    guard length <= Manifest.Block.lengthMask, absolute <= UInt64(Self.largestSnapshot) * 2 else {
                        throw bad("a block of \(length) sealed bytes at \(absolute)")
                    }
                    blocks.append(Manifest.Block(
                        id: id, pack: pack, offset: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 20, as: UInt64.self)),
                        length: length))
                }
            }
        }
        pending.removeFirst(whole)
    }

    /// The manifest, once every byte was fed.
    func finish() throws -> Manifest {
        guard let header else { throw bad(pending.count < 12 ? "no SQLBINC header" : "header cut short") }
        guard pending.isEmpty else { throw bad("block list cut short") }
        if let pages = header.pageCount, pages.multipliedReportingOverflow(by: Int64(header.pageSize)) != (header.snapshotSize, false) {
            throw bad("\(pages) pages of \(header.pageSize) bytes for a \(header.snapshotSize)-byte snapshot")
        }
        defer { blocks = []; changes = [] }
        if delta {
            guard Int64(blocks.count) == header.changedBlocks else { throw bad("\(blocks.count) delta entries where the header says \(header.changedBlocks ?? 0)") }
            return Manifest(header: header, blocks: blocks, changes: changes)
        }
        guard blocks.count == header.blockCount else { throw bad("\(blocks.count) blocks for a \(header.snapshotSize)-byte snapshot") }
        return Manifest(header: header, blocks: blocks)
    }
}
