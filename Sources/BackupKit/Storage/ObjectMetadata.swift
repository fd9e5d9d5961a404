import Foundation

/// The metadata every backup object carries: on S3 as `x-amz-meta-*` headers, on local
/// storage as the JSON sidecar `<object>.meta.json`. The first five fields are Laju's.
package struct ObjectMetadata: Sendable, Equatable {
    /// Field names, lower case as S3 returns them.
    package enum Field {
        package static let algorithm = "algo"
        package static let iv = "iv"
        package static let tag = "tag"
        package static let compression = "comp"
        package static let checksum = "checksum"
        package static let sourceSize = "source-size"
        package static let createdAt = "created-at"
        package static let database = "db-name"
        package static let format = "format"
        package static let tool = "tool"
        /// The id of the key the object was encrypted with (`EncryptionKey.id`), never the key.
        package static let keyID = "key-id"
        /// `incremental` for a manifest, `pack` for a pack of blocks; absent on full backups.
        package static let kind = "kind"
        /// `forever` on a backup `clean-backup` must never delete (`backup --keep-forever`).
        package static let keep = "keep"
    }

    /// The object format written by this version.
    package static let formatVersion = "1"

    package var values: [String: String]

    package init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// The metadata of an object the encoder just produced.
    package init(encoded: EncodedObject, compression: CompressionAlgorithm, createdAt: Int64, databaseName: String, keyID: String) {
        values = [
            Field.algorithm: "aes-256-gcm",
            Field.iv: Data(encoded.iv).base64EncodedString(),
            Field.tag: Data(encoded.tag).base64EncodedString(),
            Field.compression: compression.rawValue,
            Field.checksum: encoded.md5Hex,
            Field.sourceSize: String(encoded.sourceSize),
            Field.createdAt: String(createdAt),
            Field.database: databaseName,
            Field.format: ObjectMetadata.formatVersion,
            Field.tool: "sqlite-s3-backup",
            Field.keyID: keyID,
        ]
    }

    /// The metadata of a pack of sealed blocks (an incremental backup's data object): no iv
    /// or tag of its own, since every block carries its own.
    package static func pack(compression: CompressionAlgorithm, checksum: String, createdAt: Int64,
                             databaseName: String, keyID: String) -> ObjectMetadata {
        ObjectMetadata([
            Field.algorithm: "aes-256-gcm",
            Field.compression: compression.rawValue,
            Field.checksum: checksum,
            Field.createdAt: String(createdAt),
            Field.database: databaseName,
            Field.format: ObjectMetadata.formatVersion,
            Field.tool: "sqlite-s3-backup",
            Field.keyID: keyID,
            Field.kind: "pack",
        ])
    }

    package subscript(field: String) -> String? {
        get { values[field].flatMap { $0.isEmpty ? nil : $0 } }
        set { values[field] = newValue }
    }

    package var createdAt: Int64? { self[Field.createdAt].flatMap { Int64($0) } }
    package var keyID: String? { self[Field.keyID]?.lowercased() }
    /// Marked by `backup --keep-forever`.
    package var keptForever: Bool { self[Field.keep]?.lowercased() == "forever" }

    /// The JSON of a local sidecar file: one flat object, keys sorted.
    package func sidecarJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try encoder.encode(values)) + [10]
    }

    /// Reads a sidecar file; values that are not strings are ignored.
    package static func fromSidecarJSON(_ data: Data) -> ObjectMetadata? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var values: [String: String] = [:]
        for (name, value) in object {
            if let text = value as? String { values[name.lowercased()] = text }
            else if let number = value as? NSNumber { values[name.lowercased()] = number.stringValue }
        }
        return ObjectMetadata(values)
    }
}
