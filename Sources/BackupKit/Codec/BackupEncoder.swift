import Foundation

/// What the encoder learned about the object it produced.
public struct EncodedObject: Sendable {
    public let iv: [UInt8]
    public let tag: [UInt8]
    /// MD5 of the stored bytes, lower-case hex (the `checksum` field).
    public let md5Hex: String
    /// SHA-256 of the stored bytes, lower-case hex.
    public let sha256Hex: String
    /// Bytes of the snapshot that went in.
    public let sourceSize: Int64
    /// Bytes of the object that came out.
    public let storedSize: Int64
}

/// The backup codec pipeline: snapshot bytes → gzip members → AES-256-GCM → MD5/SHA-256,
/// streamed to a sink in blocks, so memory stays at a few blocks whatever the database size.
public final class BackupEncoder {
    /// Bytes of snapshot per gzip member.
    public static let defaultBlockSize = 1 << 20

    private let key: EncryptionKey
    private let level: Int
    private let blockSize: Int

    public init(key: EncryptionKey, level: Int, blockSize: Int = BackupEncoder.defaultBlockSize) {
        self.key = key
        self.level = level
        self.blockSize = blockSize
    }

    /// Encodes the file at `path`, handing each run of stored bytes to `sink` in order.
    public func encode(file path: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> EncodedObject {
        let input = try FileDescriptor.openForReading(path)
        let iv = try SecureRandom.bytes(AESGCM.ivLength)
        let compressor = try GzipMemberWriter(level: level)
        let cipher = try AESGCM.Encryptor(key: key, iv: iv)
        let md5 = Digest(.md5)
        let sha256 = Digest(.sha256)
        var block = [UInt8](repeating: 0, count: blockSize)
        var sourceSize: Int64 = 0
        var storedSize: Int64 = 0

        func emit(_ plain: UnsafeRawBufferPointer) throws {
            try cipher.update(plain) { sealed in
                md5.update(sealed)
                sha256.update(sealed)
                storedSize += Int64(sealed.count)
                try sink(sealed)
            }
        }

        var sawAnyBlock = false
        while true {
            let filled = try block.withUnsafeMutableBytes { try Self.fill($0, from: input) }
            if filled == 0 && sawAnyBlock { break }
            sawAnyBlock = true
            sourceSize += Int64(filled)
            try block.withUnsafeBytes { whole in
                try compressor.compressMember(UnsafeRawBufferPointer(rebasing: whole[0..<filled])) { try emit($0) }
            }
            if filled < blockSize { break }
        }
        let tag = try cipher.finish()
        return EncodedObject(iv: iv, tag: tag, md5Hex: md5.finish().hexString, sha256Hex: sha256.finish().hexString,
                             sourceSize: sourceSize, storedSize: storedSize)
    }

    /// Reads until `buffer` is full or the file ends.
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer, from input: FileDescriptor) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}
