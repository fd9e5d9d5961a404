/// Block ids of incremental backups: HMAC-SHA256 of the block's bytes under a key derived
/// from the encryption key (HMAC-SHA256(key, label)), cut to 16 bytes. An id reveals nothing
/// of the block, and nobody without the key (the storage owner) can compute ids to test
/// whether some content is stored. 128 bits keep accidental collisions out of reach
/// (2^64 blocks), and every block's GCM seal binds it to its id.
package struct BlockIdentity: Sendable {
    /// Bytes of a block id.
    package static let length = 16
    private static let label = Array("sqlite-s3-backup block id v1".utf8)

    private let idKey: [UInt8]

    package init(key: EncryptionKey) {
        idKey = HMACSHA256.mac(key: key.bytes, message: Self.label)
    }

    /// The id of `block`.
    package func id(of block: UnsafeRawBufferPointer) -> [UInt8] {
        Array(HMACSHA256.mac(key: idKey, message: Array(block)).prefix(Self.length))
    }
}
