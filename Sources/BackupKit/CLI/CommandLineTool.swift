import ArgumentParser
import Foundation

/// Runs one of the suite's commands from its arguments to a `RunOutcome`: parse and
/// validate (a usage error is an outcome too, in the `--json` shape when `--json` was
/// given), execute, report. The executables call `main`, which exits with the outcome's
/// status; tests call `run` in-process.
package enum CommandLineTool {
    /// The executable's entry point: runs `command` with the process's arguments and
    /// environment, with SIGINT/SIGTERM handled, then exits with the outcome's status.
    package static func main(_ command: any ParsableCommand.Type) -> Never {
        MemoryTuning.apply()
        // A peer that closes a connection must fail the request, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let outcome = run(command, arguments: Array(CommandLine.arguments.dropFirst()),
                          environment: ProcessInfo.processInfo.environment, handlesSignals: true)
        Cleanup.shared.removeAll()
        exit(outcome.status.rawValue)
    }

    /// Parses `arguments`, runs the command and reports its outcome on the console (the
    /// process's stdout and stderr, or `sink`). With `handlesSignals`, a SIGINT or SIGTERM
    /// removes the run's temporary files, reports the interruption and exits 130 or 143.
    package static func run(_ command: any ParsableCommand.Type, arguments: [String], environment: [String: String],
                            handlesSignals: Bool = false,
                            sink: (@Sendable (Console.Stream, String) -> Void)? = nil) -> RunOutcome {
        guard let type = command as? any RunnableCommand.Type else {
            preconditionFailure("\(command) is not one of the suite's commands")
        }
        return run(type, arguments: arguments, environment: environment, handlesSignals: handlesSignals, sink: sink)
    }

    private static func run(_ type: any RunnableCommand.Type, arguments: [String], environment: [String: String],
                            handlesSignals: Bool, sink: (@Sendable (Console.Stream, String) -> Void)?) -> RunOutcome {
        let command: any RunnableCommand
        do {
            var parsed = try type.parseAsRoot(arguments)
            guard let runnable = parsed as? any RunnableCommand else {
                // The parser's own commands (`--help`): running them throws their clean exit.
                try parsed.run()
                throw BackupError.unexpected("\(type) parsed as another command")
            }
            command = runnable
        } catch {
            return parseFailure(type, error, arguments: arguments, sink: sink)
        }
        let console = command.options.console(tool: type._commandName, sink: sink)
        let recorder = RunRecorder(job: command.job, console: console)
        if handlesSignals {
            Cleanup.shared.installSignalHandlers { status, message in
                RunOutcome(failure: status, message: message).report(on: console, recorder: recorder)
            }
        }
        let outcome: RunOutcome
        do {
            let context = RunContext(command: command, processEnvironment: environment, console: console, recorder: recorder)
            outcome = RunOutcome(result: try command.execute(context))
        } catch {
            outcome = RunOutcome(error: error)
        }
        if handlesSignals { Cleanup.shared.yieldToSignalHandler() }
        outcome.report(on: console, recorder: recorder)
        return outcome
    }

    /// What a parse error most likely means, when the parser cannot say: a bare path given
    /// where `--db PATH` was meant.
    static func hint(for message: String) -> String {
        let prefix = "Unexpected argument '"
        guard message.hasPrefix(prefix) else { return "" }
        let rest = message.dropFirst(prefix.count)
        guard let end = rest.firstIndex(of: "'") else { return "" }
        let argument = rest[..<end]
        guard !argument.hasPrefix("-") else { return "" }
        return "; to name the database, write --db \(argument)"
    }

    /// `--help` and `--version` (exit 0, text on stdout), or a usage error (exit 64): the
    /// parser's message and usage on stderr (one timestamped line off a terminal), or with
    /// `--json` the error line and the JSON error shape.
    private static func parseFailure(_ type: any RunnableCommand.Type, _ error: any Error, arguments: [String],
                                     sink: (@Sendable (Console.Stream, String) -> Void)?) -> RunOutcome {
        let wantsJSON = arguments.prefix { $0 != "--" }.contains("--json")
        let console = Console(tool: type._commandName, verbosity: .normal, json: wantsJSON, sink: sink)
        let code = type.exitCode(for: error)
        if code == .success {
            console.text(type.fullMessage(for: error))
            return RunOutcome(help: type.fullMessage(for: error))
        }
        let status = ExitStatus(rawValue: code.rawValue) ?? .usage
        let hint = Self.hint(for: type.message(for: error))
        let outcome = RunOutcome(failure: status, message: type.message(for: error) + hint)
        if wantsJSON || !console.isTerminal {
            // Off a terminal (cron, a log): one timestamped line like every other error.
            outcome.report(on: console, recorder: nil)
        } else {
            console.usage(type.fullMessage(for: error) + hint)
        }
        return outcome
    }
}
