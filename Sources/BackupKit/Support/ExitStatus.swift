/// The process exit codes of all three executables (sysexits.h values), documented in the README.
package enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Everything worked.
    case ok = 0
    /// An unexpected failure (a bug or an unforeseen system error).
    case failure = 1
    /// `backup --status`: no backup, or the newest is older than `BACKUP_MAX_AGE`.
    case stale = 3
    /// Bad usage: unknown flag, invalid value, a question that could not be asked.
    case usage = 64
    /// Bad data: wrong key, tampered or corrupt backup, failed integrity check, not a SQLite database.
    case dataError = 65
    /// Input missing: the database or the backup key does not exist.
    case noInput = 66
    /// Storage unavailable.
    case unavailable = 69
    /// The output (restored file, object, catalog row) could not be created.
    case cannotCreate = 73
    /// Locked: another run holds the lock, or the database stayed busy; try again later.
    case tryAgain = 75
    /// Configuration error: missing or malformed key, incomplete storage settings.
    case configuration = 78
    /// Stopped by SIGINT.
    case interrupted = 130
    /// Stopped by SIGTERM.
    case terminated = 143
}

extension ExitStatus {
    /// The "Exit codes:" block of a command's help (and so of its man page's EXIT STATUS):
    /// `meanings` in order, then the two signals every executable ends with. A meaning may
    /// hold a newline; its further lines are indented under the first.
    static func helpBlock(_ meanings: KeyValuePairs<ExitStatus, String>) -> String {
        let rows = Array(meanings) + [(interrupted, "stopped by SIGINT (Ctrl-C); its temporary files are removed"),
                                      (terminated, "stopped by SIGTERM (systemctl stop, kill); the same")]
        return "Exit codes:\n" + rows.map { status, meaning in
            let code = String(status.rawValue)
            let lines = meaning.split(separator: "\n", omittingEmptySubsequences: false)
            return "  " + code + String(repeating: " ", count: 4 - code.count) + lines.joined(separator: "\n      ")
        }.joined(separator: "\n")
    }
}
