/// One object as storage lists it.
package struct StoredObject: Sendable, Equatable {
    package let objectKey: String
    /// Stored size in bytes.
    package let size: Int64
    /// Last modification, milliseconds since the epoch.
    package let lastModified: Int64
    /// What changes whenever the stored bytes are rewritten, even to the same size: S3's
    /// ETag; for a file its inode and change time (which no user can set back). Nil when unknown.
    package var version: String? = nil

    /// Whether this is still the object stored as `size` bytes at `version` (nil: not recorded).
    package func isUnchanged(size expected: Int64, version recorded: String?) -> Bool {
        guard size == expected else { return false }
        guard let recorded, let version else { return true }
        func normal(_ text: String) -> String { text.replacingOccurrences(of: "\"", with: "").lowercased() }
        return normal(recorded) == normal(version)
    }

    package init(objectKey: String, size: Int64, lastModified: Int64, version: String? = nil) {
        self.objectKey = objectKey
        self.size = size
        self.lastModified = lastModified
        self.version = version
    }
}
