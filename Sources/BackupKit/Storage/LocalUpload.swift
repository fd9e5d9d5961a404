import CLinux
import Foundation
import Glibc

/// A local upload: bytes go to a hidden temp file in the object's own folder. Written data is
/// handed to the disk every `writebackWindow` bytes (as PostgreSQL's `flush_after` and RocksDB's
/// `bytes_per_sync` do), so the final fsync is short and the application's own commits, which
/// fsync too, never queue behind hundreds of megabytes of backup data.
final class LocalUpload: ObjectUpload {
    static let writebackWindow: Int64 = 8 << 20

    private let finalPath: String
    private let tempPath: String
    private var file: FileDescriptor?
    private var written: Int64 = 0
    private var handedToDisk: Int64 = 0

    init(finalPath: String, key: String) throws {
        self.finalPath = finalPath
        let tempPath = Files.temporarySibling(of: finalPath)
        self.tempPath = tempPath
        file = try Cleanup.shared.creating(tempPath) { try FileDescriptor.createPrivate(tempPath) }
    }

    deinit { abort() }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let file else { throw BackupError.unexpected("write after the upload ended") }
        try file.write(bytes)
        written += Int64(bytes.count)
        if written - handedToDisk >= Self.writebackWindow {
            // Wait for the window before the last one; start the newest. Best effort: a failure
            // here only loses smoothness, the final fsync still guarantees durability.
            let previous = max(0, handedToDisk - Self.writebackWindow)
            _ = CLinux_finishWriteback(file.raw, previous, handedToDisk - previous)
            _ = CLinux_startWriteback(file.raw, handedToDisk, written - handedToDisk)
            handedToDisk = written
        }
    }

    func complete(metadata: ObjectMetadata) throws {
        guard let file else { throw BackupError.unexpected("upload already ended") }
        do {
            try file.sync()
            try file.close()
            self.file = nil
            try Files.writeAtomically(try metadata.sidecarJSON(), to: finalPath + LocalFolderStorage.sidecarSuffix)
            try Files.atomicRename(tempPath, to: finalPath)
            Cleanup.shared.forget(tempPath)
        } catch {
            abort()
            unlink(finalPath + LocalFolderStorage.sidecarSuffix)
            throw error
        }
    }

    func abort() {
        file = nil
        if Files.exists(tempPath) { unlink(tempPath) }
        Cleanup.shared.forget(tempPath)
    }
}
