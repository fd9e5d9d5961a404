import Foundation

/// `restore --pick`: a numbered list of the backups, newest first, and a question on the
/// terminal. `--yes` answers it with the newest; without a terminal it is a usage error.
enum BackupPicker {
    /// How many backups the list shows at most.
    static let shown = 30

    static func choose(settings: Settings, console: Console, yes: Bool) throws -> String {
        let storage = try settings.makeStorage()
        let catalog = Inventory.openCatalog(settings.catalogPath, createIfMissing: false, console: console)
        let entries = try Inventory.load(storage: storage, prefix: settings.prefix, catalog: catalog,
                                         databaseName: settings.databaseName, reindex: false, console: console).entries
        guard let newest = entries.first else {
            throw BackupError.noBackups(scope: "under \(storage.location(of: settings.prefix))")
        }
        if yes { return newest.key }
        guard console.isTerminal else { throw BackupError.pickNeedsTerminal }
        let listed = Array(entries.prefix(shown))
        let now = Date()
        var menu = "Backups, newest first:\n"
        for (number, entry) in listed.enumerated() {
            let age = Formatting.shortDuration(entry.age(at: now))
            menu += String(format: "%3d) ", number + 1)
                + "\(Formatting.iso8601(millis: entry.createdAt))  \(Formatting.bytes(entry.size).padding(toLength: 10, withPad: " ", startingAt: 0))  \(age) ago  \(entry.key)\n"
        }
        if entries.count > listed.count { menu += "     (\(entries.count - listed.count) older not shown; use --key)\n" }
        console.info(menu, plain: true)
        while true {
            guard let answer = console.ask("Restore which backup? [1-\(listed.count), q to quit] ") else {
                throw BackupError.pickNeedsTerminal
            }
            if ["q", "quit", ""].contains(answer.lowercased()) { throw BackupError.declined }
            if let number = Int(answer), (1...listed.count).contains(number) { return listed[number - 1].key }
            console.info("type a number from 1 to \(listed.count), or q", plain: true)
        }
    }
}
