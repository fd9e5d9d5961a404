import Foundation

/// A backup run that did nothing because the newest backup is recent (`BACKUP_MIN_INTERVAL`).
/// Its `--json` shape names the newest backup's object key `newest_key`.
package struct BackupSkipped: Encodable, Sendable {
    package var ok = true
    package var skipped = true
    package let database: String
    package let reason: String
    package let newestObjectKey: String
    package let newestAgeSeconds: Double
    package let minIntervalSeconds: Double

    enum CodingKeys: String, CodingKey {
        case ok, skipped, database, reason, newestAgeSeconds, minIntervalSeconds
        case newestObjectKey = "newestKey"
    }
}
