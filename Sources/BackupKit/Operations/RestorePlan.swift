import Foundation

/// What to restore and with which decryption parameters, resolved before any byte moves.
struct RestorePlan {
    let key: String
    let storedSize: Int64
    let iv: [UInt8]
    let tag: [UInt8]
    /// MD5 hex the stored bytes must have, when known.
    let checksum: String?
    /// The id of the key the object was made with (objects by this suite record it; Laju's do not).
    let keyID: String?

    /// Resolves `key` (or the newest backup) to a plan. Metadata comes from the catalog row
    /// when there is one, else from the object's own metadata.
    static func resolve(key requested: String?, storage: any ObjectStorage, settings: Settings,
                        catalog: BackupCatalog?, console: Console) throws -> RestorePlan {
        let key: String
        var record: BackupRecord?
        if let requested {
            try storage.validate(key: requested)
            key = requested
            record = try? catalog?.record(forKey: requested)
        } else {
            let inventory = try Inventory.load(storage: storage, prefix: settings.prefix, catalog: catalog,
                                               databaseName: settings.databaseName, reindex: false, console: console)
            guard let newest = inventory.entries.first else {
                let scope = settings.databaseName.map { "for \($0) under \(storage.location(of: settings.prefix))" }
                    ?? "under \(storage.location(of: settings.prefix))"
                throw BackupError.noBackups(scope: scope)
            }
            key = newest.key
            record = newest.record
        }
        let head = try storage.head(key: key)
        var metadata = head.metadata
        if let record {
            for (field, value) in record.metadata.values { metadata[field] = value }
        }
        return try RestorePlan(key: key, storedSize: head.object.size, metadata: metadata)
    }

    init(key: String, storedSize: Int64, metadata: ObjectMetadata) throws {
        typealias F = ObjectMetadata.Field
        if let algorithm = metadata[F.algorithm], algorithm.lowercased() != "aes-256-gcm" {
            throw BackupError.badMetadata(key: key, detail: "algo is '\(algorithm)', only aes-256-gcm is supported")
        }
        if let compression = metadata[F.compression], compression.lowercased() != "gzip" {
            throw BackupError.badMetadata(key: key, detail: "comp is '\(compression)', only gzip is supported")
        }
        guard let ivText = metadata[F.iv] else { throw BackupError.badMetadata(key: key, detail: "no iv") }
        guard let iv = Data(base64Encoded: ivText), iv.count >= 12 else {
            throw BackupError.badMetadata(key: key, detail: "iv is not base64 of at least 12 bytes")
        }
        guard let tagText = metadata[F.tag] else { throw BackupError.badMetadata(key: key, detail: "no tag") }
        guard let tag = Data(base64Encoded: tagText), tag.count == AESGCM.tagLength else {
            throw BackupError.badMetadata(key: key, detail: "tag is not base64 of 16 bytes")
        }
        self.key = key
        self.storedSize = storedSize
        self.iv = Array(iv)
        self.tag = Array(tag)
        checksum = metadata[F.checksum]?.lowercased()
        keyID = metadata.keyID
    }

    /// The keys to try, in order: the one whose id the object records, else every
    /// configured key (the current one first).
    func candidateKeys(_ ring: KeyRing) throws -> [EncryptionKey] {
        guard let keyID else { return ring.all }
        guard let match = ring.key(id: keyID) else {
            throw BackupError.keyNotAvailable(key: key, keyID: keyID, configured: ring.all.map(\.id))
        }
        return [match]
    }

    /// Judges a decoded object: the checksum first (are the stored bytes intact?), then the
    /// tag (right key?), then the gzip stream.
    func verify(_ decoded: DecodedObject) throws {
        let checksumMatched: Bool
        if let checksum {
            guard checksum == decoded.md5Hex else { throw BackupError.checksumMismatch(key: key) }
            checksumMatched = true
        } else {
            checksumMatched = false
        }
        guard decoded.authenticated else {
            // The key was chosen by the id the object records: if the bytes are intact the
            // recorded iv or tag must be wrong.
            if checksumMatched && keyID != nil { throw BackupError.metadataMismatch(key: key) }
            throw checksumMatched ? BackupError.wrongKey(key: key) : BackupError.authenticationFailed(key: key)
        }
        if let failure = decoded.decompressionFailure {
            throw BackupError.corruptBackup(key: key, detail: failure)
        }
    }
}
