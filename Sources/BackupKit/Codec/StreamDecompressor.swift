/// Streams a compressed object back to the original bytes, fed in pieces of any size.
/// Strict: trailing bytes that are not another unit, or a stream that ends inside one, fail.
protocol StreamDecompressor: AnyObject {
    /// Decompresses what `input` completes and hands the output to `emit`, in order.
    func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws
    /// Flushes the rest; fails when the stream ended in the middle of a unit.
    func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// A problem in the compressed bytes (after decryption authenticated them, a bug or a
/// backup written wrongly; before, a sign of tampering).
package struct DecompressionFailure: Error, CustomStringConvertible {
    package let description: String
}
