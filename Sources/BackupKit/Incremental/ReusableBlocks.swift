/// The stored blocks a new incremental backup may name instead of storing them again: those
/// of the previous manifest of the same database, when it was made with the same key, block
/// size and compression. One entry per id, sorted by id (32 bytes a block, looked up by
/// binary search from every worker thread).
///
/// Space stays bounded by rewriting: where the snapshot changed (below), the blocks of a pack
/// the previous manifest used less than `minimumPackUse` of are not reused but stored again, so
/// once retention drops the manifests that still name that pack, clean deletes it whole. (A pack
/// this backup empties is noticed by the next backup: the rule lags one backup behind and costs
/// no extra pass.) The blocks of a pack that is gone or damaged are stored again wherever found.
///
/// Restores stay as cheap as the data by compacting as well, where the snapshot changes: a
/// restore fetches a whole frame for any of its blocks, and whole stretches of a pack across
/// dead frames (a request per frame would cost more), so dead bytes left inside used frames
/// and between them cost every later restore. In a chunk of the snapshot that changed, a block
/// is stored again when
/// - it lies in the span of a frame the previous snapshot used less than `minimumFrameUse` of
///   (from the frame's first block to its last used one: the frame's live blocks and the
///   newer blocks filling its holes become one new frame), or
/// - its frame lies in a `segmentBytes` stretch of a pack the previous snapshot used less than
///   `minimumSegmentUse` of.
/// A chunk that did not change stores nothing of these, so an unchanged database uploads a
/// manifest alone.
struct ReusableBlocks: Sendable {
    /// The share of an old pack's bytes the previous backup must have used for its blocks to be reused.
    static let minimumPackUse = 0.5
    /// The share of a frame's span the previous backup must have used for the span to be reused.
    static let minimumFrameUse = 0.75
    /// Stretches of a pack judged on their own, and the share of one the previous backup must
    /// have used for its frames to be reused.
    static let segmentBytes: UInt64 = 1 << 20
    static let minimumSegmentUse = 0.75

    /// What to do with a block of the new snapshot.
    enum Verdict: Sendable {
        /// Name `block` (in the previous manifest's pack numbering); `index` tells stored frames apart.
        case reuse(Manifest.Block, index: Int)
        /// Stored before, in a pack mostly unused now: store it again.
        case storeAgain
        /// Not stored yet.
        case new
    }

    /// The previous manifest's packs, numbered as its blocks name them.
    let packs: [Manifest.Pack]
    /// How many of `packs` are too empty (or unusable) to reuse.
    let thinPacks: Int
    /// Packs never reused (gone or damaged).
    private let unusable: [Bool]
    /// How many frames, and stretches of packs, are used too little to reuse.
    let sparseFrames: Int
    let thinSegments: Int
    /// One bit per block number: the spans of sparse frames.
    private let rewrite: [UInt64]
    /// The thin stretches, as `segment(of:)` names them.
    private let thinSegment: Set<UInt64>
    /// Distinct stored blocks `lookup` may return.
    var count: Int { sorted.count }
    private let sorted: [Manifest.Block]
    /// For each entry of `sorted`, the first entry of its frame (same pack and offset): a frame
    /// holds several blocks, and the bytes a manifest uses count each frame once.
    private let representative: [UInt32]
    private let thin: [Bool]
    /// Where the ids whose top `bucketBits` bits are b start in `sorted` (ids are uniformly
    /// random, so each bucket holds a few and a lookup is a couple of comparisons).
    private let bucketStarts: [Int32]
    private let bucketBits: Int

    /// Nothing to reuse.
    init() {
        packs = []
        thinPacks = 0
        unusable = []
        sparseFrames = 0
        thinSegments = 0
        rewrite = []
        thinSegment = []
        sorted = []
        representative = []
        thin = []
        bucketBits = 0
        bucketStarts = [0, 0]
    }

