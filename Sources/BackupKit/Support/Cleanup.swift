import Foundation
import Synchronization
import Glibc

/// Paths that must not outlive the process: snapshots, partial objects, partial restores.
/// They are removed by whoever finishes first: the owner on success or failure, or the
/// SIGINT/SIGTERM handler, which then exits 130/143.
package final class Cleanup: Sendable {
    package static let shared = Cleanup()

    private struct State {
        /// Each path with how many owners registered it.
        var paths: [String: Int] = [:]
        var sources: [DispatchSourceSignal] = []
        /// A SIGINT or SIGTERM arrived: the handler owns the end of the process.
        var stopping = false
    }

    private let state = Mutex(State())

    /// Registers `path` for removal on a signal.
    func register(_ path: String) {
        state.withLock { $0.paths[path, default: 0] += 1 }
    }

    /// Registers `path` and runs `create`, which makes it, as one step against the signal
    /// handler: either the handler finds the path made and removes it, or it has begun already
    /// and this thread waits for its exit, never making a path the handler would miss.
    func creating<T: Sendable>(_ path: String, _ create: () throws -> T) throws -> T {
        let made: Result<T, any Error>? = state.withLock { state in
            guard !state.stopping else { return nil }
            state.paths[path, default: 0] += 1
            return Result { try create() }
        }
        guard let made else {
            yieldToSignalHandler()
            throw BackupError.unexpected("stopped by a signal")
        }
        if case .failure = made { forget(path) }
        return try made.get()
    }

    /// Stops tracking `path` (it was renamed into place or removed by its owner).
    func forget(_ path: String) {
        state.withLock { state in
            if let count = state.paths[path] {
                state.paths[path] = count > 1 ? count - 1 : nil
            }
        }
    }

    /// Removes every registered path now, and returns them.
    @discardableResult
    func removeAll() -> [String] {
        let all = state.withLock { state in
            defer { state.paths.removeAll() }
            return Array(state.paths.keys)
        }
        for path in all { Files.remove(path) }
        return all
    }

    /// Once a SIGINT or SIGTERM arrived, the run's end is the signal's: the main thread,
    /// which may have failed only because its temporary files were removed under it, waits
    /// here for the handler's exit instead of reporting that failure.
    func yieldToSignalHandler() {
        guard state.withLock({ $0.stopping }) else { return }
        while true { sleep(1) }
    }

    /// Routes SIGINT and SIGTERM to `removeAll`, then to `report` (the run's outcome: exit
    /// status and message), then exits with 130 or 143: the main thread is still busy.
    func installSignalHandlers(report: @escaping @Sendable (ExitStatus, String) -> Void) {
        state.withLock { state in
            guard state.sources.isEmpty else { return }
            for (signo, status) in [(SIGINT, ExitStatus.interrupted), (SIGTERM, ExitStatus.terminated)] {
                signal(signo, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
                source.setEventHandler { [weak self] in
                    self?.state.withLock { $0.stopping = true }
                    let removed = self?.removeAll() ?? []
                    report(status, "stopped by \(signo == SIGINT ? "SIGINT" : "SIGTERM"): temporary files removed, nothing stored or written")
                    // The main thread ran on meanwhile (SQLite may have made a journal in a
                    // folder being removed): sweep once more, right before the exit.
                    for path in removed { Files.remove(path) }
                    _exit(status.rawValue)
                }
                source.resume()
                state.sources.append(source)
            }
        }
    }
}
