import Foundation

/// `backup` over several databases: each one backed up on its own (its own lock, object,
/// catalog rows, metrics series and summary line), one after another; a database that fails
/// does not stop the others. The run's exit code is the worst (highest) of theirs.
package struct MultiBackup {
    /// How each database is backed up (flags and settings); its database is replaced by each one.
    package let operation: BackupOperation

    package init(operation: BackupOperation) {
        self.operation = operation
    }

    package func run() -> MultiBackupResult {
        let settings = operation.settings
        let metrics = settings.environment["BACKUP_METRICS_FILE"].map { MetricsFile(path: Files.absolute($0)) }
        var items: [MultiBackupResult.Item] = []
        for entry in settings.databases {
            let path = entry.path
            let started = ContinuousClock.now
            var operation = operation
            operation.settings = settings.withDatabase(entry)
            let item: MultiBackupResult.Item
            let outcome: MetricsFile.Outcome
            do {
                let result = try operation.run()
                item = .done(result)
                if case .completed(let completed) = result { outcome = .success(sizeBytes: completed.storedSize) } else { outcome = .skipped }
            } catch let error as BackupError {
                item = .failed(database: path, status: error.exitStatus, message: error.description)
                outcome = .failure
            } catch {
                item = .failed(database: path, status: .failure, message: "unexpected failure: \(error)")
                outcome = .failure
            }
            items.append(item)
            metrics?.record(job: .backup, database: entry.name, outcome: outcome,
                            durationSeconds: Formatting.durationSeconds(ContinuousClock.now - started), warningOn: operation.console)
        }
        return MultiBackupResult(items: items)
    }
}

/// What a backup over several databases did (its `--json` shape:
/// `{"ok": …, "exit_code": …, "results": [ … ]}`, each result as a one-database run prints it,
/// a failure as `{"ok": false, "database": …, "exit_code": …, "error": …}`).
package struct MultiBackupResult: Encodable {
    package enum Item {
        case done(BackupOutcome)
        case failed(database: String, status: ExitStatus, message: String)
    }

    package let items: [Item]

    /// The worst (highest) exit code of the databases.
    package var status: ExitStatus {
        items.map { item -> ExitStatus in
            if case .failed(_, let status, _) = item { return status }
            return .ok
        }.max { $0.rawValue < $1.rawValue } ?? .ok
    }

    private struct Failure: Encodable {
        var ok = false
        let database: String
        let exitCode: Int32
        let error: String
    }

    enum CodingKeys: String, CodingKey { case ok, exitCode, results }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status == .ok, forKey: .ok)
        try container.encode(status.rawValue, forKey: .exitCode)
        var results = container.nestedUnkeyedContainer(forKey: .results)
        for item in items {
            switch item {
            case .done(let outcome): try results.encode(outcome)
            case .failed(let database, let status, let message):
                try results.encode(Failure(database: database, exitCode: status.rawValue, error: message))
            }
        }
    }
}
