/// Where backups are stored.
package enum StorageKind: String, Sendable, Codable {
    case local
    case s3
}
