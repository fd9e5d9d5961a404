import Foundation

/// `restore --pick`: a numbered list of the backups, newest first, and a question on the
/// terminal. `--yes` answers it with the newest; without a terminal it is a usage error.
enum BackupPicker {
    /// How many backups the list shows at most.
    static let shown = 30

    /// The object key of the backup the user picks among `entries` (newest first).
    static func choose(from entries: [BackupEntry], console: Console, yes: Bool) throws -> String {
        if yes { return entries[0].objectKey }
        guard console.isTerminal else { throw BackupError.pickNeedsTerminal }
        let listed = Array(entries.prefix(shown))
        let now = Date()
        var menu = "Backups, newest first:\n"
        for (number, entry) in listed.enumerated() {
            let age = Formatting.shortDuration(entry.age(at: now))
            menu += String(format: "%3d) ", number + 1)
                + "\(Formatting.iso8601(millis: entry.createdAt))  \(Formatting.bytes(entry.size).padding(toLength: 10, withPad: " ", startingAt: 0))  \(age) ago  \(entry.objectKey)\n"
        }
        if entries.count > listed.count { menu += "     (\(entries.count - listed.count) older not shown; use --key)\n" }
        console.info(menu, plain: true)
        while true {
            guard let answer = console.ask("Restore which backup? [1-\(listed.count), q to quit] ") else {
                throw BackupError.pickNeedsTerminal
            }
            if ["q", "quit", ""].contains(answer.lowercased()) { throw BackupError.declined }
            if let number = Int(answer), (1...listed.count).contains(number) { return listed[number - 1].objectKey }
            console.info("type a number from 1 to \(listed.count), or q", plain: true)
        }
    }
}
