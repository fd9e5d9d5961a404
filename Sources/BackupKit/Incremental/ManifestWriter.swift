import Foundation

/// Writes a manifest without holding its block list in memory: entries go to a scratch file
/// as the backup names them, and `finish` writes the manifest file proper, the packs no
/// entry uses dropped and the rest numbered anew. Memory stays a buffer's worth whatever
/// the snapshot's size.
final class ManifestWriter {
    private static let bufferEntries = 4096

    private let scratchPath: String
    private let scratch: FileDescriptor
    private var buffer: [UInt8] = []
    private var previous: Manifest.Block?
    /// Stored bytes the entries use in each pack (by the numbering `append` was given).
    private(set) var usedBytes: [UInt32: Int64] = [:]

    init(scratchPath: String) throws {
        self.scratchPath = scratchPath
        scratch = try FileDescriptor.createPrivate(scratchPath)
        buffer.reserveCapacity(Self.bufferEntries * Manifest.entrySize)
    }

    /// Adds the next block of the snapshot; `firstUse` when no earlier entry named the same
    /// stored block (so each stored block counts once in `usedBytes`).
    func append(_ block: Manifest.Block, firstUse: Bool) throws {
        if firstUse { usedBytes[block.pack, default: 0] += Int64(block.length) }
        Manifest.appendEntry(block, after: previous, to: &buffer)
        previous = block
        if buffer.count >= Self.bufferEntries * Manifest.entrySize { try flush() }
    }

    /// Writes the manifest to `path`: `packs` are every pack `append` named, by number; the
    /// header names only the used ones. Returns them with the bytes the manifest uses of each.
    func finish(header: (_ packs: [Manifest.Pack]) -> Manifest.Header, packs: [Manifest.Pack],
                to path: String) throws -> [(pack: Manifest.Pack, usedBytes: Int64)] {
        try flush()
        let kept = usedBytes.keys.sorted()
        var number = [UInt32](repeating: .max, count: packs.count)
        for (new, old) in kept.enumerated() { number[Int(old)] = UInt32(new) }
        let output = try FileDescriptor.createPrivate(path)
        try output.write(try Manifest.start(header(kept.map { packs[Int($0)] })))
        // Renumbering keeps "same pack as the entry before" true or false, so the offsets,
        // stored relative to that entry, need no change: only the pack field is rewritten.
        let input = try FileDescriptor.openForReading(scratchPath)
        var chunk = [UInt8](repeating: 0, count: Self.bufferEntries * Manifest.entrySize)
        var at: Int64 = 0
        while true {
            let n = try chunk.withUnsafeMutableBytes { try input.read(into: $0, at: at) }
            if n == 0 { break }
            guard n % Manifest.entrySize == 0 else { throw BackupError.unexpected("manifest scratch file cut short") }
            chunk.withUnsafeMutableBytes { raw in
                for entry in stride(from: 0, to: n, by: Manifest.entrySize) {
                    let old = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: entry + 16, as: UInt32.self))
                    raw.storeBytes(of: number[Int(old)].littleEndian, toByteOffset: entry + 16, as: UInt32.self)
                }
            }
            try chunk.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            at += Int64(n)
        }
        try output.close()
        Files.remove(scratchPath)
        return kept.map { (packs[Int($0)], usedBytes[$0]!) }
    }

    private func flush() throws {
        try scratch.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
