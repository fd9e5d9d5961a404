/// Compresses independent blocks into self-contained units (gzip members, zstd frames) whose
/// concatenation is one valid stream for the format's own tools (`gzip -d`, `zstd -d`).
/// Independent units are what lets the encoder compress blocks on every core. One per thread.
protocol BlockCompressor: AnyObject {
    /// Compresses `block` into one complete unit and hands it to `body`.
    func compress<R>(_ block: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
}
