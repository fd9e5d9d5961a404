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

    /// With `create` false (a run that only reads) a missing folder is not made: it lists
    /// as empty.
    package init(root: String, create: Bool = true) throws {
        self.root = root
        if create { try Files.makePrivateDirectory(root) }
    }

    package func location(of key: String) -> String { path(of: key) }

    package func validate(objectKey key: String) throws {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let unsafe = key.isEmpty || key.hasPrefix("/") || key.contains("\0")
            || segments.contains { $0.isEmpty || $0 == "." || $0 == ".." }
            || key.hasSuffix(Self.sidecarSuffix)
        if unsafe { throw BackupError.unsafeObjectKey(key) }
    }

    func path(of key: String) -> String { root + "/" + key }

    /// Writes straight into the folder: no spool.
    package func spoolBytes(forSnapshotOf size: Int64) -> Int64 { 0 }

    package func beginUpload(objectKey key: String, spoolDirectory: String) throws -> any ObjectUpload {
        try validate(objectKey: key)
        let final = path(of: key)
        try Files.makePrivateDirectory((final as NSString).deletingLastPathComponent)
        return try LocalUpload(finalPath: final, key: key)
    }

    package func head(objectKey key: String) throws -> (object: StoredObject, metadata: ObjectMetadata) {
        try validate(objectKey: key)
        let file = path(of: key)
        guard let size = Files.size(file), !Files.isDirectory(file) else { throw BackupError.backupNotFound(objectKey: key) }
        let object = StoredObject(objectKey: key, size: size, lastModified: Files.modifiedMillis(file) ?? 0, version: Files.changeVersion(file))
        let sidecar = Self.readSidecar(file + Self.sidecarSuffix)
        return (object, sidecar.flatMap(ObjectMetadata.fromSidecarJSON) ?? ObjectMetadata())
    }

    /// The largest sidecar read: ours are well under 2 KiB; a bigger one (a planted sparse
    /// file of gigabytes) is no metadata, never a huge allocation.
    static let maximumSidecarBytes = 64 << 10

    /// A sidecar's bytes, nil when missing, unreadable, not a regular file or too large.
    static func readSidecar(_ path: String) -> Data? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) <= maximumSidecarBytes,
              let file = try? FileDescriptor.openForReading(path) else { return nil }
        var buffer = [UInt8](repeating: 0, count: maximumSidecarBytes + 1)
        guard let n = try? buffer.withUnsafeMutableBytes({ try file.read(into: $0, at: 0) }), n <= maximumSidecarBytes else { return nil }
        return Data(buffer[0..<n])
    }

    package func download(objectKey key: String, range: Range<Int64>, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(objectKey: key)
        let file = path(of: key)
        guard Files.exists(file) else { throw BackupError.backupNotFound(objectKey: key) }
        let input = try FileDescriptor.openForReading(file)
        var buffer = [UInt8](repeating: 0, count: min(range.count, 1 << 20))
        var at = range.lowerBound
        try buffer.withUnsafeMutableBytes { chunk in
            while at < range.upperBound {
                let want = Int(min(Int64(chunk.count), range.upperBound - at))
                let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]), at: at)
                if n < want {
                    throw BackupError.corruptBackup(objectKey: key, detail: "bytes \(range.lowerBound)-\(range.upperBound - 1) are past its end")
                }
                try sink(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                at += Int64(n)
            }
        }
    }

    package func download(objectKey key: String, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try validate(objectKey: key)
        let file = path(of: key)
        guard Files.exists(file) else { throw BackupError.backupNotFound(objectKey: key) }
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

    package func delete(objectKey key: String) throws {
        try validate(objectKey: key)
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
            if Files.isDirectory(root) || !Files.exists(root) { return result }
            throw BackupError.storageUnavailable("the backup folder \(root) is not a folder: check BACKUP_LOCAL_DIR")
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
            result.objects.append(StoredObject(objectKey: key, size: Files.size(file) ?? 0,
                                               lastModified: Files.modifiedMillis(file) ?? 0, version: Files.changeVersion(file)))
        }
        for sidecar in sidecars where !files.contains(String(sidecar.dropLast(Self.sidecarSuffix.count))) {
            result.orphanSidecars.append(path(of: sidecar))
        }
        return result
    }
}

