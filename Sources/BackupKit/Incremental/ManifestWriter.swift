import Foundation

/// Writes a manifest without holding its block list in memory: entries go to a scratch file
/// as the backup names them, and `finish` writes the manifest file proper, the packs no
/// entry uses dropped and the rest numbered anew. Memory stays a buffer's worth whatever
/// the snapshot's size. Given a parent, it also writes the delta entries (the blocks whose
/// entry differs from the parent's), and `finish` stores whichever the caller chooses.
final class ManifestWriter {
    private static let bufferEntries = 4096

    private let whole: EntryFile
    private let delta: EntryFile?
    private var previous: Manifest.Block?
    private var previousChange: (index: UInt64, block: Manifest.Block)?
    /// Stored bytes the entries use in each pack (by the numbering `append` was given).
    private(set) var usedBytes: [UInt32: Int64] = [:]
    /// Entries that differ from the parent's (all of them without a parent).
    private(set) var changedBlocks: Int64 = 0

    /// `deltaScratchPath` when the backup has a parent its delta may be written against.
    init(scratchPath: String, deltaScratchPath: String? = nil) throws {
        whole = try EntryFile(path: scratchPath, entrySize: Manifest.entrySize)
        delta = try deltaScratchPath.map { try EntryFile(path: $0, entrySize: Manifest.deltaEntrySize) }
    }

    /// Adds block `index` of the snapshot; `firstUse` when no earlier entry named the same
    /// stored block (so each stored block counts once in `usedBytes`); `sameAsParent` when the
    /// parent's entry for this index is this very one.
    func append(_ block: Manifest.Block, index: UInt64, firstUse: Bool, sameAsParent: Bool = false) throws {
        if firstUse { usedBytes[block.pack, default: 0] += Int64(block.length) }
        try whole.add { Manifest.appendEntry(block, after: previous, to: &$0) }
        previous = block
        guard !sameAsParent else { return }
        changedBlocks += 1
        if let delta {
            try delta.add { Manifest.appendDeltaEntry(block, index: index, after: previousChange, to: &$0) }
            previousChange = (index, block)
        }
    }

    /// Writes the manifest to `path`, as a delta when `asDelta` (the header must then name the
    /// parent): `packs` are every pack `append` named, by number; the header names only the
    /// used ones. Returns them with the bytes the manifest uses of each.
    func finish(header: (_ packs: [Manifest.Pack]) -> Manifest.Header, packs: [Manifest.Pack], asDelta: Bool,
                to path: String) throws -> [(pack: Manifest.Pack, usedBytes: Int64)] {
        let kept = usedBytes.keys.sorted()
        var number = [UInt32](repeating: .max, count: packs.count)
        for (new, old) in kept.enumerated() { number[Int(old)] = UInt32(new) }
        let output = try FileDescriptor.createPrivate(path)
        try output.write(try Manifest.start(header(kept.map { packs[Int($0)] }), delta: asDelta))
        guard let entries = asDelta ? delta : whole else { throw BackupError.unexpected("a delta manifest without a parent") }
        try entries.copy(to: output, renumbering: number)
        try output.close()
        whole.remove()
        delta?.remove()
        return kept.map { (packs[Int($0)], usedBytes[$0]!) }
    }

    /// A scratch file of fixed-size entries whose pack field sits in their last 16 bytes' first 4.
    private final class EntryFile {
        let path: String
        let entrySize: Int
        private let file: FileDescriptor
        private var buffer: [UInt8] = []

        init(path: String, entrySize: Int) throws {
            self.path = path
            self.entrySize = entrySize
            file = try FileDescriptor.createPrivate(path)
            buffer.reserveCapacity(ManifestWriter.bufferEntries * entrySize)
        }

        func add(_ write: (inout [UInt8]) -> Void) throws {
            write(&buffer)
            if buffer.count >= ManifestWriter.bufferEntries * entrySize { try flush() }
        }

        func flush() throws {
            try file.write(buffer)
            buffer.removeAll(keepingCapacity: true)
        }

        func remove() { Files.remove(path) }

        /// Appends every entry to `output` with its pack renumbered. Renumbering keeps "same
        /// pack as the entry before" true or false, so the offsets, stored relative to that
        /// entry, need no change: only the pack field is rewritten.
        func copy(to output: FileDescriptor, renumbering number: [UInt32]) throws {
            try flush()
            let input = try FileDescriptor.openForReading(path)
            let packField = entrySize - 16
            var chunk = [UInt8](repeating: 0, count: ManifestWriter.bufferEntries * entrySize)
            var at: Int64 = 0
            while true {
                let n = try chunk.withUnsafeMutableBytes { try input.read(into: $0, at: at) }
                if n == 0 { break }
                guard n % entrySize == 0 else { throw BackupError.unexpected("manifest scratch file cut short") }
                chunk.withUnsafeMutableBytes { raw in
                    for entry in stride(from: 0, to: n, by: entrySize) {
                        let old = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: entry + packField, as: UInt32.self))
                        raw.storeBytes(of: number[Int(old)].littleEndian, toByteOffset: entry + packField, as: UInt32.self)
                    }
                }
                try chunk.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                at += Int64(n)
            }
        }
    }
}
