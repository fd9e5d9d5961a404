import Foundation

/// One backup as the operations see it: an object in storage, with its catalog row if any.
package struct BackupEntry: Sendable {
    package let objectKey: String
    /// Milliseconds since the epoch: the catalog's `uploaded_at`, else the object's
    /// `created-at` metadata, else its modification time.
    package let createdAt: Int64
    package let size: Int64
    package let storage: StorageKind
    package let databaseName: String?
    /// The catalog row, nil when the catalog has none (or could not be read).
    package let record: BackupRecord?
    /// Never deleted by clean: the catalog row says so (it wins, so un-marking is a row
    /// update), else the object's `keep=forever` metadata.
    package var keepForever = false

    /// Seconds since the backup was made, never negative (clocks disagree).
    package func age(at now: Date = Date()) -> TimeInterval {
        max(0, now.timeIntervalSince1970 - Double(createdAt) / 1000)
    }
}
