import CDeflate
import CZstd

/// Decompresses one block compressed on its own (a gzip member or a zstd frame) whose size
/// is known, as incremental restores read blocks. One per thread.
final class BlockDecompressor {
    private let algorithm: CompressionAlgorithm
    private let deflate: OpaquePointer
    private let zstd: OpaquePointer

    init(_ algorithm: CompressionAlgorithm) throws {
        guard let deflate = libdeflate_alloc_decompressor(), let zstd = ZSTD_createDCtx() else {
            throw BackupError.unexpected("could not start block decompression")
        }
        self.algorithm = algorithm
        self.deflate = deflate
        self.zstd = zstd
    }

    deinit {
        libdeflate_free_decompressor(deflate)
        ZSTD_freeDCtx(zstd)
    }

    /// A frame's bytes, however many its own header (zstd) or trailer (gzip) says, if at most
    /// `largest`; fails if they are not exactly that many.
    func decompressFrame(_ input: UnsafeRawBufferPointer, largest: Int) throws -> [UInt8] {
        let claimed: UInt64
        switch algorithm {
        case .gzip:
            guard input.count >= 18 else { throw DecompressionFailure(description: "a gzip frame is cut short") }
            claimed = UInt64(UInt32(littleEndian: input.loadUnaligned(fromByteOffset: input.count - 4, as: UInt32.self)))
        case .zstd:
            claimed = ZSTD_getFrameContentSize(input.baseAddress, input.count)
            guard claimed != ZSTD_CONTENTSIZE_UNKNOWN, claimed != ZSTD_CONTENTSIZE_ERROR else {
                throw DecompressionFailure(description: "a zstd frame names no size")
            }
        }
        guard claimed <= UInt64(largest) else { throw DecompressionFailure(description: "a frame claims \(claimed) bytes, more than \(largest)") }
        return try decompress(input, size: Int(claimed))
    }

    /// The block's bytes; fails unless they are exactly `size` bytes.
    func decompress(_ input: UnsafeRawBufferPointer, size: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        try output.withUnsafeMutableBytes { try decompress(input, into: $0) }
        return output
    }

    /// Decompresses the block into `output`; fails unless it fills it exactly.
    func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let produced: Int
        switch algorithm {
        case .gzip:
            var actual = 0
            let result = libdeflate_gzip_decompress(deflate, input.baseAddress, input.count, output.baseAddress, output.count, &actual)
            guard result == LIBDEFLATE_SUCCESS else { throw DecompressionFailure(description: "a gzip block is invalid") }
            produced = actual
        case .zstd:
            let n = ZSTD_decompressDCtx(zstd, output.baseAddress, output.count, input.baseAddress, input.count)
            if ZSTD_isError(n) != 0 {
                throw DecompressionFailure(description: "a zstd block is invalid: \(String(cString: ZSTD_getErrorName(n)))")
            }
            produced = n
        }
        guard produced == output.count else { throw DecompressionFailure(description: "a block decompressed to \(produced) bytes, not \(output.count)") }
    }
}
