import Foundation

/// The keys a run may use: the current key (`BACKUP_ENCRYPTION_KEY[_FILE]`), which encrypts
/// new backups, and retired keys (`BACKUP_DECRYPTION_KEYS` or `BACKUP_DECRYPTION_KEYS_FILE`),
/// which only decrypt old ones. Keys are found by id; their bytes are never shown.
package struct KeyRing: Sendable {
    /// The key new backups are made with; nil when only retired keys are configured.
    package let current: EncryptionKey?
    /// Keys kept to restore backups made before a rotation.
    package let retired: [EncryptionKey]

    package init(current: EncryptionKey?, retired: [EncryptionKey]) {
        self.current = current
        self.retired = retired
    }

    /// Every key, the current one first, without duplicates.
    package var all: [EncryptionKey] {
        var seen = Set<String>()
        return ([current].compactMap { $0 } + retired).filter { seen.insert($0.id).inserted }
    }

    /// The key with this id.
    package func key(id: String) -> EncryptionKey? {
        all.first { $0.id == id.lowercased() }
    }

    /// Loads the retired keys: `BACKUP_DECRYPTION_KEYS_FILE` (one key per line, `#` comments)
    /// wins over `BACKUP_DECRYPTION_KEYS` (keys separated by commas or white space).
    static func retiredKeys(environment: Environment) throws -> [EncryptionKey] {
        let source: String
        let text: String
        if let path = environment["BACKUP_DECRYPTION_KEYS_FILE"] {
            guard let data = FileManager.default.contents(atPath: path), let content = String(data: data, encoding: .utf8) else {
                throw BackupError.unreadableKeyFile(path: path, reason: Files.exists(path) ? "permission denied" : "no such file")
            }
            source = "the key file \(path)"
            text = content.split(separator: "\n").map { line in
                line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            }.joined(separator: "\n")
        } else if let value = environment["BACKUP_DECRYPTION_KEYS"] {
            source = "BACKUP_DECRYPTION_KEYS"
            text = value
        } else {
            return []
        }
        let entries = text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        return try entries.enumerated().map { index, entry in
            try EncryptionKey.parse(entry, source: "entry \(index + 1) of \(source)")
        }
    }
}
