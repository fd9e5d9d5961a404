import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's CSPRNG.
package enum SecureRandom {
    package static func bytes(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBytes { RAND_bytes($0.bindMemory(to: UInt8.self).baseAddress, Int32(count)) }
        guard ok == 1 else { throw BackupError.unexpected("OpenSSL could not produce random bytes") }
        return out
    }
}
