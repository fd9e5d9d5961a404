import Foundation

/// What the encoder learned about the object it produced.
package struct EncodedObject: Sendable {
    package let iv: [UInt8]
    package let tag: [UInt8]
    /// MD5 of the stored bytes, lower-case hex (the `checksum` field).
    package let md5Hex: String
    /// Bytes of the snapshot that went in.
    package let sourceSize: Int64
    /// Bytes of the object that came out.
    package let storedSize: Int64
}
