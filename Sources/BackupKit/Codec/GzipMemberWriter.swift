import CDeflate

/// Compresses independent blocks into gzip members with libdeflate. Concatenated members
/// form one valid multi-member gzip stream that `gzip -d`, Node's `createGunzip` and
/// Python's `gzip` read, and independent members are what lets blocks compress in parallel.
/// One writer per thread.
package final class GzipMemberWriter: BlockCompressor {
    private let compressor: OpaquePointer
    private var output: [UInt8] = []
    package let level: Int

    package init(level: Int) throws {
        guard let compressor = libdeflate_alloc_compressor(Int32(level)) else {
            throw BackupError.unexpected("libdeflate could not start compression at level \(level)")
        }
        self.compressor = compressor
        self.level = level
    }

    deinit { libdeflate_free_compressor(compressor) }

    /// Compresses `block` into one complete gzip member and hands it to `body`.
    package func compress<R>(_ block: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let bound = libdeflate_gzip_compress_bound(compressor, block.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let produced = output.withUnsafeMutableBytes { out in
            libdeflate_gzip_compress(compressor, block.baseAddress, block.count, out.baseAddress, out.count)
        }
        guard produced > 0 else { throw BackupError.unexpected("libdeflate compression failed") }
        return try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
    }
}
