import Foundation
import Synchronization

/// Records one run of a job in the metrics file, once: whichever comes first of the
/// result, the error, or a SIGINT/SIGTERM (which count as failures). A metrics file that
/// cannot be written is a warning, never the run's failure.
final class RunRecorder: Sendable {
    private struct State {
        var target: (file: MetricsFile, database: String)?
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

    func record(_ outcome: MetricsFile.Outcome) {
        state.withLock { state in
            guard let job, let target = state.target, !state.recorded else { return }
            state.recorded = true
            do {
                try target.file.record(job: job, database: target.database, outcome: outcome,
                                       durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started))
            } catch {
                console.warning("could not update the metrics file \(target.file.path): \(error); check BACKUP_METRICS_FILE")
            }
        }
    }
}
