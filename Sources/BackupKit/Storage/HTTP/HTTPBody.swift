/// A request body: bytes in memory, or a range of a file read as libcurl sends it (so a
/// large upload part never sits in memory).
enum HTTPBody {
    case bytes([UInt8])
    case file(FileDescriptor, offset: Int64, length: Int64)

    var count: Int64 {
        switch self {
        case .bytes(let bytes): return Int64(bytes.count)
        case .file(_, _, let length): return length
        }
    }

    /// Copies up to `buffer.count` bytes from `position` into `buffer`; returns how many.
    func read(into buffer: UnsafeMutableRawBufferPointer, at position: Int64) throws -> Int {
        let n = Int(min(Int64(buffer.count), count - position))
        guard n > 0 else { return 0 }
        switch self {
        case .bytes(let bytes):
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + Int(position), byteCount: n) }
            return n
        case .file(let file, let offset, _):
            return try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]), at: offset + position)
        }
    }

    /// Feeds the whole body to `update` in pieces (for a digest), without holding it in memory.
    func forEachChunk(_ update: (UnsafeRawBufferPointer) -> Void) throws {
        switch self {
        case .bytes(let bytes):
            bytes.withUnsafeBytes { update($0) }
        case .file:
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var position: Int64 = 0
            while position < count {
                let n = try chunk.withUnsafeMutableBytes { try read(into: $0, at: position) }
                guard n > 0 else { throw BackupError.unexpected("a spool file ended early") }
                chunk.withUnsafeBytes { update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                position += Int64(n)
            }
        }
    }
}
