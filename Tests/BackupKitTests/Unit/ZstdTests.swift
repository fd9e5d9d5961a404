import Foundation
import Testing
import CZstd
@testable import BackupKit

/// zstd frames from `ZstdFrameWriter`, read back by `ZstdStreamReader` and by the `zstd` tool.
struct ZstdTests {
    static func compress(_ data: [UInt8], blockSize: Int, level: Int = 3) throws -> [UInt8] {
        try CodecStreams.compress(data, blockSize: blockSize, with: try ZstdFrameWriter(level: level))
    }

    static func decompress(_ data: [UInt8], pieceSize: Int) throws -> [UInt8] {
        try CodecStreams.decompress(data, pieceSize: pieceSize, with: try ZstdStreamReader())
    }

    @Test("multi-frame streams round-trip whatever the piece sizes", arguments: [(1000, 7), (65_536, 4096), (300_000, 1 << 20)])
    func multiFrameRoundTrip(blockSize: Int, pieceSize: Int) throws {
        let data = GzipTests.sample(700_000)
        let compressed = try Self.compress(data, blockSize: blockSize)
        #expect(compressed.count < data.count)
        #expect(try Self.decompress(compressed, pieceSize: pieceSize) == data)
    }

    @Test("a stream whose last frame ends as libzstd's output buffer fills (a size in 128 KiB multiples) reads back whole",
          arguments: [128 << 10, 640 << 10, 1 << 20, 3 << 20], [1 << 20, 100_000, 1])
    func lastFrameFillsTheOutputBuffer(size: Int, pieceSize: Int) throws {
        let data = GzipTests.sample(size)
        #expect(size % ZSTD_DStreamOutSize() == 0, "the case under test")
        let compressed = try Self.compress(data, blockSize: BackupEncoder.defaultBlockSize)
        #expect(try Self.decompress(compressed, pieceSize: min(pieceSize, compressed.count)) == data)
    }

    @Test("a larger level compresses smaller; every level in range works")
    func levels() throws {
        let data = GzipTests.sample(400_000)
        let fast = try Self.compress(data, blockSize: data.count, level: 1)
        let small = try Self.compress(data, blockSize: data.count, level: 19)
        #expect(small.count < fast.count)
        #expect(try Self.decompress(small, pieceSize: 10_000) == data)
    }

    @Test("the zstd tool reads the multi-frame stream")
    func zstdToolReadsTheStream() throws {
        let dir = TemporaryDirectory()
        let data = GzipTests.sample(500_000)
        try Data(try Self.compress(data, blockSize: 100_000)).write(to: URL(fileURLWithPath: dir.file("x.zst")))
        let run = try Tool.runProcess("/bin/sh", ["-c", "zstd -dc x.zst | md5sum"], in: dir.path)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.hasPrefix(Digest.hash(.md5, data).hexString))
    }

    @Test("a stream cut inside a frame is reported as truncated")
    func truncatedStreamFails() throws {
        let compressed = try Self.compress(GzipTests.sample(200_000), blockSize: 50_000)
        #expect(throws: DecompressionFailure.self) { try Self.decompress(Array(compressed.dropLast(5)), pieceSize: 4096) }
    }

    @Test("bytes after the last frame that are not zstd are refused; a flipped byte fails the frame checksum")
    func corruptStreamFails() throws {
        let compressed = try Self.compress(GzipTests.sample(10_000), blockSize: 50_000)
        #expect(throws: DecompressionFailure.self) { try Self.decompress(compressed + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], pieceSize: 4096) }
        var flipped = compressed
        flipped[flipped.count / 2] ^= 0x40
        #expect(throws: DecompressionFailure.self) { try Self.decompress(flipped, pieceSize: 4096) }
    }

    @Test("an empty input is one empty frame")
    func emptyInput() throws {
        let compressed = try Self.compress([], blockSize: 10)
        #expect(!compressed.isEmpty)
        #expect(try Self.decompress(compressed, pieceSize: 10) == [])
        #expect(throws: DecompressionFailure.self) { try Self.decompress([], pieceSize: 10) }
    }
}
