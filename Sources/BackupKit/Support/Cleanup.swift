import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Paths that must not outlive the process: snapshots, partial objects, partial restores.
/// They are removed by whoever finishes first: the owner on success or failure, or the
/// SIGINT/SIGTERM handler, which then exits 130/143.
public final class Cleanup: @unchecked Sendable {
    public static let shared = Cleanup()

    private let lock = NSLock()
    private var paths: [String: Int] = [:]
    private var sources: [DispatchSourceSignal] = []
    private var installed = false

    /// Registers `path` for removal on a signal.
    func register(_ path: String) {
        lock.lock()
        paths[path, default: 0] += 1
        lock.unlock()
    }

    /// Stops tracking `path` (it was renamed into place or removed by its owner).
    func forget(_ path: String) {
        lock.lock()
        if let count = paths[path] {
            paths[path] = count > 1 ? count - 1 : nil
        }
        lock.unlock()
    }

    /// Removes every registered path now.
    func removeAll() {
        lock.lock()
        let all = Array(paths.keys)
        paths.removeAll()
        lock.unlock()
        for path in all { Files.remove(path) }
    }

    /// Routes SIGINT and SIGTERM to `removeAll`, then to `report` (a message for the log),
    /// then exits with 130 or 143.
    public func installSignalHandlers(report: @escaping @Sendable (String) -> Void = { _ in }) {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        for (signo, status) in [(SIGINT, ExitStatus.interrupted), (SIGTERM, ExitStatus.terminated)] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { [weak self] in
                self?.removeAll()
                report("stopped by \(signo == SIGINT ? "SIGINT" : "SIGTERM"): temporary files removed, nothing stored or written")
                _exit(status.rawValue)
            }
            source.resume()
            sources.append(source)
        }
    }
}
