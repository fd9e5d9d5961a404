import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the suite talks: human messages on stderr (quiet, normal or verbose), results
/// on stdout (the key, a listing, or JSON with `--json`).
///
/// On a terminal, messages are plain lines and a stage may show a live progress line.
/// Off a terminal (cron, a pipe, a log file) there is no progress line and every message
/// starts with an ISO-8601 UTC timestamp and a level: `2026-11-23T03:00:01.234Z INFO backup: ...`.
public final class Console: @unchecked Sendable {
    public enum Verbosity: Sendable { case quiet, normal, verbose }

    /// Message levels, as written off a terminal.
    enum Level: String { case debug = "DEBUG", info = "INFO", warning = "WARN", error = "ERROR" }

    public let verbosity: Verbosity
    public let json: Bool
    /// Whether stderr is a terminal: progress lines on, timestamps off.
    public let isTerminal: Bool
    let tool: String
    private let lock = NSLock()
    /// The progress line currently drawn on the terminal, if any.
    private var progressLine: String?

    public init(tool: String, verbosity: Verbosity, json: Bool, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.tool = tool
        self.verbosity = verbosity
        self.json = json
        self.isTerminal = isTerminal
    }

    /// A progress or summary message (hidden by `--quiet`). `plain` text (menus) is
    /// written as it is, without timestamp or level.
    public func info(_ message: @autoclosure () -> String, plain: Bool = false) {
        guard verbosity != .quiet else { return }
        if plain { write(message() + "\n", to: STDERR_FILENO) } else { log(.info, message()) }
    }

    /// Detail shown only with `--verbose`.
    public func detail(_ message: @autoclosure () -> String) {
        if verbosity == .verbose { log(.debug, message()) }
    }

    /// Something the user should know even under `--quiet`.
    public func warning(_ message: String) {
        log(.warning, message)
    }

    /// The one-line error of a failed run.
    public func error(_ message: String) {
        log(.error, message)
    }

    /// A line of result on stdout (hidden by `--quiet` unless it is JSON).
    public func result(_ line: String) {
        if verbosity != .quiet || json { write(line + "\n", to: STDOUT_FILENO) }
    }

    /// Whether live progress lines are shown: on a terminal, unless `--quiet`.
    public var showsProgress: Bool { isTerminal && verbosity != .quiet }

    /// Starts a live progress line for one stage (a no-op off a terminal).
    public func progress(_ stage: String, total: Int64?, done: @escaping @Sendable () -> Int64) -> ProgressMeter {
        ProgressMeter(console: self, stage: stage, total: total, done: done, enabled: showsProgress)
    }

    /// Asks a question on the terminal and reads one line of answer; nil when stdin or
    /// stderr is not a terminal (cron), or stdin ends.
    public func ask(_ question: String) -> String? {
        guard isatty(STDIN_FILENO) == 1 && isTerminal else { return nil }
        write(question, to: STDERR_FILENO)
        return readLine()?.trimmingCharacters(in: .whitespaces)
    }

    func log(_ level: Level, _ message: String) {
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
        write(line + "\n", to: STDERR_FILENO)
    }

    /// Draws (or, with nil, erases) the progress line; other messages erase it first.
    func drawProgress(_ text: String?) {
        lock.lock()
        defer { lock.unlock() }
        var out = progressLine == nil ? "" : "\r\u{1B}[K"
        if let text { out += text }
        progressLine = text
        Self.writeAll(out, to: STDERR_FILENO)
    }

    private func write(_ text: String, to fd: Int32) {
        lock.lock()
        defer { lock.unlock() }
        guard let line = progressLine else { return Self.writeAll(text, to: fd) }
        // Erase the progress line, print the message, draw the progress line again below it.
        if fd == STDERR_FILENO {
            Self.writeAll("\r\u{1B}[K" + text + line, to: fd)
        } else {
            Self.writeAll("\r\u{1B}[K", to: STDERR_FILENO)
            Self.writeAll(text, to: fd)
            Self.writeAll(line, to: STDERR_FILENO)
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
