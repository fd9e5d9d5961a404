import Foundation
import Testing

/// A folder nobody running the tests can write to, root included.
enum UnwritableFolder {
    /// Creates `path` read-only: mode 0555, which stops any user but root, and for root (whom
    /// modes do not stop) the immutable attribute as well. Proves it by failing to create a
    /// file there. Returns what makes it writable again, for the sandbox's removal.
    static func make(_ path: String) throws -> () -> Void {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return try lock(path)
    }

    /// Makes the existing folder `path` read-only, as `make` does.
    static func lock(_ path: String) throws -> () -> Void {
        chmod(path, 0o555)
        var undo: () -> Void = { chmod(path, 0o755) }
        if geteuid() == 0 {
            let lock = try Tool.runProcess("/usr/bin/chattr", ["+i", path], in: "/")
            #expect(lock.status == 0, "chattr +i: \(lock.output)")
            undo = {
                _ = try? Tool.runProcess("/usr/bin/chattr", ["-i", path], in: "/")
                chmod(path, 0o755)
            }
        }
        let probe = path + "/probe"
        let fd = open(probe, O_CREAT | O_WRONLY, 0o600)
        if fd >= 0 { close(fd); unlink(probe) }
        #expect(fd < 0, "\(path) is still writable")
        return undo
    }
}
