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
        /// Stored bytes of the object (what a listing must show for it).
        package static let storedSize = "size"
        /// The absolute path of the database the object was made from, and the host.
        package static let databasePath = "db-path"
        package static let host = "host"
        /// HMAC-SHA256 of the object key and the fields above (`MetadataSeal`).
        package static let mac = "mac"
    }

    /// The object format written by this version: 2 carries `mac` (authenticated metadata).
    package static let formatVersion = "2"

    package var values: [String: String]

    package init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// The metadata of an object the encoder just produced (a full backup or a manifest).
    package init(encoded: EncodedObject, compression: CompressionAlgorithm, createdAt: Int64, origin: DatabaseOrigin, keyID: String) {
        self.init(Self.common(compression: compression, createdAt: createdAt, origin: origin, keyID: keyID))
        values[Field.iv] = Data(encoded.iv).base64EncodedString()
        values[Field.tag] = Data(encoded.tag).base64EncodedString()
        values[Field.checksum] = encoded.md5Hex
        values[Field.sourceSize] = String(encoded.sourceSize)
        values[Field.storedSize] = String(encoded.storedSize)
    }

    /// The metadata of a pack of sealed blocks (an incremental backup's data object): no iv
    /// or tag of its own, since every block carries its own. Packs are uploaded while they are
    /// written, so their metadata is fixed before their size and checksum are known: the
    /// manifest records each pack's size and version instead (packs of earlier versions
    /// carry both here).
    package static func pack(compression: CompressionAlgorithm, createdAt: Int64, origin: DatabaseOrigin, keyID: String) -> ObjectMetadata {
        var metadata = ObjectMetadata(Self.common(compression: compression, createdAt: createdAt, origin: origin, keyID: keyID))
        metadata.values[Field.kind] = "pack"
        return metadata
    }

    private static func common(compression: CompressionAlgorithm, createdAt: Int64, origin: DatabaseOrigin, keyID: String) -> [String: String] {
        [
            Field.algorithm: "aes-256-gcm",
            Field.compression: compression.rawValue,
            Field.createdAt: String(createdAt),
            Field.database: origin.name,
            Field.databasePath: origin.path,
            Field.host: origin.host,
            Field.format: ObjectMetadata.formatVersion,
            Field.tool: "sqlite-s3-backup",
            Field.keyID: keyID,
        ]
    }

    package subscript(field: String) -> String? {
        get { values[field].flatMap { $0.isEmpty ? nil : $0 } }
        set { values[field] = newValue }
    }

    /// A number field as written: digits only (a sign, a fraction or an exponent is not one).
    package func count(_ field: String) -> Int64? {
        guard let text = self[field], !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64(text)
    }

    package var createdAt: Int64? { count(Field.createdAt) }
    package var storedSize: Int64? { count(Field.storedSize) }
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
