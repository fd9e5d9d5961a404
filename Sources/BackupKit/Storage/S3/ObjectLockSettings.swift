import Foundation

/// `BACKUP_S3_OBJECT_LOCK=compliance|governance` with `BACKUP_S3_OBJECT_LOCK_DAYS=N`: every
/// object is uploaded under that S3 Object Lock mode, retained N days from its upload; a pack
/// a new manifest reuses is retained as long as the manifest. The bucket must have Object
/// Lock enabled (README, "Immutable backups").
package struct ObjectLockSettings: Sendable, Equatable {
    package enum Mode: String, Sendable {
        case compliance, governance
        /// As S3's headers and XML spell it.
        var header: String { rawValue.uppercased() }
    }

    package let mode: Mode
    package let days: Int

    /// The most days a setting may say (100 years).
    static let maximumDays = 36_500

    /// The settings, nil when `BACKUP_S3_OBJECT_LOCK` is unset or `off`.
    static func resolve(environment env: Environment) throws -> ObjectLockSettings? {
        let text = env["BACKUP_S3_OBJECT_LOCK"]?.lowercased()
        guard let text, !text.isEmpty, text != "off" else {
            if env["BACKUP_S3_OBJECT_LOCK_DAYS"] != nil {
                throw BackupError.configuration("BACKUP_S3_OBJECT_LOCK_DAYS is set but BACKUP_S3_OBJECT_LOCK is not: set BACKUP_S3_OBJECT_LOCK=compliance or governance")
            }
            return nil
        }
        guard let mode = Mode(rawValue: text) else {
            throw BackupError.configuration("BACKUP_S3_OBJECT_LOCK=\(env["BACKUP_S3_OBJECT_LOCK"]!) is not a lock mode: use compliance, governance or off")
        }
        guard let days = try env.integer("BACKUP_S3_OBJECT_LOCK_DAYS", in: 1...maximumDays) else {
            throw BackupError.configuration("BACKUP_S3_OBJECT_LOCK=\(text) needs BACKUP_S3_OBJECT_LOCK_DAYS: how many days each object stays locked (1 to \(maximumDays))")
        }
        return ObjectLockSettings(mode: mode, days: days)
    }

    /// The retain-until date of an object uploaded at `now`.
    func retainUntil(from now: Date = Date()) -> Date {
        now.addingTimeInterval(TimeInterval(days) * 86_400)
    }

    /// `2026-12-05T14:00:00Z`: S3's retain-until format (whole seconds, UTC).
    static func text(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.up)))
    }

    /// Parses S3's retain-until header (fractions allowed); nil when it is not a time.
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// The headers that lock an object being created.
    func headers(now: Date = Date()) -> [(String, String)] {
        [("x-amz-object-lock-mode", mode.header), ("x-amz-object-lock-retain-until-date", Self.text(retainUntil(from: now)))]
    }

    package var description: String { "\(mode.rawValue), \(days) day(s)" }
}

/// What a HEAD says of an object's version and Object Lock.
struct ObjectLockState: Sendable {
    let versionId: String?
    let mode: String?
    let retainUntil: Date?
}
