import Foundation
import Testing
import CZstd
@testable import BackupKit

/// A full zstd backup read back frame by frame on several threads (`ParallelZstdReader`): the
/// same bytes and the same failures as one thread reading it (`ZstdStreamReader`), for the
/// frames our encoder writes and for streams it never writes (frames without a size, larger
/// than a worker takes, not zstd at all), handed over in pieces of any size.
struct ParallelZstdReaderTests {
    static func read(_ data: [UInt8], pieceSize: Int, workers: Int = 2) throws -> [UInt8] {
        try CodecStreams.decompress(data, pieceSize: pieceSize, with: ParallelZstdReader(workers: workers))
    }

    @Test("incompressible and compressible frames read back whole, in order, whatever the piece size and workers",
          arguments: [(1, 1 << 20), (2, 4096), (8, 100_003), (3, 7)])
    func roundTrip(workers: Int, pieceSize: Int) throws {
        // Incompressible frames (raw blocks) beside compressible ones, and a short last frame.
        let data = try SecureRandom.bytes(3 << 20) + GzipTests.sample(2 << 20) + SecureRandom.bytes(300_001)
        let compressed = try ZstdTests.compress(data, blockSize: pieceSize == 7 ? 64 << 10 : BackupEncoder.defaultBlockSize)
        #expect(try Self.read(compressed, pieceSize: pieceSize, workers: workers) == data)
    }

    @Test("an empty input is one empty frame, which reads back as nothing")
    func emptyFrame() throws {
        let compressed = try ZstdTests.compress([], blockSize: 10)
        #expect(!compressed.isEmpty)
        #expect(try Self.read(compressed, pieceSize: 3) == [])
        #expect(try Self.read(compressed + compressed, pieceSize: 100) == [])
    }

    @Test("frames without a size (the zstd tool reading a pipe) and frames larger than a worker takes are read on one thread")
    func framesWorkersDoNotTake() throws {
        let dir = TemporaryDirectory()
        let data = GzipTests.sample(600_000)
        try Data(data).write(to: URL(fileURLWithPath: dir.file("x")))
        let run = try Tool.runProcess("/bin/sh", ["-c", "cat x | zstd -q -c > x.zst"], in: dir.path)
        #expect(run.status == 0, "\(run.output)")
        let unsized = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.file("x.zst"))))
        #expect(ZSTD_frameHasNoSize(unsized), "the case under test")
        #expect(try Self.read(unsized, pieceSize: 10_000) == data)

        let large = GzipTests.sample(ParallelZstdReader.largestFrame + 1)
        let small = GzipTests.sample(100_000)
        // Frames the workers take, then one they do not, then more they would: all in order.
        let mixed = try ZstdTests.compress(small, blockSize: 30_000) + ZstdTests.compress(large, blockSize: large.count)
            + ZstdTests.compress(small, blockSize: 30_000)
        #expect(try Self.read(mixed, pieceSize: 65_536) == small + large + small)
    }

    @Test("a stream cut inside a frame, a corrupt frame in the middle, bytes that are not zstd, and nothing at all all fail",
          arguments: [1, 4])
    func brokenStreamsFail(workers: Int) throws {
        let data = try SecureRandom.bytes(1 << 20) + GzipTests.sample(1 << 20)
        let compressed = try ZstdTests.compress(data, blockSize: 128 << 10)
        #expect(throws: DecompressionFailure.self) { try Self.read(Array(compressed.dropLast(3)), pieceSize: 50_000, workers: workers) }
        var flipped = compressed
        flipped[flipped.count * 3 / 4] ^= 0x10
        #expect(throws: DecompressionFailure.self) { try Self.read(flipped, pieceSize: 50_000, workers: workers) }
        #expect(throws: DecompressionFailure.self) { try Self.read(compressed + Array("not zstd".utf8), pieceSize: 50_000, workers: workers) }
        #expect(throws: DecompressionFailure.self) { try Self.read(Array(repeating: 0x41, count: 5 << 20), pieceSize: 50_000, workers: workers) }
        #expect(throws: DecompressionFailure.self) { try Self.read([], pieceSize: 10, workers: workers) }
    }

    @Test("a reader left unfinished after a failure stops its workers")
    func abandonedReaderEnds() throws {
        let compressed = try ZstdTests.compress(try SecureRandom.bytes(4 << 20), blockSize: 256 << 10)
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            for _ in 0..<20 {
                let reader = ParallelZstdReader(workers: 4)
                compressed.withUnsafeBytes { bytes in
                    try? reader.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count / 2)])) { _ in throw CancellationError() }
                }
                // Dropped here with frames in flight: deinit must end the workers, not wait forever.
            }
            finished.signal()
        }
        thread.start()
        #expect(finished.wait(timeout: .now() + 60) == .success, "dropping a reader with frames in flight did not end")
    }
}

/// Whether a zstd stream's first frame leaves its content size out of its header.
private func ZSTD_frameHasNoSize(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) == ZSTD_CONTENTSIZE_UNKNOWN }
}
