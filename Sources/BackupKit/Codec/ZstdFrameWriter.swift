import CZstd

/// Compresses independent blocks into Zstandard frames with libzstd, each with its content
/// size and a checksum. Concatenated frames are one valid zstd stream (`zstd -d` reads it).
/// One writer per thread.
package final class ZstdFrameWriter: BlockCompressor {
    private let context: OpaquePointer
    private var output: [UInt8] = []
    package let level: Int

    package init(level: Int) throws {
        guard let context = ZSTD_createCCtx() else {
            throw BackupError.unexpected("libzstd could not start compression")
        }
        self.context = context
        self.level = level
        for (parameter, value) in [(ZSTD_c_compressionLevel, Int32(level)), (ZSTD_c_checksumFlag, 1)] {
            let rc = ZSTD_CCtx_setParameter(context, parameter, value)
            if ZSTD_isError(rc) != 0 {
                ZSTD_freeCCtx(context)
                throw BackupError.unexpected("libzstd refused level \(level): \(String(cString: ZSTD_getErrorName(rc)))")
            }
        }
    }

    deinit { ZSTD_freeCCtx(context) }

    package func compress<R>(_ block: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let bound = ZSTD_compressBound(block.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let produced = output.withUnsafeMutableBytes { out in
            ZSTD_compress2(context, out.baseAddress, out.count, block.baseAddress, block.count)
        }
        if ZSTD_isError(produced) != 0 {
            throw BackupError.unexpected("libzstd compression failed: \(String(cString: ZSTD_getErrorName(produced)))")
        }
        return try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
    }
}
