import COpenSSL

/// Seals frames of new blocks as `AESGCM.SealedBox.seal` does (`iv ‖ ciphertext ‖ tag`, a
/// fresh random IV each), with one cipher context whose key schedule is set up once: an
/// incremental base seals the whole database in small frames, and setting the key again for
/// each cost as much as encrypting it. Not shared between threads.
final class BlockSealer {
    private let context: OpaquePointer

    init(key: EncryptionKey) throws {
        context = EVP_CIPHER_CTX_new()!
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(AESGCM.ivLength), nil) == 1,
              EVP_EncryptInit_ex(context, nil, nil, key.bytes, nil) == 1 else {
            EVP_CIPHER_CTX_free(context)
            throw BackupError.unexpected("OpenSSL could not start AES-256-GCM")
        }
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// Appends the sealed box of `plaintext`, with `aad` authenticated, to `output`.
    func seal(_ plaintext: UnsafeRawBufferPointer, aad: [UInt8], into output: inout [UInt8]) throws {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: AESGCM.ivLength + plaintext.count + AESGCM.tagLength))
        let ok = output.withUnsafeMutableBufferPointer { all -> Bool in
            let iv = all.baseAddress! + start
            let body = iv + AESGCM.ivLength
            var written: Int32 = 0
            guard RAND_bytes(iv, Int32(AESGCM.ivLength)) == 1,
                  EVP_EncryptInit_ex(context, nil, nil, nil, iv) == 1,
                  EVP_EncryptUpdate(context, nil, &written, aad, Int32(aad.count)) == 1,
                  EVP_EncryptUpdate(context, body, &written, plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(plaintext.count)) == 1,
                  Int(written) == plaintext.count,
                  EVP_EncryptFinal_ex(context, body + plaintext.count, &written) == 1, written == 0 else { return false }
            return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(AESGCM.tagLength), body + plaintext.count) == 1
        }
        guard ok else {
            output.removeLast(output.count - start)
            throw BackupError.unexpected("AES-256-GCM encryption failed")
        }
    }
}
