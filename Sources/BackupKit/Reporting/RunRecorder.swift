import Foundation
import Synchronization

/// Records one run of a job in the metrics file and at the ping URL, once: whichever comes
/// first of the result, the error, or a SIGINT/SIGTERM (which count as failures). A metrics
/// file that cannot be written or a ping that does not arrive is a warning, never the run's
/// failure.
final class RunRecorder: Sendable {
    private struct State {
        var target: (file: MetricsFile, database: String)?
        var ping: PingURL?
        var recorded = false
    }

    private let job: MetricsFile.Job?
    private let console: Console
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    init(job: MetricsFile.Job?, console: Console) {
        self.job = job
        self.console = console
    }

    /// Names the file (`BACKUP_METRICS_FILE`) and the `database` label.
    func configure(_ file: MetricsFile, database: String) {
        state.withLock { $0.target = (file, database) }
    }

    /// Names the ping URL (`BACKUP_PING_URL`) and pings its start.
    func configure(ping: PingURL) {
        guard job != nil else { return }
        state.withLock { $0.ping = ping }
        ping.send(.start, console: console)
    }

    /// Records how the run ended: `status`, and `error` (the error line) when it failed.
    func record(_ outcome: MetricsFile.Outcome, status: ExitStatus, error: String?) {
        let (target, ping) = state.withLock { state -> ((file: MetricsFile, database: String)?, PingURL?) in
            guard job != nil, !state.recorded else { return (nil, nil) }
            state.recorded = true
            return (state.target, state.ping)
        }
        if let job, let target {
            target.file.record(job: job, database: target.database, outcome: outcome,
                               durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started), warningOn: console)
        }
        if let ping {
            if status == .ok {
                ping.send(.success, console: console)
            } else {
                ping.send(.failure, body: error ?? "exit \(status.rawValue)", console: console)
            }
        }
    }
}
