import CLinux
import Foundation
import Glibc

/// Objects as files under a root folder (`BACKUP_LOCAL_DIR`): key `a/b` is `<root>/a/b`,
/// its metadata the sidecar `<root>/a/b.meta.json`. Folders are 0700, files 0600. An object
/// is written under a hidden temp name, fsynced, its sidecar renamed into place, then the
/// object renamed into place: a listed object always has its metadata.
package struct LocalFolderStorage: ObjectStorage {
    package static let sidecarSuffix = ".meta.json"
    /// Orphan sidecars younger than this may belong to an upload between its two renames.
    static let orphanSidecarAge: Int64 = 3_600_000

    package let root: String
    package var kind: StorageKind { .local }

    package init(root: String) throws {
        self.root = root
        try Files.makePrivateDirectory(root)
    }

    package func location(of key: String) -> String { path(of: key) }

    package func validate(key: String) throws {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let unsafe = key.isEmpty || key.hasPrefix("/") || key.contains("\0")
            || segments.contains { $0.isEmpty || $0 == "." || $0 == ".." }
            || key.hasSuffix(Self.sidecarSuffix)
        if unsafe { throw BackupError.unsafeKey(key) }
    }

    func path(of key: String) -> String { root + "/" + key }

    /// Writes straight into the folder: no spool.
    package func spoolBytes(forSnapshotOf size: Int64) -> Int64 { 0 }

    package func beginUpload(key: String, spoolDirectory: String) throws -> any ObjectUpload {
        try validate(key: key)
        let final = path(of: key)
        try Files.makePrivateDirectory((final as NSString).deletingLastPathComponent)
        return try LocalUpload(finalPath: final, key: key)
    }

    package func head(key: String) throws -> (object: StoredObject, metadata: ObjectMetadata) {
        try validate(key: key)
        let file = path(of: key)
        guard let size = Files.size(file), !Files.isDirectory(file) else { throw BackupError.backupNotFound(key: key) }
        let object = StoredObject(key: key, size: size, lastModified: Files.modifiedMillis(file) ?? 0)
        let sidecar = FileManager.default.contents(atPath: file + Self.sidecarSuffix)
        return (object, sidecar.flatMap(ObjectMetadata.fromSidecarJSON) ?? ObjectMetadata())
    }

    package func download(key: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(key: key)
        let file = path(of: key)
        guard Files.exists(file) else { throw BackupError.backupNotFound(key: key) }
        let input = try FileDescriptor.openForReading(file)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        try buffer.withUnsafeMutableBytes { chunk in
            while true {
                let n = try input.read(into: chunk)
                if n == 0 { break }
                try sink(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            }
        }
    }

    package func delete(key: String) throws {
        try validate(key: key)
        let file = path(of: key)
        for target in [file, file + Self.sidecarSuffix] where unlink(target) != 0 && errno != ENOENT {
            throw BackupError.storageUnavailable("cannot delete \(target): \(errnoText()); check the folder's permissions")
        }
        Files.syncDirectory(of: file)
    }

    package func list(prefix: String) throws -> [StoredObject] {
        try walk(prefix: prefix).objects
    }

    package func removeAbandonedUploads(prefix: String) throws -> Int {
        let found = try walk(prefix: prefix)
        var removed = 0
        for temp in found.staleTemporaries where unlink(temp) == 0 { removed += 1 }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for sidecar in found.orphanSidecars where now - (Files.modifiedMillis(sidecar) ?? now) > Self.orphanSidecarAge {
            if unlink(sidecar) == 0 { removed += 1 }
        }
        return removed
    }

    /// What one walk of the folder under `prefix` finds.
    private struct Walk {
        var objects: [StoredObject] = []
        var staleTemporaries: [String] = []
        var orphanSidecars: [String] = []
    }

    private func walk(prefix: String) throws -> Walk {
        // Start at the deepest folder the prefix names whole, then filter by the full prefix.
        let folderPart = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        let start = folderPart.isEmpty ? root : path(of: folderPart)
        var result = Walk()
        guard Files.isDirectory(start) else {
            if Files.isDirectory(root) { return result }
            throw BackupError.storageUnavailable("the backup folder \(root) is missing: check BACKUP_LOCAL_DIR")
        }
        guard let walker = FileManager.default.enumerator(atPath: start) else {
            throw BackupError.storageUnavailable("cannot read the backup folder \(start): check its permissions")
        }
        var sidecars: Set<String> = []
        var files: Set<String> = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            let full = start + "/" + relative
            if name.hasPrefix(".") {
                if Files.isDirectory(full) { walker.skipDescendants() }
                else if name.contains(".tmp-") && Files.isStaleTemporary(name) { result.staleTemporaries.append(full) }
                continue
            }
            if Files.isDirectory(full) { continue }
            let key = folderPart.isEmpty ? relative : folderPart + "/" + relative
            guard key.hasPrefix(prefix) else { continue }
            if key.hasSuffix(Self.sidecarSuffix) { sidecars.insert(key) } else { files.insert(key) }
        }
        for key in files.sorted() {
            let file = path(of: key)
            result.objects.append(StoredObject(key: key, size: Files.size(file) ?? 0,
                                               lastModified: Files.modifiedMillis(file) ?? 0))
        }
        for sidecar in sidecars where !files.contains(String(sidecar.dropLast(Self.sidecarSuffix.count))) {
            result.orphanSidecars.append(path(of: sidecar))
        }
        return result
    }
}

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
        tempPath = Files.temporarySibling(of: finalPath)
        Cleanup.shared.register(tempPath)
        do {
            file = try FileDescriptor.createPrivate(tempPath)
        } catch {
            Cleanup.shared.forget(tempPath)
            throw error
        }
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
