import Foundation

/// One row of the `backup_files` table (Laju's columns).
package struct BackupRecord: Sendable, Equatable {
    /// A UUID string.
    package var id: String
    /// The object key in storage; unique.
    package var objectKey: String
    /// The last path component of the key.
    package var fileName: String
    /// Stored bytes.
    package var fileSize: Int64
    /// `gzip` or `zstd`.
    package var compression: String?
    /// `local` or `s3`.
    package var storage: String
    /// MD5 hex of the stored bytes.
    package var checksum: String?
    /// Milliseconds since the epoch.
    package var uploadedAt: Int64
    /// Milliseconds since the epoch; nil while the backup is live.
    package var deletedAt: Int64?
    /// `aes-256-gcm`.
    package var encryption: String?
    /// Base64 IV.
    package var encIV: String?
    /// Base64 GCM tag.
    package var encTag: String?
    /// `incremental` for an incremental backup's manifest; nil for a full backup.
    package var kind: String?
    /// Never deleted by `clean-backup` (`backup --keep-forever`; column `keep_forever`).
    package var keepForever: Bool
    /// The object's sealed metadata (column `metadata`, JSON), whose MAC proves the row was
    /// written by this suite with a configured key; nil in rows of earlier versions and Laju's.
    package var sealedMetadata: ObjectMetadata?
    /// The storage location the row belongs to (`s3://bucket/`, the local folder; column
    /// `location`): one catalog may serve several, and each compares only its own rows.
    package var location: String?

    package init(id: String, objectKey: String, fileName: String, fileSize: Int64, compression: String?, storage: String,
                checksum: String?, uploadedAt: Int64, deletedAt: Int64? = nil, encryption: String?,
                encIV: String?, encTag: String?, kind: String? = nil, keepForever: Bool = false,
                sealedMetadata: ObjectMetadata? = nil, location: String? = nil) {
        self.id = id
        self.objectKey = objectKey
        self.fileName = fileName
        self.fileSize = fileSize
        self.compression = compression
        self.storage = storage
        self.checksum = checksum
        self.uploadedAt = uploadedAt
        self.deletedAt = deletedAt
        self.encryption = encryption
        self.encIV = encIV
        self.encTag = encTag
        self.kind = kind
        self.keepForever = keepForever
        self.sealedMetadata = sealedMetadata
        self.location = location
    }

    /// The row of an object the suite wrote (or whose sealed metadata verified), from that
    /// metadata: a new backup's row and a re-indexed one are made the same way.
    package init(objectKey: String, sealed metadata: ObjectMetadata, storage: any ObjectStorage) {
        typealias F = ObjectMetadata.Field
        self.init(id: UUID().uuidString.lowercased(), objectKey: objectKey, fileName: ObjectKey.fileName(of: objectKey),
                  fileSize: metadata.storedSize ?? 0, compression: metadata[F.compression], storage: storage.kind.rawValue,
                  checksum: metadata[F.checksum], uploadedAt: metadata.createdAt ?? 0, encryption: metadata[F.algorithm],
                  encIV: metadata[F.iv], encTag: metadata[F.tag], kind: metadata[F.kind], keepForever: metadata.keptForever,
                  sealedMetadata: metadata, location: storage.location(of: ""))
    }

    /// The decryption fields as object metadata, for a restore that trusts the catalog.
    package var metadata: ObjectMetadata {
        var values: [String: String] = [:]
        values[ObjectMetadata.Field.algorithm] = encryption
        values[ObjectMetadata.Field.iv] = encIV
        values[ObjectMetadata.Field.tag] = encTag
        values[ObjectMetadata.Field.compression] = compression
        values[ObjectMetadata.Field.checksum] = checksum
        values[ObjectMetadata.Field.kind] = kind
        return ObjectMetadata(values)
    }
}
