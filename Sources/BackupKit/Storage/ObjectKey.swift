import Foundation

/// Object keys: `<prefix><database file>-<UTC stamp>-<uuid>.db.gz.enc` (`.db.zst.enc` for
/// zstd), the stamp sortable and free of `:` (`20261123T061500Z`). Laju's keys
/// (`app.db-2025-01-10T23:33-<uuid>.db.gz.enc`) follow the same shape with another stamp, so
/// both are recognised.
package enum ObjectKey {
    /// The ending of an incremental backup's manifest.
    package static let manifestSuffix = ".db.inc.enc"
    /// The ending of a data object (pack) holding incremental backups' blocks.
    package static let packSuffix = ".pack.enc"
    /// The endings of the keys this suite names: full backups (one per compression),
    /// manifests and packs.
    package static let suffixes = CompressionAlgorithm.allCases.map(\.keySuffix) + [manifestSuffix, packSuffix]

    /// A new key for a backup of `databaseName` made at `date`.
    package static func make(prefix: String, databaseName: String, date: Date,
                             compression: CompressionAlgorithm = .gzip) -> String {
        "\(prefix)\(databaseName)-\(stamp(date))-\(UUID().uuidString.lowercased())\(compression.keySuffix)"
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    package static func stamp(_ date: Date) -> String {
        Formatting.compactUTC(date)
    }

    /// The last path component of a key.
    package static func fileName(of key: String) -> String {
        String(key.split(separator: "/").last ?? Substring(key))
    }

    /// A new manifest key for an incremental backup of `databaseName` made at `date`.
    package static func makeManifest(prefix: String, databaseName: String, date: Date) -> String {
        "\(prefix)\(databaseName)-\(stamp(date))-\(UUID().uuidString.lowercased())\(manifestSuffix)"
    }

    /// A new pack key for blocks of `databaseName` stored at `date`.
    package static func makePack(prefix: String, databaseName: String, date: Date) -> String {
        "\(prefix)\(databaseName)-\(stamp(date))-\(UUID().uuidString.lowercased())\(packSuffix)"
    }

    /// Whether `key` has the shape of a backup: a full object (ours or Laju's) or a manifest.
    package static func isBackup(_ key: String) -> Bool {
        key.hasSuffix(".gz.enc") || key.hasSuffix(".zst.enc") || key.hasSuffix(manifestSuffix)
    }

    /// Whether `key` is an incremental backup's manifest.
    package static func isManifest(_ key: String) -> Bool { key.hasSuffix(manifestSuffix) }

    /// Whether `key` is a pack of blocks.
    package static func isPack(_ key: String) -> Bool { key.hasSuffix(packSuffix) }

    /// The database file name a key was made for: the part of the key after `prefix` (and
    /// after its last `/`) before `-<stamp>-<uuid>.db.gz.enc` (or `.db.zst.enc`); nil when the
    /// key does not have that shape.
    package static func databaseName(of key: String, prefix: String = "") -> String? {
        let name = fileName(of: key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : key)
        guard let suffix = suffixes.first(where: { name.hasSuffix($0) }) else { return nil }
        let stem = name.dropLast(suffix.count)
        // A UUID is 36 characters, preceded by '-'.
        guard stem.count > 37 else { return nil }
        let withoutUUID = stem.dropLast(37)
        guard stem[withoutUUID.endIndex] == "-", UUID(uuidString: String(stem.suffix(36))) != nil else { return nil }
        // The stamp is what follows the last '-' that precedes four digits (a year):
        // ours has no '-' inside, Laju's has some, and a database name may hold digits too.
        var dash = withoutUUID.lastIndex(of: "-")
        while let found = dash {
            let next = withoutUUID.index(after: found)
            if withoutUUID[next...].prefix(4).count == 4, withoutUUID[next...].prefix(4).allSatisfy(\.isNumber) {
                let name = withoutUUID[..<found]
                return name.isEmpty ? nil : String(name)
            }
            dash = withoutUUID[..<found].lastIndex(of: "-")
        }
        return nil
    }

    /// The time a key's stamp names, in milliseconds (UTC): ours (`20261123T061500Z`) or
    /// Laju's (`2025-01-10T23:33`); nil when the key has no such stamp. Only ever a label:
    /// `clean-backup --adopt` uses it for an object that records no time of its own.
    package static func stampMillis(of key: String, prefix: String = "") -> Int64? {
        guard let name = databaseName(of: key, prefix: prefix) else { return nil }
        let file = fileName(of: key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : key)
        let rest = file.dropFirst(name.count + 1)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for (format, length) in [("yyyyMMdd'T'HHmmss'Z'", 16), ("yyyy-MM-dd'T'HH:mm", 16)] {
            formatter.dateFormat = format
            if let date = formatter.date(from: String(rest.prefix(length))) { return Int64(date.timeIntervalSince1970 * 1000) }
        }
        return nil
    }
}
