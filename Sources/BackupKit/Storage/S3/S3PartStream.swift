import Synchronization

/// The parts of a multipart upload sent while its spool is still being written: an object
/// whose metadata is known before its bytes (a pack) starts its multipart upload once the
/// spool passes the threshold, and each part goes as soon as the spool holds it whole, on
/// `BACKUP_S3_PARALLEL_PARTS` threads. A sent part's bytes are freed in the spool (a punched
/// hole), and the writer waits while a whole part is queued for a busy thread, so the spool
/// holds at most the parts in flight, one queued and the one being written.
final class S3PartStream: @unchecked Sendable {
    let uploadId: String
    private let objectKey: String
    private let pool: S3ClientPool
    private let spool: FileDescriptor
    private let partSize: Int64
    private let queue: BoundedQueue<(number: Int, length: Int64)>
    private let etags = Mutex<[Int: String]>([:])
    private var workers: [BackgroundTask] = []
    /// Parts handed to the workers so far (1...queued).
    private(set) var queued = 0

    init(objectKey: String, uploadId: String, pool: S3ClientPool, spoolPath: String, partSize: Int64, threads: Int) throws {
        self.objectKey = objectKey
        self.uploadId = uploadId
        self.pool = pool
        self.partSize = partSize
        spool = try FileDescriptor.openForUpdate(spoolPath)
        queue = BoundedQueue(capacity: 1)
        workers = (0..<max(1, threads)).map { n in BackgroundTask(name: "s3-stream-part-\(n)") { [self] in try work() } }
    }

    /// Queues every whole part the first `size` bytes of the spool hold (waiting while the queue is full).
    func send(upTo size: Int64) throws {
        while Int64(queued + 1) * partSize <= size {
            try push(partSize)
        }
    }

    /// Queues the rest of a spool of `size` bytes (its last part may be short), waits for
    /// every part, and returns their ETags in order.
    func finish(size: Int64) throws -> [String] {
        try send(upTo: size)
        if Int64(queued) * partSize < size { try push(size - Int64(queued) * partSize) }
        queue.close()
        for worker in workers { try worker.join() }
        return try etags.withLock { etags in
            try (1...max(1, queued)).map { number in
                guard let etag = etags[number] else { throw BackupError.unexpected("part \(number) of \(objectKey) has no ETag") }
                return etag
            }
        }
    }

    /// Queues the next part, of `length` bytes; S3 takes at most 10,000, which is said before any is past it.
    private func push(_ length: Int64) throws {
        guard queued < 10_000 else {
            throw BackupError.configuration("the object needs more than S3's 10,000 parts: raise BACKUP_S3_PART_SIZE_MB (now \(partSize >> 20))")
        }
        try queue.push((queued + 1, length))
        queued += 1
    }

    /// Stops the workers after a failure elsewhere (their errors are not the one reported).
    func cancel(_ error: Error) {
        queue.fail(error)
        for worker in workers { try? worker.join() }
    }

    private func work() throws {
        do {
            while let (number, length) = try queue.pop() {
                let offset = Int64(number - 1) * partSize
                let body = HTTPBody.file(spool, offset: offset, length: length)
                let etag = try pool.with { try $0.uploadPart(objectKey: objectKey, uploadId: uploadId, number: number, body: body) }
                etags.withLock { $0[number] = etag }
                spool.discard(offset: offset, length: length)
            }
        } catch {
            queue.fail(error)
            throw error
        }
    }

}
