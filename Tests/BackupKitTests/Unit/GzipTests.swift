import Foundation
import Testing
@testable import BackupKit

/// The codec: independent gzip members that any gzip reader accepts, read back strictly.
struct GzipTests {
    static func sample(_ count: Int) -> [UInt8] {
        var state: UInt32 = 12345
        return (0..<count).map { i in
            state = state &* 1_103_515_245 &+ 12345
            return i % 3 == 0 ? UInt8(state >> 24) : UInt8(ascii: "a") + UInt8(i % 26)
        }
    }

    static func compress(_ data: [UInt8], blockSize: Int) throws -> [UInt8] {
        try CodecStreams.compress(data, blockSize: blockSize, with: try GzipMemberWriter(level: 6))
    }

    static func decompress(_ data: [UInt8], pieceSize: Int) throws -> [UInt8] {
        try CodecStreams.decompress(data, pieceSize: pieceSize, with: try GzipStreamReader())
    }

    @Test("multi-member streams round-trip whatever the piece sizes", arguments: [(1000, 7), (65_536, 4096), (300_000, 1 << 20)])
    func multiMemberRoundTrip(blockSize: Int, pieceSize: Int) throws {
        let data = Self.sample(700_000)
        let compressed = try Self.compress(data, blockSize: blockSize)
        #expect(try Self.decompress(compressed, pieceSize: pieceSize) == data)
    }

    @Test("gzip -d and Python's gzip read the multi-member stream")
    func independentReadersAcceptTheStream() throws {
        let dir = TemporaryDirectory()
        let data = Self.sample(500_000)
        try Data(try Self.compress(data, blockSize: 100_000)).write(to: URL(fileURLWithPath: dir.file("x.gz")))
        let gunzip = try Tool.runProcess("/bin/sh", ["-c", "gzip -dc x.gz | md5sum"], in: dir.path)
        #expect(gunzip.status == 0)
        #expect(gunzip.stdout.hasPrefix(Digest.hash(.md5, data).hexString))
        let python = try Tool.runProcess(Tool.pythonPath, ["-c", "import gzip,hashlib; print(hashlib.md5(gzip.open('x.gz').read()).hexdigest())"], in: dir.path)
        #expect(python.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Digest.hash(.md5, data).hexString)
    }

    @Test("a stream cut inside a member is reported as truncated")
    func truncatedStreamFails() throws {
        let compressed = try Self.compress(Self.sample(200_000), blockSize: 50_000)
        #expect(throws: GzipStreamReader.Failure.self) { try Self.decompress(Array(compressed.dropLast(5)), pieceSize: 4096) }
    }

    @Test("bytes after the last member that are not gzip are refused")
    func trailingGarbageFails() throws {
        let compressed = try Self.compress(Self.sample(10_000), blockSize: 50_000)
        #expect(throws: GzipStreamReader.Failure.self) { try Self.decompress(compressed + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], pieceSize: 4096) }
    }

    @Test("a single member larger than the whole-member window (Laju's format) streams through zlib")
    func largeSingleMember() throws {
        let data = Self.sample(GzipStreamReader.memberOutputLimit + 3_000_000)
        let compressed = try Self.compress(data, blockSize: data.count)
        #expect(try Self.decompress(compressed, pieceSize: 65_536) == data)
    }

    @Test("a stream of small members followed by a large one decodes in order")
    func mixedMemberSizes() throws {
        let small = Self.sample(900_000)
        let large = Self.sample(GzipStreamReader.memberOutputLimit + 1_000_000)
        let compressed = try Self.compress(small, blockSize: 100_000) + Self.compress(large, blockSize: large.count)
        #expect(try Self.decompress(compressed, pieceSize: 300_000) == small + large)
    }

    @Test("an empty input is one empty member")
    func emptyInput() throws {
        let compressed = try Self.compress([], blockSize: 10)
        #expect(!compressed.isEmpty)
        #expect(try Self.decompress(compressed, pieceSize: 10) == [])
    }

    @Test("members whose output ends as a buffer fills (sizes in 256 KiB multiples; one member larger than the window, as Laju's) read back whole",
          arguments: [256 << 10, 1 << 20, 2 << 20, 3 << 20], [1 << 20, 3 << 20])
    func outputEndsAtBufferBoundary(size: Int, blockSize: Int) throws {
        let data = Self.sample(size)
        for pieceSize in [1 << 20, 65_536, 1] where pieceSize > 1 || size <= 1 << 20 {
            #expect(try Self.decompress(try Self.compress(data, blockSize: blockSize), pieceSize: pieceSize) == data, "piece \(pieceSize)")
        }
    }
}
