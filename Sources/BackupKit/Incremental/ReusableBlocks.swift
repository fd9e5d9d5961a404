/// The stored blocks a new incremental backup may name instead of storing them again: those
/// of the previous manifest of the same database, when it was made with the same key, block
/// size and compression. One entry per id, sorted by id (32 bytes a block, looked up by
/// binary search from every worker thread).
///
/// Space stays bounded by rewriting: the blocks of a pack the previous manifest used less than
/// `minimumPackUse` of are not reused but stored again, so once retention drops the manifests
/// that still name that pack, clean deletes it whole. (A pack this backup empties is noticed
/// by the next backup: the rule lags one backup behind and costs no extra pass.)
struct ReusableBlocks: Sendable {
    /// The share of an old pack's bytes the previous backup must have used for its blocks to be reused.
    static let minimumPackUse = 0.5

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
        sorted = []
        representative = []
        thin = []
        bucketBits = 0
        bucketStarts = [0, 0]
    }

    /// The blocks of `manifest`, except those of `unusablePacks` (numbers of packs that are
    /// gone or damaged), which are stored again like those of thin packs.
    init(previous manifest: consuming Manifest, unusablePacks: Set<Int> = []) {
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
        var byFrame = unique.indices.map { (pack: unique[$0].pack, offset: unique[$0].offset, index: UInt32(truncatingIfNeeded: $0)) }
        byFrame.sort { ($0.pack, $0.offset, $0.index) < ($1.pack, $1.offset, $1.index) }
        var representative = [UInt32](repeating: 0, count: unique.count)
        var first = 0
        while first < byFrame.count {
            let head = byFrame[first]
            used[Int(head.pack)] += Int64(unique[Int(head.index)].length)
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
            unusablePacks.contains($0) || Double(used[$0]) < Self.minimumPackUse * Double(max(1, manifest.header.packs[$0].size))
        }
        packs = manifest.header.packs
        sorted = unique
        self.thin = thin
        thinPacks = thin.filter { $0 }.count
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

    func lookup(_ id: BlockID) -> Verdict {
        let bucket = Self.bucket(of: id, bits: bucketBits)
        var low = Int(bucketStarts[bucket]), high = Int(bucketStarts[bucket + 1])
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle].id < id { low = middle + 1 } else { high = middle }
        }
        guard low < sorted.count, sorted[low].id == id else { return .new }
        return thin[Int(sorted[low].pack)] ? .storeAgain : .reuse(sorted[low], index: Int(representative[low]))
    }

    /// The top `bits` bits of `id` (none when `bits` is 0).
    private static func bucket(of id: BlockID, bits: Int) -> Int {
        bits == 0 ? 0 : Int(id.high >> UInt64(64 - bits))
    }
}
