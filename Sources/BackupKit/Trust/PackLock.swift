import Foundation
import Glibc

/// Keeps clean from deleting packs while a backup of the same database runs on this
/// machine: every incremental backup holds `.locks/<name>.packs.lock` shared for its whole
/// run, and pack collection takes it exclusive without waiting (and, when it cannot, leaves
/// that database's packs for the next clean). The kernel drops a lock when its process dies.
final class PackLock {
    private let fd: Int32

    /// The lock, or nil when `exclusive` was asked and a backup holds it.
    init?(databaseName: String, lockDirectory: String, exclusive: Bool) throws {
        try Files.makeInternalDirectory(lockDirectory)
        let safeName = String(databaseName.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
        let digest = Digest.hash(.sha256, Array(databaseName.utf8)).hexString.prefix(12)
        let path = "\(lockDirectory)/\(safeName)-\(digest).packs.lock"
        fd = try Files.openLockFile(path)
        if flock(fd, (exclusive ? LOCK_EX | LOCK_NB : LOCK_SH)) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw BackupError.cannotWrite(path: path, reason: errnoText(code))
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
