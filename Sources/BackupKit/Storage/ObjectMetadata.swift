import Foundation

/// The metadata every backup object carries: on S3 as `x-amz-meta-*` headers, on local
/// storage as the JSON sidecar `<object>.meta.json`. The first five fields are Laju's.
public struct ObjectMetadata: Sendable, Equatable {
    /// Field names, lower case as S3 returns them.
    public enum Field {
        public static let algorithm = "algo"
        public static let iv = "iv"
        public static let tag = "tag"
        public static let compression = "comp"
        public static let checksum = "checksum"
        public static let sourceSize = "source-size"
        public static let createdAt = "created-at"
        public static let database = "db-name"
        public static let format = "format"
        public static let tool = "tool"
        /// The id of the key the object was encrypted with (`EncryptionKey.id`), never the key.
        public static let keyID = "key-id"
    }

    /// The object format written by this version.
    public static let formatVersion = "1"

    public var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// The metadata of an object the encoder just produced.
    public init(encoded: EncodedObject, createdAt: Int64, databaseName: String, keyID: String) {
        values = [
            Field.algorithm: "aes-256-gcm",
            Field.iv: Data(encoded.iv).base64EncodedString(),
            Field.tag: Data(encoded.tag).base64EncodedString(),
            Field.compression: "gzip",
            Field.checksum: encoded.md5Hex,
            Field.sourceSize: String(encoded.sourceSize),
            Field.createdAt: String(createdAt),
            Field.database: databaseName,
            Field.format: ObjectMetadata.formatVersion,
            Field.tool: "sqlite-s3-backup",
            Field.keyID: keyID,
        ]
    }

    public subscript(field: String) -> String? {
        get { values[field].flatMap { $0.isEmpty ? nil : $0 } }
        set { values[field] = newValue }
    }

    public var createdAt: Int64? { self[Field.createdAt].flatMap { Int64($0) } }
    public var sourceSize: Int64? { self[Field.sourceSize].flatMap { Int64($0) } }
    public var keyID: String? { self[Field.keyID]?.lowercased() }

    /// The JSON of a local sidecar file: one flat object, keys sorted.
    public func sidecarJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try encoder.encode(values)) + [10]
    }

    /// Reads a sidecar file; values that are not strings are ignored.
    public static func fromSidecarJSON(_ data: Data) -> ObjectMetadata? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var values: [String: String] = [:]
        for (name, value) in object {
            if let text = value as? String { values[name.lowercased()] = text }
            else if let number = value as? NSNumber { values[name.lowercased()] = number.stringValue }
        }
        return ObjectMetadata(values)
    }
}
