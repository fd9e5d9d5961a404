import COpenSSL

/// A streaming message digest (MD5 or SHA-256) over OpenSSL's EVP interface.
package final class Digest {
    package enum Algorithm: Sendable {
        case md5
        case sha256

        fileprivate var evp: OpaquePointer? {
            switch self {
            case .md5: return EVP_md5()
            case .sha256: return EVP_sha256()
            }
        }
    }

    private let context: OpaquePointer

    package init(_ algorithm: Algorithm) {
        context = EVP_MD_CTX_new()!
        precondition(EVP_DigestInit_ex(context, algorithm.evp, nil) == 1, "EVP_DigestInit_ex failed")
    }

    deinit { EVP_MD_CTX_free(context) }

    package func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    package func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest; the object must not be used afterwards.
    package func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return Array(out[0..<Int(length)])
    }

    /// The digest of `bytes` in one call.
    package static func hash(_ algorithm: Algorithm, _ bytes: [UInt8]) -> [UInt8] {
        let digest = Digest(algorithm)
        digest.update(bytes)
        return digest.finish()
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hexadecimal.
    package var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
