import Foundation

/// Every command over several configured databases, one way: each database on its own
/// (its own settings, lock, objects, rows, metrics series and summary line), one after
/// another; one that fails does not stop the others; the run's exit code is the worst
/// (highest) of theirs. `backup`, `clean-backup` (and `--check`), `restore --verify-only`
/// and `backup --status` all go through it.
struct DatabaseFanOut {
    let settings: Settings
    let console: Console
    /// The metrics series each database's run is recorded under; nil records nothing.
    let job: MetricsFile.Job?
    /// What the closing line says was done (`backed up or skipped`, `checked`).
    let verb: String

    func run<Result: CommandResult>(_ body: (Settings) throws -> Result) -> FanOutResult<Result> {
        let metrics = job == nil ? nil : settings.environment["BACKUP_METRICS_FILE"].map { MetricsFile(path: Files.absolute($0)) }
        var items: [FanOutResult<Result>.Item] = []
        for entry in settings.databases {
            let started = ContinuousClock.now
            let item: FanOutResult<Result>.Item
            let outcome: MetricsFile.Outcome
            do {
                let result = try body(settings.withDatabase(entry))
                item = .done(entry, result)
                outcome = result.exitStatus == .ok ? result.metricsOutcome : .failure
            } catch let error as BackupError {
                item = .failed(entry, error.exitStatus, error.description)
                outcome = .failure
            } catch {
                item = .failed(entry, .failure, "unexpected failure: \(error)")
                outcome = .failure
            }
            items.append(item)
            if let job, let metrics {
                metrics.record(job: job, database: entry.name, outcome: outcome,
                               durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started), warningOn: console)
            }
        }
        return FanOutResult(items: items, verb: verb)
    }
}

/// What a run over several databases did (its `--json` shape:
/// `{"ok": …, "exit_code": …, "results": [ … ]}`, each result as a one-database run prints it,
/// a failure as `{"ok": false, "database": …, "exit_code": …, "error": …}`).
struct FanOutResult<Result: CommandResult>: CommandResult {
    enum Item {
        case done(DatabaseEntry, Result)
        case failed(DatabaseEntry, ExitStatus, String)

        var status: ExitStatus {
            switch self {
            case .done(_, let result): return result.exitStatus
            case .failed(_, let status, _): return status
            }
        }
    }

    let items: [Item]
    let verb: String

    /// The worst (highest) exit code of the databases.
    var exitStatus: ExitStatus { items.map(\.status).max { $0.rawValue < $1.rawValue } ?? .ok }
    /// Each database is recorded on its own (`DatabaseFanOut`); the run as a whole is not.
    var metricsOutcome: MetricsFile.Outcome { exitStatus == .ok ? .success(sizeBytes: nil) : .failure }

    private struct Failure: Encodable {
        var ok = false
        let database: String
        let name: String
        let exitCode: Int32
        let error: String
    }

    enum CodingKeys: String, CodingKey { case ok, exitCode, results }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(exitStatus == .ok, forKey: .ok)
        try container.encode(exitStatus.rawValue, forKey: .exitCode)
        var results = container.nestedUnkeyedContainer(forKey: .results)
        for item in items {
            switch item {
            case .done(_, let result): try results.encode(result)
            case .failed(let entry, let status, let message):
                try results.encode(Failure(database: entry.path, name: entry.name, exitCode: status.rawValue, error: message))
            }
        }
    }

    /// Each database's own lines, its error line, then one closing line.
    func render(on console: Console) {
        for item in items {
            switch item {
            case .done(_, let result): result.render(on: console)
            case .failed(let entry, _, let message): console.error("\(entry.name): \(message)")
            }
        }
        let failed = items.filter { $0.status != .ok }.count
        console.info("\(items.count - failed) of \(items.count) databases \(verb), \(failed) failed")
    }
}
