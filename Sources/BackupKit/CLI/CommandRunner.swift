import ArgumentParser
import Foundation

/// Runs a command body and maps its outcome to output and one exit code, in one place:
/// a `BackupError` prints its one-line message (and, with `--json`, a JSON error object
/// on stdout) and exits with its code; anything else exits 1.
enum CommandRunner {
    static func run<Result: Encodable>(tool: String, options: CommonOptions, compression: Int? = nil,
                                       _ body: (Settings, Console) throws -> Result,
                                       human: (Result, Console) -> Void) throws {
        Cleanup.shared.installSignalHandlers()
        MemoryTuning.apply()
        let console = options.console(tool: tool)
        do {
            var overrides = options.overrides()
            overrides.compressionLevel = compression
            var settings = try Settings(overrides: overrides, environment: Environment.load(envFile: options.envFile))
            settings.onStorageRetry = { [console] message in console.detail(message) }
            let result = try body(settings, console)
            if console.json { console.result(jsonText(result)) } else { human(result, console) }
        } catch let error as BackupError {
            fail(error.description, status: error.exitStatus, console: console)
        } catch let error as ExitCode {
            throw error
        } catch {
            fail("unexpected failure: \(error)", status: .failure, console: console)
        }
    }

    private static func fail(_ message: String, status: ExitStatus, console: Console) -> Never {
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
