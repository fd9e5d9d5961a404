import CBlake3
import Foundation
import Testing
@testable import BackupKit

/// Block ids: the vendored keyed BLAKE3 against the official test vectors
/// (BLAKE3-team/BLAKE3 test_vectors.json: input bytes i % 251, key "whats the Elvish word for
/// friend", the first 16 bytes of `keyed_hash`), the SIMD-lane batch against the one-block
/// hasher, and `BlockIdentity.ids` against `id(of:)` for both schemes.
struct BlockIdentityTests {
    static let key = Array("whats the Elvish word for friend".utf8)
    static let vectors: [(length: Int, prefix: String)] = [
        (0, "92b2b75604ed3c761f9d6f62392c8a92"), (1, "6d7878dfff2f485635d39013278ae14f"),
        (1023, "c951ecdf03288d0fcc96ee3413563d8a"), (1024, "75c46f6f3d9eb4f55ecaaee480db732e"),
        (2048, "879cf1fa2ea0e79126cb1063617a05b6"), (4096, "befc660aea2f1718884cd8deb9902811"),
        (8192, "dc9637c8845a770b4cbf76b8daec0eeb"), (31744, "efa53b389ab67c593dba624d898d0f73"),
        (102400, "1c35d1a5811083fd7119f5d5d1ba027b"),
    ]

    static func input(_ length: Int) -> [UInt8] { (0..<length).map { UInt8($0 % 251) } }

    @Test("keyed BLAKE3 gives the official vectors, one block at a time and, for 2, 4 and 8 KiB, in lanes (17 copies: past one batch of 16)")
    func officialVectors() {
        for (length, prefix) in Self.vectors {
            var out = [UInt8](repeating: 0, count: 16)
            let data = Self.input(length)
            sqlite_backup_blake3_keyed16(Self.key, data, data.count, &out)
            #expect(out.hexString == prefix, "length \(length)")
            guard [2048, 4096, 8192].contains(length) else { continue }
            let copies = Array([[UInt8]](repeating: data, count: 17).joined())
            var batch = [UInt8](repeating: 0, count: 17 * 16)
            #expect(sqlite_backup_blake3_keyed16_blocks(Self.key, copies, length, 17, &batch) == 0)
            for n in 0..<17 { #expect(Array(batch[(n * 16)..<(n * 16 + 16)]).hexString == prefix, "length \(length), copy \(n)") }
        }
    }

    @Test("the lanes equal the one-block hasher on random blocks of every block size from 2 to 64 KiB; other sizes are refused")
    func lanesEqualHasher() {
        var data = [UInt8](repeating: 0, count: 40 * 65536)
        for i in data.indices { data[i] = UInt8.random(in: 0...255) }
        for size in [2048, 4096, 8192, 16384, 32768, 65536] {
            let count = min(37, data.count / size)
            var batch = [UInt8](repeating: 0, count: count * 16)
            #expect(sqlite_backup_blake3_keyed16_blocks(Self.key, data, size, count, &batch) == 0)
            for n in 0..<count {
                var one = [UInt8](repeating: 0, count: 16)
                data.withUnsafeBufferPointer { sqlite_backup_blake3_keyed16(Self.key, $0.baseAddress! + n * size, size, &one) }
                #expect(Array(batch[(n * 16)..<(n * 16 + 16)]) == one, "size \(size), block \(n)")
            }
        }
        var untouched = [UInt8](repeating: 7, count: 16)
        for size in [512, 1024, 3072, 131072, 4095] {
            #expect(sqlite_backup_blake3_keyed16_blocks(Self.key, data, size, 1, &untouched) == -1, "size \(size)")
        }
        #expect(untouched == [UInt8](repeating: 7, count: 16))
    }

    @Test("BlockIdentity.ids equals id(of:) block by block, a short last block included, for both schemes; the schemes and keys give different ids")
    func idsEqualOneByOne() throws {
        let key = try EncryptionKey(bytes: (0..<32).map { UInt8($0 * 3) })
        var data = [UInt8](repeating: 0, count: 70 * 4096 + 1536)
        for i in data.indices { data[i] = UInt8.random(in: 0...255) }
        var seen: [BlockIDScheme: [BlockID]] = [:]
        for scheme in [BlockIDScheme.blake3, .hmacSHA256] {
            let identity = BlockIdentity(key: key, scheme: scheme)
            var ids: [BlockID] = []
            data.withUnsafeBytes { identity.ids(of: $0, blockSize: 4096, into: &ids) }
            let one = data.withUnsafeBytes { all in
                stride(from: 0, to: all.count, by: 4096).map { identity.id(of: UnsafeRawBufferPointer(rebasing: all[$0..<min($0 + 4096, all.count)])) }
            }
            #expect(ids == one && ids.count == 71, "\(scheme)")
            seen[scheme] = ids
        }
        #expect(seen[.blake3]![0] != seen[.hmacSHA256]![0])
        let other = BlockIdentity(key: try EncryptionKey(bytes: [UInt8](repeating: 1, count: 32)), scheme: .blake3)
        #expect(data.withUnsafeBytes { other.id(of: UnsafeRawBufferPointer(rebasing: $0[0..<4096])) } != seen[.blake3]![0])
    }

}
