/// The outcome of decoding one stored object, judged by `ObjectDecryption.verify`.
package struct DecodedObject: Sendable {
    /// MD5 of the stored bytes, unless the caller asked for none.
    package let md5Hex: String?
    package let storedSize: Int64
    package let restoredSize: Int64
    /// Whether the GCM tag verified.
    package let authenticated: Bool
    /// Why the decrypted bytes were not a complete gzip or zstd stream, if they were not.
    package let decompressionFailure: String?
}
