/// A run of whole blocks of the snapshot, as the incremental writer's reader hands it out.
struct Chunk: Sendable {
    let index: Int
    /// A buffer of the writer's pool; its first `count` bytes are the chunk.
    let bytes: [UInt8]
    let count: Int

    /// Names every block, looks it up, and compresses and seals those that must be stored.
    /// `sealed` is an empty buffer of the writer's pool, filled with the sealed new blocks.
    func seal(blockSize: Int, identity: BlockIdentity, reusable: ReusableBlocks, compressor: any BlockCompressor,
              sealer: BlockSealer, sealed: consuming [UInt8]) throws -> SealedChunk {
        var result = SealedChunk(buffer: bytes, count: count, sealed: sealed)
        let blocks = (count + blockSize - 1) / blockSize
        result.ids.reserveCapacity(blocks)
        result.verdicts.reserveCapacity(blocks)
        result.lengths.reserveCapacity(blocks)
        try bytes.withUnsafeBytes { all in
            for start in stride(from: 0, to: count, by: blockSize) {
                let block = UnsafeRawBufferPointer(rebasing: all[start..<min(start + blockSize, count)])
                let id = identity.id(of: block)
                let verdict = reusable.lookup(id)
                result.ids.append(id)
                result.verdicts.append(verdict)
                if case .reuse = verdict {
                    result.lengths.append(0)
                    continue
                }
                let before = result.sealed.count
                try compressor.compress(block) { compressed in
                    try sealer.seal(compressed, aad: id, into: &result.sealed)
                }
                result.lengths.append(UInt32(result.sealed.count - before))
            }
        }
        return result
    }
}

/// A chunk's blocks named and judged: ids, verdicts, and the sealed bytes of the blocks that
/// must be stored, one after another (`lengths` says each one's size, 0 for reused blocks).
/// It carries the chunk's buffer on, for the whole snapshot's SHA-256 and back to the pool.
struct SealedChunk: Sendable {
    /// Taken back (`buffer = []`) before it returns to the pool, so the reader refills it in
    /// place instead of copying it.
    var buffer: [UInt8]
    let count: Int
    var ids: [BlockID] = []
    var verdicts: [ReusableBlocks.Verdict] = []
    var lengths: [UInt32] = []
    /// Taken back like `buffer` once written.
    var sealed: [UInt8]

    init(buffer: [UInt8], count: Int, sealed: consuming [UInt8]) {
        self.buffer = buffer
        self.count = count
        self.sealed = sealed
    }
}
