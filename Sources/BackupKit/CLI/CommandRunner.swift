import ArgumentParser
import Foundation

/// A command result that tells the metrics file how the run went (default: a success
/// without a size).
protocol MetricsReporting {
    var metricsOutcome: MetricsFile.Outcome { get }
}

/// Runs a command body and maps its outcome to output and one exit code, in one place:
/// a `BackupError` prints its one-line message (and, with `--json`, a JSON error object
/// on stdout) and exits with its code; anything else exits 1. With `job` set and
/// `BACKUP_METRICS_FILE` configured, the run is recorded there, success or failure.
enum CommandRunner {
    static func run<Result: Encodable>(tool: String, options: CommonOptions, compression: Int? = nil,
                                       job: MetricsFile.Job? = nil,
                                       _ body: (Settings, Console) throws -> Result,
                                       human: (Result, Console) -> Void) throws {
        MemoryTuning.apply()
        // A peer that closes a connection must fail the request, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let console = options.console(tool: tool)
        let recorder = RunRecorder(job: job, console: console)
        Cleanup.shared.installSignalHandlers { message in
            recorder.record(.failure)
            console.error(message)
        }
        do {
            var overrides = options.overrides()
            overrides.compressionLevel = compression
            let environment = try Environment.load(envFile: options.envFile)
            if let path = environment["BACKUP_METRICS_FILE"] {
                let database = (overrides.databasePath ?? environment["BACKUP_DB_PATH"]).map { ($0 as NSString).lastPathComponent }
                recorder.configure(MetricsFile(path: Files.absolute(path)), database: database ?? "all")
            }
            var settings = try Settings(overrides: overrides, environment: environment)
            settings.storageLog = StorageLog(detail: { [console] in console.detail($0) }, warning: { [console] in console.warning($0) })
            let result = try body(settings, console)
            recorder.record((result as? MetricsReporting)?.metricsOutcome ?? .success(sizeBytes: nil))
            if console.json { console.result(jsonText(result)) } else { human(result, console) }
        } catch let error as BackupError {
            recorder.record(.failure)
            fail(error.description, status: error.exitStatus, console: console)
        } catch let error as ExitCode {
            throw error
        } catch {
            recorder.record(.failure)
            fail("unexpected failure: \(error)", status: .failure, console: console)
        }
    }

    static func fail(_ message: String, status: ExitStatus, console: Console) -> Never {
        console.error(message)
        if console.json {
            console.result(jsonText(["ok": AnyEncodable(false), "exit_code": AnyEncodable(status.rawValue), "error": AnyEncodable(message)]))
        }
        Cleanup.shared.removeAll()
        exit(status.rawValue)
    }

    static func jsonText<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A type-erased `Encodable` for small ad-hoc JSON objects.
struct AnyEncodable: Encodable {
    private let encodeValue: (Encoder) throws -> Void

    init<T: Encodable>(_ value: T) {
        encodeValue = value.encode
    }

    func encode(to encoder: Encoder) throws {
        try encodeValue(encoder)
    }
}
