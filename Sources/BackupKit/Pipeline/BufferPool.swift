import Synchronization

/// A few byte buffers handed round a pipeline instead of a fresh allocation per chunk. With
/// `MemoryTuning`'s fixed mmap threshold every large allocation is a fresh mapping, so a new
/// buffer per chunk costs a page fault and a zeroed page for every 4 KiB written into it (a
/// tenth of a restore's CPU time). Buffers come back through `give`; at most `limit` wait
/// for reuse, so the pool never holds more than the pipeline's queues already can.
final class BufferPool: Sendable {
    private let free = Mutex<[[UInt8]]>([])
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// An empty buffer, one given back when there is one.
    func take() -> [UInt8] {
        free.withLock { $0.popLast() } ?? []
    }

    /// An empty buffer holding a copy of `bytes`.
    func copy(of bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var buffer = take()
        buffer.append(contentsOf: bytes)
        return buffer
    }

    /// Keeps `buffer`'s memory for a later `take` (unless `limit` buffers already wait).
    func give(_ buffer: consuming [UInt8]) {
        var buffer = buffer
        buffer.removeAll(keepingCapacity: true)
        free.withLock { if $0.count < limit { $0.append(buffer) } }
    }
}
