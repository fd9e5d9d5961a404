/// The outcome of decoding one stored object, judged by `RestoreVerifier`.
public struct DecodedObject: Sendable {
    public let md5Hex: String
    public let sha256Hex: String
    public let storedSize: Int64
    public let restoredSize: Int64
    /// Whether the GCM tag verified.
    public let authenticated: Bool
    /// Why the decrypted bytes were not a complete gzip stream, if they were not.
    public let decompressionFailure: String?
}

/// The restore codec pipeline: stored bytes → MD5/SHA-256 → AES-256-GCM → gunzip → sink.
/// Decoding keeps digesting and decrypting after a decompression failure so the final
/// verdict can tell a wrong key from a tampered object.
public final class BackupDecoder {
    private let md5 = Digest(.md5)
    private let sha256 = Digest(.sha256)
    private let cipher: AESGCM.Decryptor
    private let gunzip: GzipStreamReader
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    private var storedSize: Int64 = 0
    private var restoredSize: Int64 = 0
    private var decompressionFailure: String?

    public init(key: EncryptionKey, iv: [UInt8], tag: [UInt8], sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        cipher = try AESGCM.Decryptor(key: key, iv: iv, tag: tag)
        gunzip = try GzipStreamReader()
        self.sink = sink
    }

    /// Takes the next run of stored bytes. Throws only when the sink fails (disk full).
    public func consume(_ stored: UnsafeRawBufferPointer) throws {
        md5.update(stored)
        sha256.update(stored)
        storedSize += Int64(stored.count)
        try cipher.update(stored) { plain in
            guard decompressionFailure == nil else { return }
            do {
                try gunzip.feed(plain) { bytes in
                    restoredSize += Int64(bytes.count)
                    try sink(bytes)
                }
            } catch let failure as GzipStreamReader.Failure {
                decompressionFailure = failure.description
            }
        }
    }

    /// Ends the stream and reports what was seen.
    public func finish() -> DecodedObject {
        let authenticated = cipher.finish()
        if decompressionFailure == nil {
            do { try gunzip.finish() } catch { decompressionFailure = "\(error)" }
        }
        return DecodedObject(md5Hex: md5.finish().hexString, sha256Hex: sha256.finish().hexString,
                             storedSize: storedSize, restoredSize: restoredSize,
                             authenticated: authenticated, decompressionFailure: decompressionFailure)
    }
}
