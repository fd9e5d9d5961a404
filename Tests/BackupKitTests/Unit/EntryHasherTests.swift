import Foundation
import Testing
import CBlake3
@testable import BackupKit

/// The split integrity check's entry hashing: sixteen one-block entries at a time in SIMD lanes
/// must give exactly what keyed BLAKE3 (the vendored hasher, checked against the official
/// vectors in BlockIdentityTests) gives each entry padded with zeros to 64 bytes.
struct EntryHasherTests {
    static let key = (0..<32).map { UInt8($0 * 7 & 0xFF) }

    /// The sums one entry at a time, through BLAKE3's own hasher.
    static func expected(_ entries: [[UInt8]]) -> (UInt64, UInt64) {
        var (high, low) = (UInt64(0), UInt64(0))
        for entry in entries {
            let padded = entry + [UInt8](repeating: 0, count: (64 - entry.count % 64) % 64)
            var out = [UInt8](repeating: 0, count: 16)
            sqlite_backup_blake3_keyed16(key, padded, padded.count, &out)
            high &+= out[0..<8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
            low &+= out[8..<16].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        return (high, low)
    }

    @Test("batched sums equal keyed BLAKE3 of each padded entry, for every length up to three blocks and batches of any size",
          arguments: [1, 15, 16, 17, 63, 64, 65, 200])
    func batchesMatchTheHasher(count: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let entries = (0..<count).map { n in (0..<(1 + (n * 37) % 192)).map { _ in UInt8.random(in: 1...255, using: &generator) } }
        let hasher = Self.key.withUnsafeBytes { EntryHasher(key: $0) }
        for entry in entries { entry.withUnsafeBytes { hasher.add($0) } }
        let (high, low) = hasher.sums()
        #expect(high == Self.expected(entries).0 && low == Self.expected(entries).1)
    }

    @Test("an entry and the same entry with a zero byte more hash differently; the sums are a multiset's (order-free)")
    func paddingAndOrder() throws {
        func sums(_ entries: [[UInt8]]) -> (UInt64, UInt64) {
            let hasher = Self.key.withUnsafeBytes { EntryHasher(key: $0) }
            for entry in entries { entry.withUnsafeBytes { hasher.add($0) } }
            return hasher.sums()
        }
        let a: [UInt8] = [1, 2, 3], b: [UInt8] = [4, 5]
        #expect(sums([a]) == Self.expected([a]))
        #expect(sums([a, b]) == sums([b, a]))
        #expect(sums([a]) != sums([b]))
    }
}
