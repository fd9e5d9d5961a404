import Foundation
import Testing
@testable import BackupKit

/// The encoder's pools under the load that once deadlocked it: incompressible data (every
/// member as large as its block), the fastest levels (workers race ahead of the consumer),
/// more workers than cores, small blocks (many hand-offs), run again and again. A hang fails
/// the test after a deadline instead of freezing the run.
struct EncoderStressTests {
    static let rounds = 12

    @Test("incompressible data, fast levels, 8 workers on 2 cores, 12 runs each: every run ends and decodes",
          arguments: [(CompressionAlgorithm.zstd, 1), (.zstd, 3), (.gzip, 1)])
    func incompressibleDoesNotDeadlock(algorithm: CompressionAlgorithm, level: Int) throws {
        let folder = TemporaryDirectory("encoder-stress-\(algorithm.rawValue)-\(level)")
        let input = folder.file("random.bin")
        let data = try SecureRandom.bytes(6 << 20)
        try Data(data).write(to: URL(fileURLWithPath: input))
        let key = try EncryptionKey(bytes: try SecureRandom.bytes(32))
        for round in 1...Self.rounds {
            let finished = DispatchSemaphore(value: 0)
            let box = ResultBox()
            let thread = Thread {
                do {
                    var stored: [UInt8] = []
                    let encoded = try BackupEncoder(key: key, algorithm: algorithm, level: level, blockSize: 64 << 10, workers: 8)
                        .encode(file: input) { stored += $0 }
                    box.value = (encoded, stored)
                } catch {
                    box.error = error
                }
                finished.signal()
            }
            thread.start()
            let ended = finished.wait(timeout: .now() + 60) == .success
            #expect(ended, "round \(round) of \(algorithm.rawValue) -\(level) did not finish in 60 s: the pipeline is stuck")
            guard ended else { return }
            let (encoded, stored) = try #require(box.value, "round \(round): \(String(describing: box.error))")
            #expect(encoded.sourceSize == Int64(data.count) && encoded.storedSize == Int64(stored.count))
            if round == 1 {
                // With the MD5 of the stored bytes and without it (a sealed object's restore).
                for checksum in [true, false] {
                    var plain: [UInt8] = []
                    let decoded = try BackupDecoder(key: key, iv: encoded.iv, tag: encoded.tag, algorithm: algorithm)
                        .decode(checksum: checksum, download: { deliver in try stored.withUnsafeBytes { try deliver($0) } }, into: { plain += $0 })
                    #expect(decoded.authenticated && decoded.decompressionFailure == nil && plain == data)
                    #expect((decoded.md5Hex == encoded.md5Hex) == checksum && (decoded.md5Hex == nil) == !checksum)
                }
            }
        }
    }
}

private final class ResultBox: @unchecked Sendable {
    var value: (EncodedObject, [UInt8])?
    var error: Error?
}
