import Synchronization

/// A snapshot check that starts only once it is needed, on its own thread. An incremental
/// backup starts it at the first block that differs from the previous backup's. A snapshot
/// that never differs equals the previous one byte for byte (same ids, same size). Its check
/// proved the same thing already, so it is skipped: the rule `backup` documents.
final class DeferredCheck: Sendable {
    private let run: @Sendable () throws -> Void
    private let task = Mutex<BackgroundTask?>(nil)

    init(_ run: @escaping @Sendable () throws -> Void) {
        self.run = run
    }

    /// Starts the check unless it runs already.
    func start() {
        task.withLock { task in
            if task == nil { task = BackgroundTask(name: "snapshot-check", run) }
        }
    }

    /// Waits for the check. If it never started, it runs now, unless the snapshot was
    /// `unchanged`. Returns whether it ran; throws what it found.
    func finish(unchanged: Bool) throws -> Bool {
        guard let running = task.withLock({ $0 }) else {
            if unchanged { return false }
            try run()
            return true
        }
        try running.join()
        return true
    }

    /// Waits for a started check after a failure elsewhere, ignoring what it found: the
    /// failure that stopped the backup is the one reported.
    func abandon() {
        if let running = task.withLock({ $0 }) { try? running.join() }
    }
}
