import Foundation

/// The databases a run names: `--db` repeated, or `BACKUP_DB_PATH` as a comma-separated list.
/// Each entry is a path or a glob (`/srv/*/data/app.db`), optionally named: `NAME=PATH`. A
/// glob that matches nothing stays as written, so the run reports that database as missing
/// instead of skipping it silently. Two databases with one name are refused before anything
/// runs: their backups would share keys, retention and restores.
package enum DatabaseList {
    /// The entries, paths absolute, in the order given (each glob's matches sorted), without
    /// repeats. `source` names where they came from in errors (`--db`, `BACKUP_DB_PATH`).
    package static func resolve(flags: [String], environment value: String?) throws -> [DatabaseEntry] {
        let fromFlags = !flags.isEmpty
        let texts = fromFlags
            ? flags
            : (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let source = fromFlags ? "--db" : "BACKUP_DB_PATH"
        func fail(_ text: String) -> BackupError {
            fromFlags ? .invalidArgument(text) : .configuration(text)
        }
        var entries: [DatabaseEntry] = []
        for text in texts {
            let (name, pattern) = try split(text, fail: fail, source: source)
            let matches = expand(pattern).map(Files.absolute)
            if let name, matches.count > 1 {
                throw fail("\(source) entry \(text) names \(matches.count) databases (\(matches.joined(separator: ", "))) with one name: give each its own NAME=PATH entry")
            }
            for path in matches where !entries.contains(where: { $0.path == path }) {
                entries.append(name.map { DatabaseEntry(name: $0, path: path) } ?? DatabaseEntry(path: path))
            }
        }
        var seen: [String: String] = [:]
        for entry in entries {
            if let other = seen[entry.name] {
                let first = other
                throw fail("two databases are named \(entry.name): \(first) and \(entry.path); name them apart with NAME=PATH entries, e.g. \(source == "--db" ? "--db a=\(first) --db b=\(entry.path)" : "BACKUP_DB_PATH=a=\(first),b=\(entry.path)")")
            }
            seen[entry.name] = entry.path
        }
        return entries
    }

    /// `NAME=PATH` split, or `(nil, text)` for a plain path. A `=` whose left side is no
    /// valid name (it holds a `/`, say) belongs to the path.
    static func split(_ text: String, fail: (String) -> BackupError, source: String) throws -> (String?, String) {
        guard let equals = text.firstIndex(of: "=") else { return (nil, text) }
        let name = String(text[..<equals])
        let path = String(text[text.index(after: equals)...])
        if name.contains("/") { return (nil, text) }
        guard DatabaseEntry.isValidName(name) else {
            throw fail("\(source) entry \(text): '\(name)' cannot name a database: use letters, digits, '.', '_' and '-' (up to 100, not starting with '.' or '-')")
        }
        guard !path.isEmpty else { throw fail("\(source) entry \(text) names no path: write NAME=PATH") }
        return (name, path)
    }

    /// The files a glob matches (sorted), or the entry itself when it is no glob or matches nothing.
    static func expand(_ entry: String) -> [String] {
        guard entry.contains(where: { "*?[".contains($0) }) else { return [entry] }
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(entry, 0, nil, &matches) == 0 else { return [entry] }
        let found = (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
        return found.isEmpty ? [entry] : found.sorted()
    }
}
