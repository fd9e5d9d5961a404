import Foundation
import CLinux
import Glibc

/// File-system helpers that keep the suite's promises: private modes, atomic renames,
/// synced folders.
enum Files {
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The size of a file in bytes, nil when it does not exist.
    static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Modification time in milliseconds since the epoch.
    static func modifiedMillis(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }

    /// Creates `path` and missing parents with mode 0700. An existing folder keeps its mode.
    static func makePrivateDirectory(_ path: String) throws {
        if isDirectory(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path && !isDirectory(parent) {
            try makePrivateDirectory(parent)
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw BackupError.cannotWrite(path: path, reason: errnoText())
        }
    }

    /// `makePrivateDirectory` for a folder the suite keeps inside the store (`.locks`,
    /// `.work`): one planted there as a symbolic link is refused, never followed.
    static func makeInternalDirectory(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
            throw BackupError.cannotWrite(path: path, reason: "it is a symbolic link, which the suite never makes there; remove it")
        }
        try makePrivateDirectory(path)
    }

    /// Opens (creating, 0600) a lock file read-write, never through a symbolic link and only
    /// if it is a regular file: a link planted in the store must not make a run (root's, say)
    /// truncate or write whatever it points to.
    static func openLockFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP {
                throw BackupError.cannotWrite(path: path, reason: "it is a symbolic link, which a lock file never is; remove it")
            }
            throw BackupError.cannotWrite(path: path, reason: errnoText(code))
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw BackupError.cannotWrite(path: path, reason: "it is not a regular file; remove it")
        }
        return fd
    }

    /// `<inode>:<ctime in ns>` of a file: changes whenever its bytes or inode change, and no
    /// user can set it back (unlike the modification time). Nil when it cannot be read.
    static func changeVersion(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(info.st_ino):\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
    }

    /// Moves `from` to `to` only if nothing is at `to`, atomically: a file that appeared there
    /// while a restore ran is never replaced (`outputExists`). renameat2(RENAME_NOREPLACE), or
    /// link and unlink where the file system lacks it.
    static func placeNew(_ from: String, at to: String, flag: String) throws {
        if CLinux_renameNoReplace(from, to) != 0 {
            let code = errno
            if code == EEXIST { throw BackupError.outputExists(path: to, flag: flag) }
            guard code == EINVAL || code == ENOSYS else { throw BackupError.cannotWrite(path: to, reason: errnoText(code)) }
            if link(from, to) != 0 {
                let linkCode = errno
                if linkCode == EEXIST { throw BackupError.outputExists(path: to, flag: flag) }
                throw BackupError.cannotWrite(path: to, reason: errnoText(linkCode))
            }
            unlink(from)
        }
        syncDirectory(of: to)
    }

    /// Renames atomically and syncs the folder so the rename survives a crash.
    static func atomicRename(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else { throw BackupError.cannotWrite(path: to, reason: errnoText()) }
        syncDirectory(of: to)
    }

    /// Best effort: fsync the folder holding `path`.
    static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            _ = close(fd)
        }
    }

    /// Writes `data` to `path` through a temp file (created with `mode`, 0600 unless said
    /// otherwise), fsync and an atomic rename.
    static func writeAtomically(_ data: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let temp = temporarySibling(of: path)
        do {
            let fd = try FileDescriptor.create(temp, mode: mode)
            try fd.write(data)
            try fd.sync()
            try fd.close()
            try atomicRename(temp, to: path)
        } catch {
            unlink(temp)
            throw error
        }
    }

    /// A hidden name beside `path` that marks its owner's pid, so a later run can tell a
    /// leftover of a dead run from the work of a live one.
    static func temporarySibling(of path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let token = UUID().uuidString.prefix(8).lowercased()
        let temp = ".\(name).tmp-\(getpid())-\(token)"
        return dir.isEmpty ? temp : dir + "/" + temp
    }

    /// Whether a temp name written by `temporarySibling` belongs to a process that is gone.
    static func isStaleTemporary(_ name: String) -> Bool {
        guard let range = name.range(of: ".tmp-", options: .backwards) else { return false }
        let rest = name[range.upperBound...]
        guard let pid = Int32(rest.split(separator: "-").first ?? "") else { return false }
        return !processIsAlive(pid)
    }

    /// Removes temp siblings of `path` (and their SQLite journals) left by dead processes.
    static func removeStaleTemporaries(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let stem = "." + (path as NSString).lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return }
        for name in names where name.hasPrefix(stem) {
            let base = name.replacingOccurrences(of: "-wal", with: "").replacingOccurrences(of: "-shm", with: "")
                .replacingOccurrences(of: "-journal", with: "")
            if isStaleTemporary(base) { unlink((dir.isEmpty ? "" : dir + "/") + name) }
        }
    }

    static func processIsAlive(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Removes a file or a folder tree; missing is fine.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// An absolute, standardized version of `path` against the working directory.
    /// `path` made absolute and normalized by its text alone (`.`, `..`, repeated `/`), never
    /// by resolving symbolic links: a link planted in the store must stay visible as a link
    /// to the checks that refuse one.
    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts: [Substring] = []
        for part in full.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether the open `file` is the file at `path` now (same device and inode).
    static func sameFile(_ file: FileDescriptor, _ path: String) -> Bool {
        var open = stat(), named = stat()
        guard fstat(file.raw, &open) == 0, stat(path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }
}
