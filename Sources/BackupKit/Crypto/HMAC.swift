import COpenSSL

/// HMAC-SHA256 over OpenSSL.
package enum HMACSHA256 {
    package static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &out, &length)
        return Array(out[0..<Int(length)])
    }
}
