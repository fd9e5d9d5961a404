import CBlake3

/// The sum both sides of an `EntryDigest` compute: of each encoded entry, the first 16 bytes of
/// keyed BLAKE3 of the entry padded with zeros to a multiple of 64 bytes, as two little-endian
/// words added modulo 2^64. The padding is harmless: an entry's fields say where it ends (a tag
/// is never 0), so no two entries pad alike. It is what makes the hashing cheap: an entry of one
/// block (most index entries) waits in a batch, and batches are hashed sixteen in SIMD lanes.
final class EntryHasher {
    static let block = 64
    private static let batchSize = 64
    private let key: [UInt8]
    private var batch: [UInt8]
    private var batched = 0
    private var high: UInt64 = 0
    private var low: UInt64 = 0

    init(key: UnsafeRawBufferPointer) {
        precondition(key.count == 32)
        self.key = Array(key)
        batch = [UInt8](repeating: 0, count: Self.block * Self.batchSize)
    }

    /// Hashes `entry` and adds it to the sums.
    func add(_ entry: UnsafeRawBufferPointer) {
        guard entry.count <= Self.block else {
            // Rare (a long text or blob key): hashed on its own, padded the same way.
            let padded = Array(entry) + [UInt8](repeating: 0, count: (Self.block - entry.count % Self.block) % Self.block)
            var out = (UInt64(0), UInt64(0))
            withUnsafeMutableBytes(of: &out) { digest in
                sqlite_backup_blake3_keyed16(key, padded, padded.count, digest.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            high &+= UInt64(littleEndian: out.0)
            low &+= UInt64(littleEndian: out.1)
            return
        }
        batch.withUnsafeMutableBytes { slots in
            let slot = slots.baseAddress! + batched * Self.block
            if let start = entry.baseAddress { slot.copyMemory(from: start, byteCount: entry.count) }
            (slot + entry.count).initializeMemory(as: UInt8.self, repeating: 0, count: Self.block - entry.count)
        }
        batched += 1
        if batched == Self.batchSize { flush() }
    }

    /// The sums of every entry added.
    func sums() -> (high: UInt64, low: UInt64) {
        flush()
        return (high, low)
    }

    private func flush() {
        guard batched > 0 else { return }
        var sums = (high, low)
        withUnsafeMutableBytes(of: &sums) { sqlite_backup_blake3_keyed16_sum(key, batch, batched, $0.baseAddress!.assumingMemoryBound(to: UInt64.self)) }
        (high, low, batched) = (sums.0, sums.1, 0)
    }
}
