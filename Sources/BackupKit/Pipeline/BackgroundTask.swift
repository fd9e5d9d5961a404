import Foundation

/// Runs `body` on a thread of its own; `join` waits for it and rethrows what it threw. The
/// one way the suite runs work in parallel: the codec pipelines' stages, the snapshot check
/// beside the encoder, and the S3 part uploaders. Each is a plain thread because each
/// blocks (on disk, on libcurl, on a queue), which a shared pool must not do.
final class BackgroundTask: @unchecked Sendable {
    private var error: Error?
    private let done = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { self.error = error }
            done.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    func join() throws {
        done.wait()
        done.signal() // later joins return at once
        if let error { throw error }
    }
}
