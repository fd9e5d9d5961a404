import Synchronization

/// A whole object fetched as ranged GETs on several connections at once, delivered in order:
/// one GET stream runs at the speed of one TCP connection (and of one server thread), which on
/// real S3 is far below what the restore pipeline decodes. Every part asks for the version a
/// HEAD gave (`If-Match`), so the parts are all of one object, and a part that came back
/// short is an error. Memory: `connections` + 1 parts of `partSize` at most (a part is fetched
/// only once it is at most `connections` ahead of the one the pipeline decodes).
struct S3ParallelDownload {
    let pool: S3ClientPool
    let objectKey: String
    let size: Int64
    let version: String
    let partSize: Int
    let connections: Int

    /// The slices `sink` is handed (so the pipeline behind it queues no whole part at once).
    static let deliverBytes = 1 << 20

    func run(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let parts = Int((size + Int64(partSize) - 1) / Int64(partSize))
        let window = connections
        let results = ReorderBuffer<[UInt8]>(window: window)
        results.setCount(parts)
        let next = Atomic<Int>(0)
        let buffers = BufferPool(limit: window + 1)
        let (pool, objectKey, size, version, partSize) = (self.pool, self.objectKey, self.size, self.version, self.partSize)
        let workers = (0..<min(connections, parts)).map { n in
            BackgroundTask(name: "restore-get-\(n)") {
                do {
                    while true {
                        let part = next.add(1, ordering: .relaxed).oldValue
                        guard part < parts else { return }
                        try results.waitForRoom(part)
                        let start = Int64(part) * Int64(partSize)
                        let range = start..<min(size, start + Int64(partSize))
                        var bytes = buffers.take()
                        bytes.reserveCapacity(range.count)
                        try pool.with { try $0.getObject(objectKey: objectKey, range: range, ifMatch: version) { bytes += $0 } }
                        guard bytes.count == range.count else {
                            throw BackupError.corruptBackup(objectKey: objectKey, detail: "bytes \(range.lowerBound)-\(range.upperBound - 1) came back as \(bytes.count) bytes")
                        }
                        try results.put(part, bytes)
                    }
                } catch {
                    results.fail(error)
                }
            }
        }
        do {
            var part = 0
            while let bytes = try results.take(part) {
                part += 1
                try bytes.withUnsafeBytes { all in
                    var at = 0
                    while at < all.count {
                        let end = min(all.count, at + Self.deliverBytes)
                        try sink(UnsafeRawBufferPointer(rebasing: all[at..<end]))
                        at = end
                    }
                }
                buffers.give(consume bytes)
            }
        } catch {
            results.fail(error)
            for worker in workers { try? worker.join() }
            throw error
        }
        for worker in workers { try worker.join() }
    }
}
