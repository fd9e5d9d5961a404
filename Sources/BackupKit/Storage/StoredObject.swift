/// One object as storage lists it.
package struct StoredObject: Sendable, Equatable {
    package let objectKey: String
    /// Stored size in bytes.
    package let size: Int64
    /// Last modification, milliseconds since the epoch.
    package let lastModified: Int64
}