    /// The blocks of `manifest`, except those of `unusablePacks` (numbers of packs that are
    /// gone or damaged), which are stored again wherever found.
    init(previous manifest: consuming Manifest, unusablePacks: Set<Int> = []) {
        (rewrite, sparseFrames) = Self.sparseSpans(manifest.blocks)
        // Sorted and made unique in place: one array of 32 bytes a block is all it keeps.
        var unique = manifest.blocks
        manifest.blocks = []   // the only reference now: sorted in place, not copied
        unique.sort { $0.id < $1.id }
        var kept = 0
        for index in unique.indices where kept == 0 || unique[kept - 1].id != unique[index].id {
            unique[kept] = unique[index]
            kept += 1
        }
        unique.removeLast(unique.count - kept)
        var used = [Int64](repeating: 0, count: manifest.header.packs.count)
        var segmentUse: [UInt64: Int64] = [:]
        var byFrame = unique.indices.map { (pack: unique[$0].pack, offset: unique[$0].offset, index: UInt32(truncatingIfNeeded: $0)) }
        byFrame.sort { ($0.pack, $0.offset, $0.index) < ($1.pack, $1.offset, $1.index) }
        var representative = [UInt32](repeating: 0, count: unique.count)
        var first = 0
        while first < byFrame.count {
            let head = byFrame[first]
            used[Int(head.pack)] += Int64(unique[Int(head.index)].length)
            // A frame's bytes count in each stretch it covers (frames of large blocks cross them).
            let frame = unique[Int(head.index)]
            var at = frame.offset
            let end = frame.offset &+ UInt64(frame.length)
            while at < end {
                let stretchEnd = min(end, (at / Self.segmentBytes + 1) &* Self.segmentBytes)
                segmentUse[Self.segment(frame.pack, at), default: 0] += Int64(stretchEnd &- at)
                at = stretchEnd
            }
            var member = first
            while member < byFrame.count, byFrame[member].pack == head.pack, byFrame[member].offset == head.offset {
                representative[Int(byFrame[member].index)] = head.index
                member += 1
            }
            first = member
        }
        byFrame = []
        self.representative = representative
        let thin = manifest.header.packs.indices.map {
            Double(used[$0]) < Self.minimumPackUse * Double(max(1, manifest.header.packs[$0].size))
        }
        unusable = manifest.header.packs.indices.map { unusablePacks.contains($0) }
        let thinSegment = Set(segmentUse.filter { key, bytes in
            let pack = manifest.header.packs[Int(key >> 32)]
            let start = (key & UInt64(UInt32.max)) * Self.segmentBytes
            let length = min(Self.segmentBytes, UInt64(max(1, pack.size)) > start ? UInt64(max(1, pack.size)) - start : Self.segmentBytes)
            return Double(bytes) < Self.minimumSegmentUse * Double(length)
        }.keys)
        self.thinSegment = thinSegment
        thinSegments = thinSegment.count
        packs = manifest.header.packs
        sorted = unique
        self.thin = thin
        thinPacks = zip(thin, unusable).filter { $0 || $1 }.count
        var bits = 0
        while bits < 24 && (1 << (bits + 2)) < unique.count { bits += 1 }
        var starts = [Int32](repeating: 0, count: (1 << bits) + 1)
        var at = 0
        for bucket in 0..<(1 << bits) {
            starts[bucket] = Int32(at)
            while at < unique.count && Self.bucket(of: unique[at].id, bits: bits) == bucket { at += 1 }
        }
        starts[1 << bits] = Int32(unique.count)
        bucketBits = bits
        bucketStarts = starts
    }

    /// Whether `block` (found for block `number` of the new snapshot) is to be stored again
    /// where that snapshot changed: it lies in a sparse frame's span, a thin pack, or a thin
    /// stretch of a pack.
    func compacts(_ block: Manifest.Block, at number: Int) -> Bool {
        if number >= 0, number / 64 < rewrite.count, rewrite[number / 64] & (1 << UInt64(number % 64)) != 0 { return true }
        return thin[Int(block.pack)] || thinSegment.contains(Self.segment(block.pack, block.offset))
    }

    /// A stretch of a pack: the pack's number, then which `segmentBytes` of it `offset` lies in.
    private static func segment(_ pack: UInt32, _ offset: UInt64) -> UInt64 {
        UInt64(pack) << 32 | min(offset / segmentBytes, UInt64(UInt32.max))
    }

    /// The spans of the frames `blocks` (a snapshot in order) use less than `minimumFrameUse`
    /// of, as a bitmap of block numbers, and how many frames that is. A frame holds a run of the
    /// snapshot, so its block k (from 0) sat at the first block's number plus k; the span is
    /// up to the last block still used, as a manifest does not say how many blocks a frame holds.
    private static func sparseSpans(_ blocks: [Manifest.Block]) -> ([UInt64], Int) {
        var framed: [(pack: UInt32, offset: UInt64, member: UInt8, number: UInt32)] = []
        for (number, block) in blocks.enumerated() {
            guard let member = block.frame, number <= Int(UInt32.max) else { continue }
            framed.append((block.pack, block.offset, UInt8(truncatingIfNeeded: member), UInt32(number)))
        }
        framed.sort { ($0.pack, $0.offset, $0.member, $0.number) < ($1.pack, $1.offset, $1.member, $1.number) }
        var bits = [UInt64](repeating: 0, count: (blocks.count + 63) / 64)
        var sparse = 0
        var first = 0
        while first < framed.count {
            let head = framed[first]
            var (end, used, span) = (first, 0, 0)
            var lastMember: UInt8?
            while end < framed.count, framed[end].pack == head.pack, framed[end].offset == head.offset {
                if framed[end].member != lastMember { used += 1 }
                lastMember = framed[end].member
                span = Int(framed[end].member) + 1
                end += 1
            }
            // Where the frame's first block sat: from its first used block (the lowest member).
            let start = Int(head.number) - Int(head.member)
            if span >= 2, Double(used) < minimumFrameUse * Double(span), start >= 0 {
                sparse += 1
                for number in start..<min(start + span, blocks.count) { bits[number / 64] |= 1 << UInt64(number % 64) }
            }
            first = end
        }
        return (bits, sparse)
    }

    func lookup(_ id: BlockID) -> Verdict {
        let bucket = Self.bucket(of: id, bits: bucketBits)
        var low = Int(bucketStarts[bucket]), high = Int(bucketStarts[bucket + 1])
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle].id < id { low = middle + 1 } else { high = middle }
        }
        guard low < sorted.count, sorted[low].id == id else { return .new }
        return unusable[Int(sorted[low].pack)] ? .storeAgain : .reuse(sorted[low], index: Int(representative[low]))
    }

    /// The top `bits` bits of `id` (none when `bits` is 0).
    private static func bucket(of id: BlockID, bits: Int) -> Int {
        bits == 0 ? 0 : Int(id.high >> UInt64(64 - bits))
    }
}
