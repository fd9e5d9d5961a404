import Foundation

/// The backup codec pipeline, stages running concurrently with bounded queues between them:
///
///     reader thread ──blocks──▶ N compressor threads ──units, re-ordered──▶ caller:
///     (snapshot file)            (a gzip member or a                        AES-256-GCM, MD5,
///                                 zstd frame each)                           sink (upload)
///
/// Memory is `N + 2` block buffers and as many member buffers, allocated once, whatever the
/// size of the database.
package final class BackupEncoder {
    /// Bytes of snapshot per gzip member or zstd frame.
    package static let defaultBlockSize = 1 << 20

    private let key: EncryptionKey
    private let algorithm: CompressionAlgorithm
    private let level: Int
    private let blockSize: Int
    private let workers: Int

    package init(key: EncryptionKey, algorithm: CompressionAlgorithm = .gzip, level: Int,
                 blockSize: Int = BackupEncoder.defaultBlockSize,
                 workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.key = key
        self.algorithm = algorithm
        self.level = level
        self.blockSize = blockSize
        self.workers = max(1, workers)
    }

    /// Encodes the file at `path`, handing each run of stored bytes to `sink` in order (on the
    /// calling thread). `progress`, when given, counts the bytes of `path` read so far.
    package func encode(file path: String, progress: Counter? = nil, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> EncodedObject {
        let input = try FileDescriptor.openForReading(path)
        return try encode(reading: { try Self.fill($0, from: input) }, progress: progress, to: sink)
    }

    /// Encodes the snapshot `source`, as `encode(file:)` does.
    package func encode(source: any DatabaseSource, progress: Counter? = nil, to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> EncodedObject {
        try encode(reading: { try source.fill($0) }, progress: progress, to: sink)
    }

    /// Encodes what `fill` gives (a buffer filled at each call, less only at the end), on the reader thread.
    private func encode(reading fill: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int, progress: Counter?,
                        to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> EncodedObject {
        let iv = try SecureRandom.bytes(AESGCM.ivLength)
        let cipher = try AESGCM.Encryptor(key: key, iv: iv)
        let md5 = Digest(.md5)
        // A fixed set of buffers circulates: free block buffers → reader → compressors → back;
        // free member buffers → compressors → caller → back. Nothing is allocated per block,
        // so memory stays flat and no page is faulted in twice.
        let inFlight = workers + 2
        let freeBlocks = BoundedQueue<[UInt8]>(capacity: inFlight)
        let freeMembers = BoundedQueue<[UInt8]>(capacity: inFlight)
        for _ in 0..<inFlight {
            try freeBlocks.push([UInt8](repeating: 0, count: blockSize))
            try freeMembers.push([])
        }
        let blocks = BoundedQueue<(index: Int, bytes: [UInt8], count: Int)>(capacity: inFlight)
        let members = ReorderBuffer<[UInt8]>(window: inFlight)
        let queues: [any Failable] = [freeBlocks, freeMembers, blocks, members]
        @Sendable func failAll(_ error: Error) { for queue in queues { queue.fail(error) } }
        let (algorithm, level) = (self.algorithm, self.level)
        let readBytes = Counter()

        let reader = BackgroundTask(name: "backup-reader") {
            do {
                var index = 0
                while var block = try freeBlocks.pop() {
                    let filled = try block.withUnsafeMutableBytes { try fill($0) }
                    if filled == 0 && index > 0 { break }
                    readBytes.add(Int64(filled))
                    progress?.add(Int64(filled))
                    try blocks.push((index, block, filled))
                    index += 1
                    if filled < block.count { break }
                }
                members.setCount(index)
                blocks.close()
            } catch {
                failAll(error)
            }
        }
        let compressors = (0..<workers).map { n in
            BackgroundTask(name: "backup-compressor-\(n)") {
                do {
                    let writer = try algorithm.makeBlockCompressor(level: level)
                    // A worker takes its member buffer before its block. The other order can
                    // deadlock: the consumer waits for block i while the worker holding it waits
                    // for a member, and every member sits in the reorder window behind i (seen
                    // on incompressible data at fast levels, where workers race ahead).
                    while var member = try freeMembers.pop() {
                        guard let block = try blocks.pop() else { break }
                        try block.bytes.withUnsafeBytes { bytes in
                            try writer.compress(UnsafeRawBufferPointer(rebasing: bytes[0..<block.count])) { compressed in
                                member.removeAll(keepingCapacity: true)
                                member.append(contentsOf: compressed)
                            }
                        }
                        try freeBlocks.push(block.bytes)
                        try members.put(block.index, member)
                    }
                } catch {
                    failAll(error)
                }
            }
        }

        var storedSize: Int64 = 0
        do {
            var index = 0
            while let member = try members.take(index) {
                try member.withUnsafeBytes { plain in
                    try cipher.update(plain) { sealed in
                        md5.update(sealed)
                        storedSize += Int64(sealed.count)
                        try sink(sealed)
                    }
                }
                try freeMembers.push(member)
                index += 1
            }
        } catch {
            failAll(error)
            try? reader.join()
            for task in compressors { try? task.join() }
            throw error
        }
        try reader.join()
        for task in compressors { try task.join() }
        let tag = try cipher.finish()
        return EncodedObject(iv: iv, tag: tag, md5Hex: md5.finish().hexString,
                             sourceSize: readBytes.value, storedSize: storedSize)
    }

    /// Reads until `buffer` is full or the file ends.
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer, from input: FileDescriptor) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}
