/// A run of whole blocks of the snapshot, as the incremental writer's reader hands it out.
struct Chunk: Sendable {
    let index: Int
    /// A buffer of the writer's pool; its first `count` bytes are the chunk.
    let bytes: [UInt8]
    let count: Int

    /// The associated data every frame is sealed with. Frames hold several blocks, so no one
    /// block's id can bind them; each block is bound to its place by its keyed id instead,
    /// checked after the frame opens. (Blocks sealed on their own, before frames, carry their id.)
    static let frameLabel = Array("sqlite-s3-backup frame v1".utf8)

    /// Names every block, looks it up, and stores the others in frames: each run of blocks to
    /// store, up to `frameBlocks` of them, compressed as one and sealed as one into `sealed`
    /// (an empty buffer of the writer's pool). Runs compress nearly as well as the whole
    /// database does, where 4 KiB blocks compressed one by one stored a fifth more.
    func seal(blockSize: Int, firstBlock: Int, frameBlocks: Int, identity: BlockIdentity, reusable: ReusableBlocks,
              compressor: any BlockCompressor, sealer: BlockSealer, sealed: consuming [UInt8]) throws -> SealedChunk {
        var result = SealedChunk(buffer: bytes, count: count, sealed: sealed)
        let blocks = (count + blockSize - 1) / blockSize
        result.ids.reserveCapacity(blocks)
        result.verdicts.reserveCapacity(blocks)
        result.members.reserveCapacity(blocks)
        try bytes.withUnsafeBytes { all in
            identity.ids(of: UnsafeRawBufferPointer(rebasing: all[0..<count]), blockSize: blockSize, into: &result.ids)
            for id in result.ids { result.verdicts.append(reusable.lookup(id)) }
            // Where the snapshot changed, blocks in sparse frames and thin stretches of packs go again.
            if result.verdicts.contains(where: { if case .new = $0 { return true } else { return false } }) {
                for (n, verdict) in result.verdicts.enumerated() {
                    if case .reuse(let block, _) = verdict, reusable.compacts(block, at: firstBlock + n) { result.verdicts[n] = .storeAgain }
                }
            }
            var first = 0
            while first < blocks {
                if case .reuse = result.verdicts[first] {
                    result.members.append(0)
                    first += 1
                    continue
                }
                var end = first + 1
                while end < blocks, end - first < frameBlocks {
                    if case .reuse = result.verdicts[end] { break }
                    end += 1
                }
                let run = UnsafeRawBufferPointer(rebasing: all[(first * blockSize)..<min(end * blockSize, count)])
                let before = result.sealed.count
                try compressor.compress(run) { compressed in
                    try sealer.seal(compressed, aad: Self.frameLabel, into: &result.sealed)
                }
                result.frames.append(result.sealed.count - before)
                for member in 0..<(end - first) { result.members.append(UInt8(member + 1)) }
                first = end
            }
        }
        return result
    }
}

/// A chunk's blocks named and judged: ids, verdicts, and the frames of the blocks that must be
/// stored, sealed one after another in `sealed` (`frames` says each one's length; `members`
/// each block's place in its frame plus one, 0 for a reused block).
struct SealedChunk: Sendable {
    /// Taken back (`buffer = []`) before it returns to the pool, so the reader refills it in
    /// place instead of copying it.
    var buffer: [UInt8]
    let count: Int
    var ids: [BlockID] = []
    var verdicts: [ReusableBlocks.Verdict] = []
    var members: [UInt8] = []
    var frames: [Int] = []
    /// Taken back like `buffer` once written.
    var sealed: [UInt8]

    init(buffer: [UInt8], count: Int, sealed: consuming [UInt8]) {
        self.buffer = buffer
        self.count = count
        self.sealed = sealed
    }
}
