@testable import BackupKit

/// Drives a block compressor and a stream decompressor the way the pipelines do: blocks of
/// `blockSize` compressed one by one and concatenated; the stream fed back in pieces.
enum CodecStreams {
    static func compress(_ data: [UInt8], blockSize: Int, with writer: any BlockCompressor) throws -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        repeat {
            let end = min(data.count, offset + blockSize)
            try data[offset..<end].withUnsafeBytes { try writer.compress($0) { out += $0 } }
            offset = end
        } while offset < data.count
        return out
    }

    static func decompress(_ data: [UInt8], pieceSize: Int, with reader: any StreamDecompressor) throws -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + pieceSize)
            try data[offset..<end].withUnsafeBytes { try reader.feed($0) { out += $0 } }
            offset = end
        }
        try reader.finish { out += $0 }
        return out
    }
}
