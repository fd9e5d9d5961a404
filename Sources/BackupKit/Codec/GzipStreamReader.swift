import CZlib

/// Streams a gzip file of one or more members back to the original bytes. Strict: data
/// after the last member that is not another member, or a stream that ends inside a
/// member, is an error.
public final class GzipStreamReader {
    /// A problem in the compressed bytes.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private var atMemberBoundary = true
    public private(set) var members = 0

    public init() throws {
        guard CZlib_inflateInit2(&stream, 15 + 16) == Z_OK else {
            throw BackupError.unexpected("zlib could not start decompression")
        }
    }

    deinit { inflateEnd(&stream) }

    /// Inflates `input`, handing every run of output to `emit`.
    public func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        try output.withUnsafeMutableBufferPointer { out in
            repeat {
                if stream.avail_in > 0 { atMemberBoundary = false }
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let rc = inflate(&stream, Z_NO_FLUSH)
                let produced = out.count - Int(stream.avail_out)
                if produced > 0 { try emit(UnsafeRawBufferPointer(start: out.baseAddress, count: produced)) }
                switch rc {
                case Z_STREAM_END:
                    members += 1
                    atMemberBoundary = true
                    inflateReset(&stream)
                case Z_OK:
                    break
                case Z_BUF_ERROR:
                    return
                default:
                    let text = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                    throw Failure(description: "gzip data is invalid: \(text)")
                }
            } while stream.avail_in > 0 || stream.avail_out == 0
        }
    }

    /// Checks that the stream ended exactly after a complete member.
    public func finish() throws {
        guard members > 0, atMemberBoundary else {
            throw Failure(description: "gzip data ends in the middle of a member (truncated)")
        }
    }
}
