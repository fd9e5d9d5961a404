import CZstd

/// Streams a zstd stream of one or more frames back to the original bytes with libzstd,
/// checking each frame's checksum. A stream that ends inside a frame is an error.
package final class ZstdStreamReader: StreamDecompressor {
    private let context: OpaquePointer
    private var output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    /// libzstd's hint after the last call: 0 when a frame just ended.
    private var frameEnded = true
    package private(set) var frames = 0

    package init() throws {
        guard let context = ZSTD_createDCtx() else {
            throw BackupError.unexpected("could not start zstd decompression")
        }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    package func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        // Run until the input is used up and libzstd has nothing more to flush: a frame that
        // ended (hint 0) is flushed whole, even when its last bytes filled the output buffer
        // exactly (a call after that, with no input left, would only ask for the next frame).
        while true {
            let (hint, produced) = output.withUnsafeMutableBytes { out -> (Int, Int) in
                var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let hint = ZSTD_decompressStream(context, &target, &source)
                return (hint, target.pos)
            }
            if ZSTD_isError(hint) != 0 {
                throw DecompressionFailure(description: "zstd data is invalid: \(String(cString: ZSTD_getErrorName(hint)))")
            }
            if produced > 0 {
                try output.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            if hint == 0 {
                frames += 1
                frameEnded = true
            } else {
                frameEnded = false
            }
            if source.pos == source.size && (hint == 0 || produced < output.count) { break }
        }
    }

    package func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard frameEnded && frames > 0 else {
            throw DecompressionFailure(description: "zstd data ends in the middle of a frame (truncated)")
        }
    }
}
