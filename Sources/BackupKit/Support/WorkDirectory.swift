import Foundation
import Glibc

/// A private scratch folder (0700) for one run's snapshot and temp files, removed when the
/// run ends, fails or is signalled. Folders left by killed runs are removed by the next run.
package final class WorkDirectory {
    package let path: String
    private let parent: String

    /// Creates `<parent>/<pid>-<random>` after removing leftovers of dead runs in `parent`.
    package init(parent: String) throws {
        self.parent = parent
        try Files.makeInternalDirectory(parent)
        WorkDirectory.removeLeftovers(in: parent)
        let name = "run.tmp-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        let path = parent + "/" + name
        self.path = path
        try Cleanup.shared.creating(path) {
            guard mkdir(path, 0o700) == 0 else { throw BackupError.cannotWrite(path: path, reason: errnoText()) }
        }
    }

    deinit { remove() }

    /// A path inside the folder.
    package func file(_ name: String) -> String { path + "/" + name }

    /// Removes the folder and everything in it.
    package func remove() {
        Files.remove(path)
        Cleanup.shared.forget(path)
    }

    /// Removes folders of runs whose process is gone.
    static func removeLeftovers(in parent: String) {
        var info = stat()
        guard lstat(parent, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return }  // never through a link
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix("run.tmp-") && Files.isStaleTemporary(name) {
            Files.remove(parent + "/" + name)
        }
    }
}
