import CLinux
import Glibc

/// The text of a POSIX `errno` value.
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// An open POSIX file descriptor that closes itself. Reads and writes retry on EINTR
/// and loop until every byte is moved.
/// Used by one thread at a time (it may be handed to another, as the encoder hands its input
/// to the reader thread).
final class FileDescriptor: @unchecked Sendable {
    let raw: Int32
    let path: String
    private var closed = false

    private init(raw: Int32, path: String) {
        self.raw = raw
        self.path = path
    }

    deinit { if !closed { _ = Glibc.close(raw) } }

    /// Opens an existing file for reading.
    static func openForReading(_ path: String) throws -> FileDescriptor {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw BackupError.databaseMissing(path: path) }
            throw BackupError.unexpected("cannot open \(path): \(errnoText(code))")
        }
        return FileDescriptor(raw: fd, path: path)
    }

    /// Opens an existing file of this run (a spool) to read it and free parts of it (`discard`).
    static func openForUpdate(_ path: String) throws -> FileDescriptor {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw BackupError.cannotWrite(path: path, reason: errnoText()) }
        return FileDescriptor(raw: fd, path: path)
    }

    /// Creates a new file with mode 0600; fails if it exists.
    static func createPrivate(_ path: String) throws -> FileDescriptor {
        try create(path, mode: 0o600)
    }

    /// Creates a new file with exactly `mode`, whatever the umask; fails if it exists.
    static func create(_ path: String, mode: mode_t) throws -> FileDescriptor {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw BackupError.cannotWrite(path: path, reason: errnoText()) }
        _ = fchmod(fd, mode)
        return FileDescriptor(raw: fd, path: path)
    }

    /// Writes all bytes or throws `cannotWrite` (e.g. ENOSPC, EFBIG under `ulimit -f`).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(raw, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError.cannotWrite(path: path, reason: errnoText())
            }
            offset += n
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(raw, buffer.baseAddress!, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw BackupError.unexpected("cannot read \(path): \(errnoText())")
        }
    }

    /// Reads until `buffer` is full or the file ends, from `offset` (pread: no shared position,
    /// so threads may read one descriptor at once). Returns the bytes read.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = pread(raw, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset) + off_t(filled))
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError.unexpected("cannot read \(path): \(errnoText())")
            }
            filled += n
        }
        return filled
    }

    /// Writes all bytes at `offset` (pwrite: threads may write one descriptor at once), or
    /// throws `cannotWrite`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(raw, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError.cannotWrite(path: path, reason: errnoText())
            }
            done += n
        }
    }

    /// Frees the disk space of bytes no longer needed (a spool's uploaded parts); best effort
    /// (the descriptor must be open for writing).
    func discard(offset: Int64, length: Int64) {
        _ = CLinux_punchHole(raw, offset, length)
    }

    /// Allocates the disk space of the first `length` bytes at once, keeping the file's size:
    /// writes spread over the range then fill blocks already placed. Throws `cannotWrite` (disk
    /// full) when they do not fit; a file system without fallocate is left as it is.
    func reserve(_ length: Int64) throws {
        guard length > 0, CLinux_reserve(raw, 0, length) != 0 else { return }
        if errno == ENOSPC { throw BackupError.cannotWrite(path: path, reason: "disk full: \(length) bytes do not fit") }
    }

    /// Flushes the file's data to disk.
    func sync() throws {
        guard fsync(raw) == 0 else { throw BackupError.cannotWrite(path: path, reason: errnoText()) }
    }

    func close() throws {
        guard !closed else { return }
        closed = true
        guard Glibc.close(raw) == 0 else { throw BackupError.cannotWrite(path: path, reason: errnoText()) }
    }
}
