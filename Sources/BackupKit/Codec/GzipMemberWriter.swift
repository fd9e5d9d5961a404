import CZlib

/// Compresses independent blocks into gzip members. Concatenated members form one valid
/// multi-member gzip stream that `gzip -d`, Node's `createGunzip` and Python's `gzip` read,
/// and that lets blocks be compressed in parallel.
public final class GzipMemberWriter {
    private var stream = z_stream()
    private var output: [UInt8] = []
    public let level: Int32

    public init(level: Int) throws {
        self.level = Int32(level)
        // windowBits 15 + 16 asks zlib for a gzip header and trailer.
        guard CZlib_deflateInit2(&stream, self.level, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            throw BackupError.unexpected("zlib could not start compression at level \(level)")
        }
    }

    deinit { deflateEnd(&stream) }

    /// Compresses `block` into one complete gzip member and hands it to `body`.
    public func compressMember<R>(_ block: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard deflateReset(&stream) == Z_OK else { throw BackupError.unexpected("zlib could not reset") }
        let bound = Int(deflateBound(&stream, uLong(block.count))) + 64
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let produced: Int = try output.withUnsafeMutableBufferPointer { out in
            stream.next_in = UnsafeMutablePointer(mutating: block.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(block.count)
            stream.next_out = out.baseAddress
            stream.avail_out = uInt(out.count)
            let rc = deflate(&stream, Z_FINISH)
            guard rc == Z_STREAM_END else { throw BackupError.unexpected("zlib compression failed (\(rc))") }
            return out.count - Int(stream.avail_out)
        }
        return try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
    }
}
