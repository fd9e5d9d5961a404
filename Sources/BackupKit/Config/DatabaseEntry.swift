import Foundation

/// One database of the configuration: the name its backups go by (keys, `db-name`,
/// retention, `--at`, `--target`, metrics) and its absolute path. The name is the file name
/// unless the entry names it (`NAME=PATH` in `--db` or `BACKUP_DB_PATH`).
package struct DatabaseEntry: Sendable, Equatable {
    package let name: String
    package let path: String

    package init(name: String, path: String) {
        self.name = name
        self.path = path
    }

    /// The entry for `path` named by its file name.
    package init(path: String) {
        self.init(name: (path as NSString).lastPathComponent, path: path)
    }

    /// Whether `name` can name a database: 1 to 100 of letters, digits, `.`, `_` and `-`, not
    /// starting with `.` or `-` (it begins an object key and a lock file's name).
    package static func isValidName(_ name: String) -> Bool {
        guard (1...100).contains(name.count), let first = name.first, first != ".", first != "-" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
