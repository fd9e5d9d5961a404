import COpenSSL

/// Streaming AES-256-GCM over OpenSSL, with the 16-byte tag kept apart from the ciphertext
/// (the Laju object format): `iv` 12 bytes, no additional authenticated data.
package enum AESGCM {
    package static let ivLength = 12
    package static let tagLength = 16

    /// `EVP_EncryptUpdate` or `EVP_DecryptUpdate`.
    typealias EVPUpdate = (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int32>?, UnsafePointer<UInt8>?, Int32) -> Int32

    /// Runs one update step of either direction into `buffer` and hands the output to `body`.
    static func transform<R>(_ context: OpaquePointer, _ update: EVPUpdate, _ input: UnsafeRawBufferPointer,
                             buffer: inout [UInt8], action: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if buffer.count < input.count + 16 { buffer = [UInt8](repeating: 0, count: input.count + 16) }
        var written: Int32 = 0
        let ok = buffer.withUnsafeMutableBufferPointer { out in
            update(context, out.baseAddress, &written, input.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(input.count))
        }
        guard ok == 1 else { throw BackupError.unexpected("AES-256-GCM \(action) failed") }
        return try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<Int(written)])) }
    }

    /// Encrypts a stream: `update` returns ciphertext of the same length, `finish` the tag.
    package final class Encryptor {
        private let context: OpaquePointer
        private var output: [UInt8] = []

        package init(key: EncryptionKey, iv: [UInt8]) throws {
            guard iv.count == AESGCM.ivLength else { throw BackupError.unexpected("AES-GCM needs a 12-byte IV") }
            context = EVP_CIPHER_CTX_new()!
            let ok = EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(iv.count), nil) == 1
                && EVP_EncryptInit_ex(context, nil, nil, key.bytes, iv) == 1
            guard ok else { throw BackupError.unexpected("OpenSSL could not start AES-256-GCM") }
        }

        deinit { EVP_CIPHER_CTX_free(context) }

        /// Encrypts `plaintext` and hands the ciphertext to `body` (valid only during the call).
        package func update<R>(_ plaintext: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
            try AESGCM.transform(context, EVP_EncryptUpdate, plaintext, buffer: &output, action: "encryption", body)
        }

        /// Ends the stream and returns the 16-byte authentication tag.
        package func finish() throws -> [UInt8] {
            var scratch = [UInt8](repeating: 0, count: 16)
            var written: Int32 = 0
            guard EVP_EncryptFinal_ex(context, &scratch, &written) == 1 else {
                throw BackupError.unexpected("AES-256-GCM finalisation failed")
            }
            var tag = [UInt8](repeating: 0, count: AESGCM.tagLength)
            guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(AESGCM.tagLength), &tag) == 1 else {
                throw BackupError.unexpected("AES-256-GCM tag could not be read")
            }
            return tag
        }
    }

    /// Decrypts a stream. Plaintext from `update` is unauthenticated until `finish` returns
    /// true, so callers write it only to a private temp file and discard it on failure.
    package final class Decryptor {
        private let context: OpaquePointer
        private var output: [UInt8] = []

        package init(key: EncryptionKey, iv: [UInt8], tag: [UInt8]) throws {
            guard !iv.isEmpty, tag.count == AESGCM.tagLength else {
                throw BackupError.unexpected("AES-GCM needs an IV and a 16-byte tag")
            }
            context = EVP_CIPHER_CTX_new()!
            var tagCopy = tag
            let ok = EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(iv.count), nil) == 1
                && EVP_DecryptInit_ex(context, nil, nil, key.bytes, iv) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tag.count), &tagCopy) == 1
            guard ok else { throw BackupError.unexpected("OpenSSL could not start AES-256-GCM") }
        }

        deinit { EVP_CIPHER_CTX_free(context) }

        package func update<R>(_ ciphertext: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
            try AESGCM.transform(context, EVP_DecryptUpdate, ciphertext, buffer: &output, action: "decryption", body)
        }

        /// Whether the tag verified over everything passed to `update`.
        package func finish() -> Bool {
            var scratch = [UInt8](repeating: 0, count: 16)
            var written: Int32 = 0
            return EVP_DecryptFinal_ex(context, &scratch, &written) == 1
        }
    }
}
