import Foundation
import Glibc

/// A 256-bit AES key. Its bytes never appear in `description`, logs or errors.
package struct EncryptionKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The raw 32 bytes.
    package let bytes: [UInt8]

    package init(bytes: [UInt8]) throws {
        guard bytes.count == 32 else { throw BackupError.malformedEncryptionKey(source: "the key") }
        self.bytes = bytes
    }

    /// Parses a key with Laju's rule, trying in order: base64 that decodes to 32 bytes,
    /// 64 hex digits, then a string of exactly 32 UTF-8 bytes. `source` names where it came
    /// from in the error.
    package static func parse(_ text: String, source: String) throws -> EncryptionKey {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let data = Data(base64Encoded: trimmed), data.count == 32 {
            return try EncryptionKey(bytes: Array(data))
        }
        if trimmed.count == 64, let bytes = hexBytes(trimmed) {
            return try EncryptionKey(bytes: bytes)
        }
        let utf8 = Array(trimmed.utf8)
        if utf8.count == 32 {
            return try EncryptionKey(bytes: utf8)
        }
        throw BackupError.malformedEncryptionKey(source: source)
    }

    /// Reads and parses a key file (its whole content, surrounding white space ignored).
    package static func load(file path: String) throws -> EncryptionKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = Files.exists(path) ? "permission denied" : "no such file"
            throw BackupError.unreadableKeyFile(path: path, reason: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw BackupError.malformedEncryptionKey(source: "the key file \(path)")
        }
        return try parse(text, source: "the key file \(path)")
    }

    /// The key from the environment: `BACKUP_ENCRYPTION_KEY_FILE` wins over
    /// `BACKUP_ENCRYPTION_KEY`; an explicit `keyFile` (a flag) wins over both.
    package static func resolve(keyFile: String?, environment: Environment) throws -> EncryptionKey {
        if let path = keyFile ?? environment["BACKUP_ENCRYPTION_KEY_FILE"] {
            return try load(file: path)
        }
        if let text = environment["BACKUP_ENCRYPTION_KEY"] {
            return try parse(text, source: "BACKUP_ENCRYPTION_KEY")
        }
        throw BackupError.missingEncryptionKey
    }

    /// A fresh random key written as base64.
    package static func generateBase64() throws -> String {
        Data(try SecureRandom.bytes(32)).base64EncodedString()
    }

    /// Whether a key file can be read by group or others (worth a warning).
    package static func isLooselyProtected(file path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_mode & 0o077 != 0
    }

    /// The key's id: 16 hex digits of HMAC-SHA256(key, "sqlite-s3-backup key id"). It names
    /// a key in metadata and messages without revealing anything about it.
    package var id: String {
        Array(HMACSHA256.mac(key: bytes, message: Array("sqlite-s3-backup key id".utf8)).prefix(8)).hexString
    }

    package var description: String { "EncryptionKey(<redacted>)" }
    package var debugDescription: String { description }

    static func hexBytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for c in text.utf8 {
            let nibble: UInt8
            switch c {
            case 48...57: nibble = c - 48
            case 97...102: nibble = c - 87
            case 65...70: nibble = c - 55
            default: return nil
            }
            if let h = high { bytes.append(h << 4 | nibble); high = nil } else { high = nibble }
        }
        return high == nil ? bytes : nil
    }
}
