import Foundation

/// What `restore` should do.
package struct RestoreRequest {
    package enum Destination: Sendable, Equatable {
        /// Write a new file (`--out`, or `./restored-<stamp>.db`).
        case file(String?, overwrite: Bool)
        /// Replace a possibly live database through the backup API (`--target`).
        case liveDatabase(String, confirmed: Bool)
        /// Check everything, write nothing (`--verify-only`).
        case verifyOnly
        /// Write a plain SQL dump of the restored database instead of a .db (`--sql`).
        case sqlDump(String, overwrite: Bool)
    }

    /// Which backup to restore.
    package enum Selection {
        /// The newest backup in scope.
        case newest
        /// The backup stored under this object key (`--key`).
        case objectKey(String)
        /// The newest backup taken at or before this instant (`--at`), in milliseconds since the epoch.
        case takenBy(millis: Int64)
        /// One the closure picks from the backups in scope, newest first (`--pick`).
        case chosen(by: ([BackupEntry]) throws -> String)
    }

    package var selection: Selection
    package var destination: Destination

    package init(selection: Selection, destination: Destination) {
        self.selection = selection
        self.destination = destination
    }
}
