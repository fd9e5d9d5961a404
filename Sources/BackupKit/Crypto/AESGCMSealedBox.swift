import COpenSSL

extension AESGCM {
    /// One block sealed on its own, as incremental backups store blocks: `iv ‖ ciphertext ‖ tag`,
    /// with `aad` (the block's id) authenticated but not stored, so a block can only ever be
    /// opened as the block it was sealed for.
    package enum SealedBox {
        /// Bytes a sealed box adds to its plaintext.
        package static let overhead = AESGCM.ivLength + AESGCM.tagLength

        /// Seals `plaintext` under a fresh random IV and appends the box to `output`.
        package static func seal(_ plaintext: UnsafeRawBufferPointer, key: EncryptionKey, aad: [UInt8],
                                 into output: inout [UInt8]) throws {
            let iv = try SecureRandom.bytes(AESGCM.ivLength)
            let context = EVP_CIPHER_CTX_new()!
            defer { EVP_CIPHER_CTX_free(context) }
            var written: Int32 = 0
            var ok = EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(iv.count), nil) == 1
                && EVP_EncryptInit_ex(context, nil, nil, key.bytes, iv) == 1
                && EVP_EncryptUpdate(context, nil, &written, aad, Int32(aad.count)) == 1
            guard ok else { throw BackupError.unexpected("OpenSSL could not start AES-256-GCM") }
            let start = output.count
            output.append(contentsOf: iv)
            output.append(contentsOf: repeatElement(0, count: plaintext.count + AESGCM.tagLength))
            ok = output.withUnsafeMutableBufferPointer { out in
                EVP_EncryptUpdate(context, out.baseAddress! + start + iv.count, &written,
                                  plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(plaintext.count)) == 1
            }
            guard ok, Int(written) == plaintext.count else { throw BackupError.unexpected("AES-256-GCM encryption failed") }
            var scratch = [UInt8](repeating: 0, count: 16)
            var tag = [UInt8](repeating: 0, count: AESGCM.tagLength)
            guard EVP_EncryptFinal_ex(context, &scratch, &written) == 1,
                  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tag.count), &tag) == 1 else {
                throw BackupError.unexpected("AES-256-GCM finalisation failed")
            }
            // The 16 bytes reserved after the ciphertext take the tag.
            output.replaceSubrange((output.count - tag.count)..<output.count, with: tag)
        }

        /// Opens a box sealed for `aad`; nil when it does not authenticate (wrong key, wrong
        /// block, altered bytes).
        package static func open(_ box: UnsafeRawBufferPointer, key: EncryptionKey, aad: [UInt8]) -> [UInt8]? {
            guard box.count >= overhead else { return nil }
            let iv = Array(box[0..<AESGCM.ivLength])
            var tag = Array(box[(box.count - AESGCM.tagLength)...])
            let ciphertext = UnsafeRawBufferPointer(rebasing: box[AESGCM.ivLength..<(box.count - AESGCM.tagLength)])
            let context = EVP_CIPHER_CTX_new()!
            defer { EVP_CIPHER_CTX_free(context) }
            var written: Int32 = 0
            var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
            let ok = EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(iv.count), nil) == 1
                && EVP_DecryptInit_ex(context, nil, nil, key.bytes, iv) == 1
                && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tag.count), &tag) == 1
                && EVP_DecryptUpdate(context, nil, &written, aad, Int32(aad.count)) == 1
                && plaintext.withUnsafeMutableBufferPointer { out in
                    EVP_DecryptUpdate(context, out.baseAddress, &written,
                                      ciphertext.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(ciphertext.count)) == 1
                }
            guard ok, Int(written) == ciphertext.count else { return nil }
            var scratch = [UInt8](repeating: 0, count: 16)
            var final: Int32 = 0
            guard EVP_DecryptFinal_ex(context, &scratch, &final) == 1 else { return nil }
            plaintext.removeLast(plaintext.count - ciphertext.count)
            return plaintext
        }
    }
}
