import Foundation
import Testing
@testable import BackupKit

/// AES-256-GCM against the test cases of McGrew and Viega's GCM specification (test cases
/// 13-15: the 256-bit key ones without additional data), and the digests against FIPS/RFC values.
struct CryptoTests {
    struct Vector: Sendable, CustomStringConvertible {
        let name: String, key: String, iv: String, plaintext: String, ciphertext: String, tag: String
        var description: String { name }
    }

    static let gcmVectors = [
        Vector(name: "test case 13", key: String(repeating: "0", count: 64), iv: String(repeating: "0", count: 24),
               plaintext: "", ciphertext: "", tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        Vector(name: "test case 14", key: String(repeating: "0", count: 64), iv: String(repeating: "0", count: 24),
               plaintext: String(repeating: "0", count: 32), ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
               tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        Vector(name: "test case 15",
               key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", iv: "cafebabefacedbaddecaf888",
               plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
               ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
               tag: "b094dac5d93471bdec1a502270e3cc6c"),
    ]

    static func hex(_ text: String) -> [UInt8] { EncryptionKey.hexBytes(text)! }

    @Test("AES-256-GCM encrypts the GCM specification's vectors, fed in uneven pieces", arguments: gcmVectors)
    func encryptionMatchesPublishedVectors(_ v: Vector) throws {
        let encryptor = try AESGCM.Encryptor(key: EncryptionKey(bytes: Self.hex(v.key)), iv: Self.hex(v.iv))
        let plaintext = Self.hex(v.plaintext)
        var ciphertext: [UInt8] = []
        var offset = 0
        for size in [1, 7, 16, 1000] where offset < plaintext.count {
            let end = min(plaintext.count, offset + size)
            try plaintext[offset..<end].withUnsafeBytes { try encryptor.update($0) { ciphertext += $0 } }
            offset = end
        }
        #expect(ciphertext.hexString == v.ciphertext)
        #expect(try encryptor.finish().hexString == v.tag)
    }

    @Test("AES-256-GCM decrypts the vectors and rejects a wrong tag", arguments: gcmVectors)
    func decryptionVerifiesTheTag(_ v: Vector) throws {
        let key = try EncryptionKey(bytes: Self.hex(v.key))
        let good = try AESGCM.Decryptor(key: key, iv: Self.hex(v.iv), tag: Self.hex(v.tag))
        var plaintext: [UInt8] = []
        try Self.hex(v.ciphertext).withUnsafeBytes { try good.update($0) { plaintext += $0 } }
        #expect(plaintext.hexString == v.plaintext)
        #expect(good.finish())

        var badTag = Self.hex(v.tag)
        badTag[0] ^= 1
        let bad = try AESGCM.Decryptor(key: key, iv: Self.hex(v.iv), tag: badTag)
        try Self.hex(v.ciphertext).withUnsafeBytes { try bad.update($0) { _ in } }
        #expect(!bad.finish())
    }

    @Test("MD5 and SHA-256 give the published digests of 'abc'")
    func digestsMatchPublishedValues() {
        let abc = Array("abc".utf8)
        #expect(Digest.hash(.md5, abc).hexString == "900150983cd24fb0d6963f7d28e17f72")
        #expect(Digest.hash(.sha256, abc).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("random bytes differ between calls")
    func randomBytesAreFresh() throws {
        #expect(try SecureRandom.bytes(16) != SecureRandom.bytes(16))
    }

    @Test("a block sealer's boxes open as sealed boxes for their id only, each under a fresh IV, one context for many blocks")
    func blockSealerBoxes() throws {
        let key = try EncryptionKey(bytes: (0..<32).map { UInt8($0) })
        let sealer = try BlockSealer(key: key)
        var out: [UInt8] = [9, 9]   // appended after what is there
        let id = BlockID(high: 0x0102030405060708, low: 0x1112131415161718)
        var boxes: [[UInt8]] = []
        for size in [0, 1, 4096, 70_000, 4096] {
            let plain = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let start = out.count
            try plain.withUnsafeBytes { try sealer.seal($0, aad: id.bytes, into: &out) }
            let box = Array(out[start...])
            #expect(box.count == size + AESGCM.SealedBox.overhead)
            #expect(box.withUnsafeBytes { AESGCM.SealedBox.open($0, key: key, aad: id.bytes) } == plain, "size \(size)")
            let other = BlockID(high: id.high, low: id.low ^ 1)
            #expect(box.withUnsafeBytes { AESGCM.SealedBox.open($0, key: key, aad: other.bytes) } == nil, "another id does not open it")
            boxes.append(box)
        }
        #expect(Array(out.prefix(2)) == [9, 9])
        #expect(boxes[2] != boxes[4], "the same block sealed twice differs (fresh IV)")
        #expect(Array(boxes[2].prefix(12)) != Array(boxes[4].prefix(12)))
    }
}
