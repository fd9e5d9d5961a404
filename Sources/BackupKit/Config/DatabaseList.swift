import Foundation

/// The databases a run names: `--db` repeated, or `BACKUP_DB_PATH` as a comma-separated list,
/// each entry a path or a glob (`/srv/*/data/app.db`). A glob that matches nothing stays as
/// written, so the run reports that database as missing instead of skipping it silently.
package enum DatabaseList {
    /// The paths, absolute, in the order given (each glob's matches sorted), without repeats.
    package static func resolve(flags: [String], environment value: String?) -> [String] {
        let entries = flags.isEmpty
            ? (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : flags
        var paths: [String] = []
        for entry in entries {
            for path in expand(entry).map(Files.absolute) where !paths.contains(path) { paths.append(path) }
        }
        return paths
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
