import Foundation

/// How a run ended, and the one place that turns it into everything the outside sees: the
/// exit status, the error line, the `--json` document, the metrics record and the summary.
/// A usage error, a failure, a result and a SIGINT/SIGTERM all end through here.
package struct RunOutcome {
    /// The process exit code.
    package let status: ExitStatus
    /// The one-line error of a failed run (stderr).
    package let error: String?
    /// The `--json` document (stdout): the result, or `{"ok": false, "exit_code": …, "error": …}`.
    package let json: String
    /// How the metrics file records the run.
    let metrics: MetricsFile.Outcome
    /// The result for a person, when the run produced one.
    private let render: ((Console) -> Void)?

    /// A run that produced `result`.
    init(result: any CommandResult) {
        status = result.exitStatus
        error = nil
        json = Self.jsonText(result)
        metrics = result.metricsOutcome
        render = result.render(on:)
    }

    /// `--help` or `--version`: printed already, exit 0.
    init(help text: String) {
        status = .ok
        error = nil
        json = text
        metrics = .success(sizeBytes: nil)
        render = nil
    }

    /// A run that failed with `message`.
    init(failure status: ExitStatus, message: String) {
        self.status = status
        error = message
        json = Self.jsonText(FailureDocument(exitCode: status.rawValue, error: message))
        metrics = .failure
        render = nil
    }

    /// A run ended by `error`: a `BackupError` keeps its exit code, anything else is 1.
    init(error: any Error) {
        if let error = error as? BackupError {
            self.init(failure: error.exitStatus, message: error.description)
        } else {
            self.init(failure: .failure, message: "unexpected failure: \(error)")
        }
    }

    /// Prints the outcome on `console` and records it in the metrics file.
    func report(on console: Console, recorder: RunRecorder?) {
        recorder?.record(metrics, status: status, error: error)
        if let error { console.error(error) }
        if console.json {
            console.result(json)
        } else {
            render?(console)
        }
    }

    /// The `--json` shape of a failed run.
    private struct FailureDocument: Encodable {
        var ok = false
        let exitCode: Int32
        let error: String
    }

    /// `value` as one line of JSON with snake_case keys, sorted.
    static func jsonText<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
