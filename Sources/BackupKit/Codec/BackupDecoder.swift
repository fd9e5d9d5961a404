/// The restore codec pipeline, stages running concurrently with bounded queues between them:
///
///     download thread ──stored bytes──▶ [MD5 +] AES-256-GCM thread ──compressed──▶ caller:
///     (storage)                                                          decompress, sink (file)
///
/// Decoding keeps hashing and decrypting after a decompression failure, so the verdict can
/// tell a wrong key from a tampered object. Memory: a few queued chunks, whatever the size.
package final class BackupDecoder {
    private let key: EncryptionKey
    private let iv: [UInt8]
    private let tag: [UInt8]
    private let algorithm: CompressionAlgorithm
    static let queueDepth = 4

    package init(key: EncryptionKey, iv: [UInt8], tag: [UInt8], algorithm: CompressionAlgorithm = .gzip) {
        self.key = key
        self.iv = iv
        self.tag = tag
        self.algorithm = algorithm
    }

    /// Runs `download` (which hands stored bytes to its argument, in order) on its own thread
    /// and decodes what it delivers into `sink`. Throws what `download` or `sink` threw.
    /// `checksum` false skips the MD5 of the stored bytes (a tenth of a restore's CPU) where
    /// the tag says all it would.
    package func decode(checksum: Bool = true, download: @escaping @Sendable (_ deliver: (UnsafeRawBufferPointer) throws -> Void) throws -> Void,
                       into sink: (UnsafeRawBufferPointer) throws -> Void) throws -> DecodedObject {
        let (key, iv, tag) = (self.key, self.iv, self.tag)
        let decompressor = try algorithm.makeStreamDecompressor()
        let stored = BoundedQueue<[UInt8]>(capacity: Self.queueDepth)
        let plain = BoundedQueue<[UInt8]>(capacity: Self.queueDepth)
        // A chunk's buffer goes back to its pool once the next stage is done with it.
        let storedBuffers = BufferPool(limit: Self.queueDepth + 2)
        let plainBuffers = BufferPool(limit: Self.queueDepth + 2)
        let verdict = DecryptVerdict()

        let downloader = BackgroundTask(name: "restore-download") {
            do {
                try download { bytes in try stored.push(storedBuffers.copy(of: bytes)) }
                stored.close()
            } catch {
                stored.fail(error)
                plain.fail(error)
            }
        }
        let decryptor = BackgroundTask(name: "restore-decrypt") {
            do {
                let cipher = try AESGCM.Decryptor(key: key, iv: iv, tag: tag)
                let md5 = checksum ? Digest(.md5) : nil
                var size: Int64 = 0
                while let chunk = try stored.pop() {
                    try chunk.withUnsafeBytes { bytes in
                        md5?.update(bytes)
                        size += Int64(bytes.count)
                        try cipher.update(bytes) { try plain.push(plainBuffers.copy(of: $0)) }
                    }
                    storedBuffers.give(consume chunk)
                }
                verdict.set(md5Hex: md5?.finish().hexString, storedSize: size, authenticated: cipher.finish())
                plain.close()
            } catch {
                stored.fail(error)
                plain.fail(error)
            }
        }

        var restoredSize: Int64 = 0
        var decompressionFailure: String?
        do {
            while let chunk = try plain.pop() {
                guard decompressionFailure == nil else { continue }
                do {
                    try chunk.withUnsafeBytes { bytes in
                        try decompressor.feed(bytes) { output in
                            restoredSize += Int64(output.count)
                            try sink(output)
                        }
                    }
                } catch let failure as DecompressionFailure {
                    decompressionFailure = failure.description
                }
                plainBuffers.give(consume chunk)
            }
        } catch {
            stored.fail(error)
            plain.fail(error)
            try? downloader.join()
            try? decryptor.join()
            throw error
        }
        try downloader.join()
        try decryptor.join()
        if decompressionFailure == nil {
            do {
                try decompressor.finish { output in
                    restoredSize += Int64(output.count)
                    try sink(output)
                }
            } catch let failure as DecompressionFailure {
                decompressionFailure = failure.description
            }
        }
        return DecodedObject(md5Hex: verdict.md5Hex, storedSize: verdict.storedSize, restoredSize: restoredSize,
                             authenticated: verdict.authenticated, decompressionFailure: decompressionFailure)
    }
}

/// What the decrypt stage learned, handed to the caller.
private final class DecryptVerdict: @unchecked Sendable {
    private(set) var md5Hex: String?
    private(set) var storedSize: Int64 = 0
    private(set) var authenticated = false

    func set(md5Hex: String?, storedSize: Int64, authenticated: Bool) {
        self.md5Hex = md5Hex
        self.storedSize = storedSize
        self.authenticated = authenticated
    }
}
