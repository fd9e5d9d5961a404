import Foundation

/// Where the suite talks: human messages on stderr (quiet, normal or verbose), results
/// on stdout (the key, a listing, or JSON with `--json`).
public final class Console: @unchecked Sendable {
    public enum Verbosity: Sendable { case quiet, normal, verbose }

    public let verbosity: Verbosity
    public let json: Bool
    private let tool: String
    private let lock = NSLock()

    public init(tool: String, verbosity: Verbosity, json: Bool) {
        self.tool = tool
        self.verbosity = verbosity
        self.json = json
    }

    /// A progress or summary message (hidden by `--quiet`).
    public func info(_ message: @autoclosure () -> String) {
        if verbosity != .quiet { writeError(message()) }
    }

    /// Detail shown only with `--verbose`.
    public func detail(_ message: @autoclosure () -> String) {
        if verbosity == .verbose { writeError(message()) }
    }

    /// Something the user should know even under `--quiet`.
    public func warning(_ message: String) {
        writeError("\(tool): warning: \(message)")
    }

    /// The one-line error of a failed run.
    public func error(_ message: String) {
        writeError("\(tool): error: \(message)")
    }

    /// A line of result on stdout (hidden by `--quiet` unless it is JSON).
    public func result(_ line: String) {
        if verbosity != .quiet || json { write(line, to: FileHandle.standardOutput) }
    }

    private func writeError(_ line: String) {
        write(line, to: FileHandle.standardError)
    }

    private func write(_ line: String, to handle: FileHandle) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data((line + "\n").utf8))
    }
}
