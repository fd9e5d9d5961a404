import Foundation
import Glibc

/// One backup at a time per database: an exclusive `flock` on a lock file in the local
/// folder. The kernel drops the lock when its process dies, so a killed run never blocks
/// the next one.
package final class BackupLock {
    private let fd: Int32
    package let path: String

    /// Takes the lock for `databasePath` without waiting; throws `locked` when another run holds it.
    package init(databasePath: String, lockDirectory: String) throws {
        try Files.makeInternalDirectory(lockDirectory)
        let name = (databasePath as NSString).lastPathComponent
        let resolved = (databasePath as NSString).resolvingSymlinksInPath
        let digest = Digest.hash(.sha256, Array(resolved.utf8)).hexString.prefix(12)
        path = "\(lockDirectory)/\(name)-\(digest).lock"
        fd = try Files.openLockFile(path)
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw BackupError.locked(database: databasePath) }
            throw BackupError.cannotWrite(path: path, reason: errnoText(code))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
