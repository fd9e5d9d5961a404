import Foundation

/// What a restore did (the `--json` shape of `restore`, where the object key is `key`).
package struct RestoreResult: Encodable, Sendable {
    package var ok = true
    package let objectKey: String
    /// The restored file, or the SQL dump with `--sql`.
    package let output: String?
    /// `sqlite`, `sql` (a dump), or nil for `--verify-only` and `--target`.
    package let format: String?
    package let target: String?
    package let safetySnapshot: String?
    package let verifyOnly: Bool
    package let storedSize: Int64
    package let restoredSize: Int64
    package let checksum: String
    package let integrityCheck: String
    /// The id of the key that decrypted it.
    package let keyID: String
    package let durationSeconds: Double

    enum CodingKeys: String, CodingKey {
        case ok, output, format, target, safetySnapshot, verifyOnly, storedSize, restoredSize, checksum
        case integrityCheck, keyID, durationSeconds
        case objectKey = "key"
    }
}
