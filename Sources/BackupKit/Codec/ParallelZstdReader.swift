import CZstd
import Foundation

/// Reads a zstd stream of independent frames, as `ZstdFrameWriter` writes a full backup (1 MiB
/// each, with its size and checksum), on several threads:
///
///     caller: find each frame's end ──frame──▶ workers: decompress whole ──▶ caller: emit in order
///
/// Finding a frame's end reads only its block headers. A worker decompresses a frame into a
/// buffer of the size its header names (the checksum and size checked by libzstd). A frame the
/// workers cannot take whole turns the rest of the stream over to one `ZstdStreamReader`, after
/// the frames before it: no size in its header, a claim beyond `largestFrame`, not a zstd
/// frame, or no end within `largestFrame` bytes. So any stream reads as one thread would read
/// it, and a damaged one fails (where one thread also refuses a frame asking a window over
/// 128 MiB, the workers need none: the stream is judged by its GCM tag all the same). Memory:
/// `window` frames, whatever the stream's size.
final class ParallelZstdReader: StreamDecompressor {
    /// The largest frame handed to a worker: 4x the backup encoder's block.
    static let largestFrame = 4 * BackupEncoder.defaultBlockSize
    private let workerCount: Int
    private let window: Int
    private let jobs: BoundedQueue<FrameJob>
    private let results: ReorderBuffer<FrameJob>
    private var workers: [BackgroundTask] = []
    /// Jobs that came back and were emitted, ready for reuse (the caller's alone).
    private var idle: [FrameJob] = []
    /// The job whose input receives the bytes: they start where a frame starts.
    private var filling: FrameJob?
    private var submitted = 0
    private var emitted = 0
    /// Set once a frame could not be taken whole: it reads the rest.
    private var sequential: ZstdStreamReader?

    init(workers: Int = min(4, max(2, ProcessInfo.processInfo.activeProcessorCount))) {
        workerCount = max(1, workers)
        window = workerCount + 2
        jobs = BoundedQueue(capacity: window)
        results = ReorderBuffer(window: window + 1)
    }

    deinit {
        jobs.fail(CancellationError())
        for worker in workers { try? worker.join() }  // a worker's error went to `results`, which nobody reads now
    }

    func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let sequential { return try sequential.feed(input, emit) }
        try nextJob(emit).input.append(contentsOf: input)
        try takeFrames(emit)
        while let job = try results.poll(emitted) { try hand(job, emit) }
    }

    func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if sequential == nil, let filling, !filling.input.isEmpty { try turnSequential(emit) }
        if let sequential { return try sequential.finish(emit) }
        while emitted < submitted { try handNext(emit) }
        guard submitted > 0 else { throw DecompressionFailure(description: "zstd data ends in the middle of a frame (truncated)") }
    }

    /// The job receiving bytes, taken (once a frame is out of the window) when there is none.
    private func nextJob(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> FrameJob {
        if let filling { return filling }
        if submitted - emitted >= window { try handNext(emit) }
        let job = idle.popLast() ?? FrameJob()
        job.input.removeAll(keepingCapacity: true)
        filling = job
        return job
    }

    /// Hands every whole frame the filling job holds to the workers; the bytes after one move
    /// to the next job.
    private func takeFrames(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        while let job = filling, !job.input.isEmpty {
            let (size, claimed, magic) = job.input.withUnsafeBytes { frame -> (Int, UInt64, UInt32) in
                let magic = frame.count >= 4 ? UInt32(littleEndian: frame.loadUnaligned(as: UInt32.self)) : 0
                return (ZSTD_findFrameCompressedSize(frame.baseAddress, frame.count),
                        ZSTD_getFrameContentSize(frame.baseAddress, frame.count), magic)
            }
            if ZSTD_isError(size) != 0 {
                // Cut short (or not zstd): wait for more, unless a frame this long would not be taken anyway.
                if job.input.count > Self.largestFrame + 1024 { try turnSequential(emit) }
                return
            }
            guard magic == ZSTD_MAGICNUMBER, claimed != ZSTD_CONTENTSIZE_UNKNOWN, claimed != ZSTD_CONTENTSIZE_ERROR,
                  claimed <= UInt64(Self.largestFrame) else {
                return try turnSequential(emit)
            }
            filling = nil
            if size < job.input.count {
                try nextJob(emit).input.append(contentsOf: job.input[size...])
                job.input.removeLast(job.input.count - size)
            }
            job.prepare(index: submitted, size: Int(claimed))
            if workers.isEmpty { startWorkers() }
            try jobs.push(job)
            submitted += 1
        }
    }

    /// Waits for the next frame and emits it.
    private func handNext(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let job = try results.take(emitted) else { throw BackupError.unexpected("a zstd frame went missing") }
        try hand(job, emit)
    }

    /// Emits the next frame's bytes, or throws what decompressing it found.
    private func hand(_ job: FrameJob, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        emitted += 1
        defer { idle.append(job) }
        if let failure = job.failure { throw failure }
        var offset = 0
        repeat {
            let end = min(job.size, offset + (128 << 10))
            try emit(UnsafeRawBufferPointer(rebasing: job.output[offset..<end]))
            offset = end
        } while offset < job.size
    }

    /// Emits every frame already taken, then reads the rest of the stream on this thread.
    private func turnSequential(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let rest = filling
        filling = nil
        while emitted < submitted { try handNext(emit) }
        let reader = try ZstdStreamReader()
        sequential = reader
        try rest?.input.withUnsafeBytes { try reader.feed($0, emit) }
    }

    private func startWorkers() {
        let (jobs, results) = (self.jobs, self.results)
        workers = (0..<workerCount).map { n in
            BackgroundTask(name: "restore-zstd-\(n)") {
                do {
                    let decompressor = try BlockDecompressor(.zstd)
                    while let job = try jobs.pop() {
                        job.run(with: decompressor)
                        try results.put(job.index, job)
                    }
                } catch {
                    results.fail(error)
                }
            }
        }
    }
}

/// One frame on its way through `ParallelZstdReader`: its compressed bytes in, its bytes out.
/// Owned by one thread at a time (the queues hand it over), and reused.
private final class FrameJob: @unchecked Sendable {
    private(set) var index = 0
    /// The frame's bytes (while filling, the bytes received since it began).
    var input: [UInt8] = []
    private(set) var output = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private(set) var size = 0
    private(set) var failure: DecompressionFailure?

    deinit { output.deallocate() }

    /// Readies the job to decompress `input`, which holds frame `index` of `size` bytes.
    func prepare(index: Int, size: Int) {
        self.index = index
        self.size = size
        failure = nil
        if output.count < size {
            output.deallocate()
            output = .allocate(byteCount: max(size, 1), alignment: 16)
        }
    }

    func run(with decompressor: BlockDecompressor) {
        do {
            try input.withUnsafeBytes { _ = try decompressor.decompress($0, into: UnsafeMutableRawBufferPointer(rebasing: output[0..<size])) }
        } catch let problem as DecompressionFailure {
            failure = problem
        } catch {
            failure = DecompressionFailure(description: "\(error)")
        }
    }
}
