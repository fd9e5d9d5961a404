import Foundation

/// Records one run of a job in the metrics file, once: whichever comes first of the
/// result, the error, or a SIGINT/SIGTERM (which count as failures). A metrics file that
/// cannot be written is a warning, never the run's failure.
final class RunRecorder: @unchecked Sendable {
    private let job: MetricsFile.Job?
    private let console: Console
    private let started = ContinuousClock.now
    private let lock = NSLock()
    private var target: (file: MetricsFile, database: String)?
    private var recorded = false

    init(job: MetricsFile.Job?, console: Console) {
        self.job = job
        self.console = console
    }

    /// Names the file (`BACKUP_METRICS_FILE`) and the `database` label.
    func configure(_ file: MetricsFile, database: String) {
        lock.lock()
        target = (file, database)
        lock.unlock()
    }

    func record(_ outcome: MetricsFile.Outcome) {
        lock.lock()
        defer { lock.unlock() }
        guard let job, let target, !recorded else { return }
        recorded = true
        do {
            try target.file.record(job: job, database: target.database, outcome: outcome,
                                   durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started))
        } catch {
            console.warning("could not update the metrics file \(target.file.path): \(error); check BACKUP_METRICS_FILE")
        }
    }
}
