import Foundation

/// A backup run that did nothing because the newest backup is recent (`BACKUP_MIN_INTERVAL`).
package struct BackupSkipped: Codable, Sendable {
    package var ok = true
    package var skipped = true
    package let database: String
    package let reason: String
    package let newestKey: String
    package let newestAgeSeconds: Double
    package let minIntervalSeconds: Double
}
