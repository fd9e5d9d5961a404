import Foundation
import Synchronization
import Glibc

/// Where the suite talks: human messages on stderr (quiet, normal or verbose), results
/// on stdout (the key, a listing, or JSON with `--json`).
///
/// On a terminal, messages are plain lines and a stage may show a live progress line.
/// Off a terminal (cron, a pipe, a log file) there is no progress line and every message
/// starts with an ISO-8601 UTC timestamp and a level: `2026-11-23T03:00:01.234Z INFO backup: ...`.
package final class Console: Sendable {
    package enum Verbosity: Sendable { case quiet, normal, verbose }

    /// Message levels, as written off a terminal.
    enum Level: String { case debug = "DEBUG", info = "INFO", warning = "WARN", error = "ERROR" }

    /// The two streams a console writes to.
    package enum Stream: Sendable { case stdout, stderr }

    package let verbosity: Verbosity
    package let json: Bool
    /// Whether stderr is a terminal: progress lines on, timestamps off.
    package let isTerminal: Bool
    let tool: String
    /// The progress line currently drawn on the terminal, if any, and whether the run's
    /// final error has been written (after it no progress line is drawn again); its lock
    /// also keeps lines from different threads whole.
    private let progressLine = Mutex<(text: String?, ended: Bool)>((nil, false))
    /// Where text goes: the process's stdout and stderr, or a test's transcript.
    private let sink: @Sendable (Stream, String) -> Void

    /// A console on the process's stdout and stderr, or on `sink` (in-process runs in tests).
    package init(tool: String, verbosity: Verbosity, json: Bool, isTerminal: Bool = isatty(STDERR_FILENO) == 1,
                sink: (@Sendable (Stream, String) -> Void)? = nil) {
        self.tool = tool
        self.verbosity = verbosity
        self.json = json
        self.isTerminal = isTerminal
        self.sink = sink ?? { stream, text in Console.writeAll(text, to: stream == .stdout ? STDOUT_FILENO : STDERR_FILENO) }
    }

    /// A progress or summary message (hidden by `--quiet`). `plain` text (menus) is
    /// written as it is, without timestamp or level.
    package func info(_ message: @autoclosure () -> String, plain: Bool = false) {
        guard verbosity != .quiet else { return }
        if plain { write(message() + "\n", to: .stderr) } else { log(.info, message()) }
    }

    /// Detail shown only with `--verbose`.
    package func detail(_ message: @autoclosure () -> String) {
        if verbosity == .verbose { log(.debug, message()) }
    }

    /// Something the user should know even under `--quiet`.
    package func warning(_ message: String) {
        log(.warning, message)
    }

    /// The one-line error of a failed run (or a stop by a signal): the last thing on the
    /// terminal, with no progress line drawn after it.
    package func error(_ message: String) {
        progressLine.withLock { $0.ended = true }
        log(.error, message)
    }

    /// Text as it is on stderr, whatever the verbosity: the parser's usage message.
    func usage(_ text: String) {
        write(text + "\n", to: .stderr)
    }

    /// The suite's own text on stdout as it is, newlines included (`--help`).
    func text(_ text: String) {
        write(text.hasSuffix("\n") ? text : text + "\n", to: .stdout)
    }

    /// A line of result on stdout (hidden by `--quiet` unless it is JSON).
    package func result(_ line: String) {
        if verbosity != .quiet || json { write(Self.oneLine(line) + "\n", to: .stdout) }
    }

    /// `text` with control characters (a newline, an escape) shown as `\u{…}`: a file name
    /// from storage never forges a log line or drives the terminal.
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether live progress lines are shown: on a terminal, unless `--quiet`.
    package var showsProgress: Bool { isTerminal && verbosity != .quiet }

    /// Starts a live progress line for one stage (a no-op off a terminal).
    package func progress(_ stage: String, total: Int64?, done: @escaping @Sendable () -> Int64) -> ProgressMeter {
        ProgressMeter(console: self, stage: stage, total: total, done: done, enabled: showsProgress)
    }

    /// Asks a question on the terminal and reads one line of answer; nil when stdin or
    /// stderr is not a terminal (cron), or stdin ends.
    package func ask(_ question: String) -> String? {
        guard isatty(STDIN_FILENO) == 1 && isTerminal else { return nil }
        write(question, to: .stderr)
        return readLine()?.trimmingCharacters(in: .whitespaces)
    }

    func log(_ level: Level, _ text: String) {
        let message = Self.oneLine(text)
        let line: String
        if isTerminal {
            switch level {
            case .debug, .info: line = message
            case .warning: line = "\(tool): warning: \(message)"
            case .error: line = "\(tool): error: \(message)"
            }
        } else {
            line = "\(Formatting.timestamp(Date())) \(level.rawValue) \(tool): \(message)"
        }
        write(line + "\n", to: .stderr)
    }

    /// Draws (or, with nil, erases) the progress line; other messages erase it first.
    func drawProgress(_ text: String?) {
        progressLine.withLock { progress in
            var out = progress.text == nil ? "" : "\r\u{1B}[K"
            if let text, !progress.ended { out += text }
            progress.text = progress.ended ? nil : text
            if !out.isEmpty { sink(.stderr, out) }
        }
    }

    private func write(_ text: String, to stream: Stream) {
        progressLine.withLock { progress in
            guard let line = progress.text else { return sink(stream, text) }
            if progress.ended {
                // The final error: erase the progress line for good, then the message.
                progress.text = nil
                return stream == .stderr ? sink(.stderr, "\r\u{1B}[K" + text) : { sink(.stderr, "\r\u{1B}[K"); sink(.stdout, text) }()
            }
            // Erase the progress line, print the message, draw the progress line again below it.
            if stream == .stderr {
                sink(.stderr, "\r\u{1B}[K" + text + line)
            } else {
                sink(.stderr, "\r\u{1B}[K")
                sink(.stdout, text)
                sink(.stderr, line)
            }
        }
    }

    private static func writeAll(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}
