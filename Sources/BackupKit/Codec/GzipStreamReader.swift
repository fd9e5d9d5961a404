import CDeflate
import CZlib

/// Streams a gzip file of one or more members back to the original bytes. Strict: data
/// after the last member that is not another member, or a stream that ends inside a
/// member, is an error.
///
/// Two engines: while members are small (ours decompress to 1 MiB each), whole members are
/// decompressed from a buffer by libdeflate, about twice as fast as zlib; a member that does
/// not fit the window (Laju's one-member objects) or bytes libdeflate rejects switch the rest
/// of the stream to zlib's streaming inflate, which also words the precise error.
package final class GzipStreamReader: StreamDecompressor {
    /// A problem in the compressed bytes.
    package typealias Failure = DecompressionFailure

    /// Compressed bytes buffered for whole-member decompression are tried once this many are
    /// held (our members are at most about 1 MiB compressed).
    static let memberWindow = 2 << 20
    /// The largest member output libdeflate handles (ours are 1 MiB); larger members go to zlib.
    static let memberOutputLimit = 2 << 20

    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private var atMemberBoundary = true
    package private(set) var members = 0

    private let decompressor: OpaquePointer
    private var useZlib = false
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var memberOutput = [UInt8](repeating: 0, count: GzipStreamReader.memberOutputLimit)

    package init() throws {
        guard CZlib_inflateInit2(&stream, 15 + 16) == Z_OK, let decompressor = libdeflate_alloc_decompressor() else {
            throw BackupError.unexpected("could not start gzip decompression")
        }
        self.decompressor = decompressor
        pending.reserveCapacity(Self.memberWindow * 2)
    }

    deinit {
        inflateEnd(&stream)
        libdeflate_free_decompressor(decompressor)
    }

    /// Decompresses `input`, handing every run of output to `emit`.
    package func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        if useZlib { return try inflateStreaming(input, emit) }
        pending.append(contentsOf: input)
        try decodeWholeMembers(final: false, emit)
    }

    /// Decodes the whole members at the front of `pending`; at the end (`final`) everything.
    private func decodeWholeMembers(final: Bool, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        while !useZlib && (pending.count - pendingStart >= Self.memberWindow || (final && pending.count > pendingStart)) {
            var consumed = 0
            var produced = 0
            let result = pending.withUnsafeBytes { src in
                memberOutput.withUnsafeMutableBytes { out in
                    libdeflate_gzip_decompress_ex(decompressor, src.baseAddress! + pendingStart, src.count - pendingStart,
                                                  out.baseAddress, out.count, &consumed, &produced)
                }
            }
            guard result == LIBDEFLATE_SUCCESS else {
                // Too large for the window, or not valid: zlib takes over from this member on.
                useZlib = true
                let rest = Array(pending[pendingStart...])
                pending = []
                pendingStart = 0
                try rest.withUnsafeBytes { try inflateStreaming($0, emit) }
                return
            }
            members += 1
            pendingStart += consumed
            if produced > 0 { try memberOutput.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
        }
        if pendingStart > 0 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
    }

    /// zlib's streaming inflate over `input`.
    private func inflateStreaming(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
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

    /// Decodes what is still buffered and checks that the stream ended exactly after a
    /// complete member.
    package func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try decodeWholeMembers(final: true, emit)
        guard members > 0, atMemberBoundary else {
            throw Failure(description: "gzip data ends in the middle of a member (truncated)")
        }
    }
}
