import Foundation
import Testing

/// A folder on a file system of its own, `megabytes` big (a tmpfs mounted there; the tests run
/// as root, as CI does): a work folder with less free space than the database.
final class SmallFileSystem {
    let path: String

    init(_ path: String, megabytes: Int) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mounted = try Tool.runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", path], in: "/")
        guard mounted.status == 0 else { throw SandboxFailure(description: "mount tmpfs at \(path): \(mounted.output)") }
    }

    /// Bytes free on it now.
    var freeBytes: Int64 {
        var stats = statvfs()
        statvfs(path, &stats)
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    deinit {
        _ = try? Tool.runProcess("/bin/umount", ["-l", path], in: "/")
    }
}
