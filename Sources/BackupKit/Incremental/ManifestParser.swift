import Foundation

/// Parses a manifest as its bytes arrive (see `Manifest` for the layout), so reading one
/// holds its block list and never the decrypted bytes as well: memory stays at the 32 bytes
/// a block of `Manifest.Block`, whatever the snapshot's size.
final class ManifestParser {
    private var pending: [UInt8] = []
    private var header: Manifest.Header?
    private var relative = true
    private var blocks: [Manifest.Block] = []

    private func bad(_ detail: String) -> Error {
        DecompressionFailure(description: "not a valid incremental manifest: \(detail)")
    }

    /// Takes the next bytes of the manifest.
    func feed(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        if header == nil {
            guard pending.count >= 12 else { return }
            let magic = Array(pending[0..<8])
            guard magic == Manifest.magic || magic == Manifest.firstMagic else { throw bad("no SQLBINC header") }
            relative = magic == Manifest.magic
            let jsonLength = Int(pending.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) })
            guard pending.count >= 12 + jsonLength else { return }
            do {
                header = try JSONDecoder().decode(Manifest.Header.self, from: Data(pending[12..<(12 + jsonLength)]))
            } catch {
                throw bad("header: \(error)")
            }
            blocks.reserveCapacity(header!.blockCount)
            pending.removeFirst(12 + jsonLength)
        }
        let packs = UInt32(header!.packs.count)
        let whole = pending.count / Manifest.entrySize * Manifest.entrySize
        try pending.withUnsafeBytes { raw in
            for at in stride(from: 0, to: whole, by: Manifest.entrySize) {
                let id = BlockID(bytes: UnsafeRawBufferPointer(rebasing: raw[at..<(at + BlockIdentity.length)]))
                let pack = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 16, as: UInt32.self))
                guard pack < packs else { throw bad("a block names pack \(pack) of \(packs)") }
                if relative {
                    let length = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 20, as: UInt32.self))
                    let delta = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 24, as: Int64.self))
                    let start = Manifest.relativeStart(of: pack, after: blocks.last)
                    guard let offset = UInt64(exactly: Int64(bitPattern: start) &+ delta) else { throw bad("a block lies before its pack") }
                    blocks.append(Manifest.Block(id: id, pack: pack, offset: offset, length: length))
                } else {
                    blocks.append(Manifest.Block(
                        id: id, pack: pack, offset: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 20, as: UInt64.self)),
                        length: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 28, as: UInt32.self))))
                }
            }
        }
        pending.removeFirst(whole)
    }

    /// The manifest, once every byte was fed.
    func finish() throws -> Manifest {
        guard let header else { throw bad(pending.count < 12 ? "no SQLBINC header" : "header cut short") }
        guard pending.isEmpty else { throw bad("block list cut short") }
        if let pages = header.pageCount, pages * Int64(header.pageSize) != header.snapshotSize {
            throw bad("\(pages) pages of \(header.pageSize) bytes for a \(header.snapshotSize)-byte snapshot")
        }
        guard blocks.count == header.blockCount else { throw bad("\(blocks.count) blocks for a \(header.snapshotSize)-byte snapshot") }
        defer { blocks = [] }
        return Manifest(header: header, blocks: blocks)
    }
}
