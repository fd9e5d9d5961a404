import Foundation

/// Authenticates what an object says about itself. Every object the suite writes (a full
/// backup, a manifest, a pack) carries `mac`: HMAC-SHA256 under a key derived from the
/// encryption key (its own label, never the encryption key itself) over the object key and
/// every field that a decision reads. The catalog row keeps the same sealed metadata, so a
/// row proves itself the same way. Anyone who can write to the bucket or folder but holds no
/// key can copy, rename, re-date or invent objects; none of them verifies.
///
/// The MAC is an extra field, never GCM associated data, so full objects stay byte for byte
/// what Laju's reader decrypts.
package struct MetadataSeal: Sendable {
    /// The MAC key's label: HMAC-SHA256(encryption key, label).
    static let label = Array("sqlite-s3-backup metadata mac v1".utf8)

    /// The fields the MAC covers, in this order, after the object key. Absent fields count as
    /// empty, so removing one breaks the MAC as changing it does.
    static let coveredFields: [String] = {
        typealias F = ObjectMetadata.Field
        return [F.format, F.kind, F.database, F.databasePath, F.host, F.createdAt, F.sourceSize, F.storedSize,
                F.checksum, F.algorithm, F.iv, F.tag, F.compression, F.keyID, F.keep]
    }()

    private let macKey: [UInt8]
    package let keyID: String

    package init(key: EncryptionKey) {
        macKey = HMACSHA256.mac(key: key.bytes, message: Self.label)
        keyID = key.id
    }

    /// The MAC (hex) of `metadata` stored under `objectKey`.
    package func mac(of metadata: ObjectMetadata, objectKey: String) -> String {
        var message = Self.label
        Self.append("key", objectKey, to: &message)
        for field in Self.coveredFields { Self.append(field, metadata.values[field] ?? "", to: &message) }
        return HMACSHA256.mac(key: macKey, message: message).hexString
    }

    /// `metadata` with its MAC for `objectKey`.
    package func seal(_ metadata: ObjectMetadata, objectKey: String) -> ObjectMetadata {
        var sealed = metadata
        sealed.values[ObjectMetadata.Field.mac] = mac(of: metadata, objectKey: objectKey)
        return sealed
    }

    /// Whether `metadata` carries a valid MAC for `objectKey` under this key.
    package func verifies(_ metadata: ObjectMetadata, objectKey: String) -> Bool {
        guard let claimed = metadata.values[ObjectMetadata.Field.mac]?.lowercased() else { return false }
        return Self.constantTimeEqual(Array(claimed.utf8), Array(mac(of: metadata, objectKey: objectKey).utf8))
    }

    /// Length-prefixed, so no choice of values can make two field lists encode alike.
    private static func append(_ name: String, _ value: String, to message: inout [UInt8]) {
        for part in [name, value] {
            let bytes = Array(part.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { message += $0 }
            message += bytes
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
