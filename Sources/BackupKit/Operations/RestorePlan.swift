import Foundation

/// What to restore and with which decryption parameters, resolved before any byte moves.
struct RestorePlan {
    /// How to decrypt the object and judge what decoding it gives: key, iv, tag, checksum,
    /// compression, and the origin its authenticated metadata records.
    private(set) var decryption: ObjectDecryption
    /// An incremental backup: the object is a manifest, the snapshot lives in packs.
    let incremental: Bool
    let storedSize: Int64
    /// The stored object's version (its ETag on S3) when the plan was made: every part of the
    /// download asks for that one.
    var storedVersion: String?
    /// Where the backup was taken (`host`, `db-path`), from its authenticated metadata.
    var sealedPlace: (host: String, path: String)?

    var objectKey: String { decryption.objectKey }
    var compression: CompressionAlgorithm { decryption.compression }
    var iv: [UInt8] { decryption.iv }
    var tag: [UInt8] { decryption.tag }
    var keyID: String? { decryption.keyID }
    /// The database name and creation time the authenticated metadata records; a manifest's
    /// body must name the same (nil for an unauthenticated object restored by `--key`).
    var sealedOrigin: (database: String, createdAt: Int64)? {
        get { decryption.sealedOrigin }
        set { decryption.sealedOrigin = newValue }
    }

    /// Resolves the selection to a plan. The newest, `--at` and the picker choose among
    /// authenticated backups only; `--key` takes any object, but one whose MAC fails is
    /// refused and one without a MAC (Laju's) is restored with a warning.
    static func resolve(_ selection: RestoreRequest.Selection, in repository: BackupRepository) throws -> RestorePlan {
        let storage = repository.storage
        let objectKey: String
        var metadata: ObjectMetadata
        if case .objectKey(let typed) = selection {
            objectKey = try repository.resolveObjectKey(typed)
            let requested = objectKey
            let head = try storage.head(objectKey: requested)
            let record = try? repository.catalog?.record(forObjectKey: requested)
            let judged = [record?.sealedMetadata, head.metadata].compactMap { $0 }.map {
                ($0, repository.ring?.authenticate($0, objectKey: requested, storedSize: head.object.size)
                    ?? .unauthenticated("no key is configured to verify it"))
            }
            if let authentic = judged.first(where: { $0.1.isAuthenticated }) {
                metadata = authentic.0
            } else if let sealed = [head.metadata, record?.sealedMetadata].compactMap({ $0 }).first(where: { $0[ObjectMetadata.Field.mac] != nil }) {
                let configured = repository.ring?.all.map(\.id) ?? []
                if let keyID = sealed.keyID, repository.ring?.key(id: keyID) == nil {
                    throw BackupError.keyNotAvailable(objectKey: requested, keyID: keyID, configured: configured)
                }
                throw BackupError.unauthenticated(objectKey: requested, reason: judged.last?.1.problem ?? "it does not verify")
            } else {
                repository.console.warning("\(requested) has no authenticated metadata (Laju's format or an earlier version): restoring it as asked; its content is still checked by its GCM tag")
                metadata = head.metadata
                if let record { for (field, value) in record.metadata.values { metadata[field] = value } }
            }
            var plan = try RestorePlan(objectKey: objectKey, storedSize: head.object.size, metadata: metadata)
            plan.storedVersion = head.object.version
            if judged.contains(where: { $0.1.isAuthenticated }), let name = metadata[ObjectMetadata.Field.database], let time = metadata.createdAt {
                plan.sealedOrigin = (name, time)
            }
            return plan
        }
        let inventory = try repository.inventory()
        let entries = try candidates(in: inventory, repository: repository)
        guard !entries.isEmpty else {
            let scope = repository.databaseName.map { "for \($0) under \(repository.location)" } ?? "under \(repository.location)"
            if let ignored = inventory.untrusted.first {
                throw BackupError.noAuthenticatedBackups(scope: scope, count: inventory.untrusted.count, example: ignored.objectKey)
            }
            throw BackupError.noBackups(scope: scope)
        }
        var chosen = entries[0]
        if case .takenBy(let limit) = selection {
            guard let entry = entries.first(where: { $0.createdAt <= limit }) else {
                let oldest = entries.last!
                throw BackupError.noBackupBefore(time: Formatting.iso8601(millis: limit), oldestKey: oldest.objectKey,
                                                 oldestTime: Formatting.iso8601(millis: oldest.createdAt))
            }
            chosen = entry
        }
        if case .chosen(let pick) = selection {
            let picked = try pick(entries)
            guard let entry = entries.first(where: { $0.objectKey == picked }) else { throw BackupError.backupNotFound(objectKey: picked) }
            chosen = entry
        }
        if case .newest = selection, let newer = inventory.untrusted.first(where: { $0.createdAt > chosen.createdAt }) {
            repository.console.warning("\(newer.objectKey) claims to be newer than \(chosen.objectKey) but does not verify (\(newer.authenticity.problem ?? "?")): restoring the newest authenticated backup; 'clean-backup --check' lists such objects")
        }
        objectKey = chosen.objectKey
        metadata = chosen.metadata!
        let head = try storage.head(objectKey: objectKey)
        var plan = try RestorePlan(objectKey: objectKey, storedSize: head.object.size, metadata: metadata)
        plan.storedVersion = head.object.version
        plan.sealedOrigin = (chosen.databaseName ?? "", chosen.createdAt)
        if let path = metadata[ObjectMetadata.Field.databasePath] {
            plan.sealedPlace = (metadata[ObjectMetadata.Field.host] ?? "?", path)
        }
        return plan
    }

    /// The backups newest, `--at` and `--pick` choose from: with a database configured, those
    /// taken from it here (its path, this host); when there are none, those of its one other
    /// place (restoring on a new machine); with several other places, none is guessed.
    static func candidates(in inventory: Inventory, repository: BackupRepository) throws -> [BackupEntry] {
        guard let origin = repository.origin else { return inventory.trusted }
        let own = inventory.own(origin)
        if !own.isEmpty { return own }
        let places = Set(inventory.trusted.map(\.originKey))
        if places.count > 1 {
            throw BackupError.invalidArgument("no backup of \(origin.name) was taken from \(origin.path) on this host, and its backups come from \(places.count) other places (\(places.sorted().joined(separator: ", "))): choose one with --key (see 'restore --list'), or name each database apart (BACKUP_DB_PATH=NAME=PATH)")
        }
        return inventory.trusted
    }

    init(objectKey: String, storedSize: Int64, metadata: ObjectMetadata) throws {
        typealias F = ObjectMetadata.Field
        if let algorithm = metadata[F.algorithm], algorithm.lowercased() != "aes-256-gcm" {
            throw BackupError.badMetadata(objectKey: objectKey, detail: "algo is '\(algorithm)', only aes-256-gcm is supported")
        }
        // Laju's objects and ours before zstd say gzip; an object without `comp` is gzip too.
        let compressionText = metadata[F.compression]?.lowercased() ?? CompressionAlgorithm.gzip.rawValue
        guard let compression = CompressionAlgorithm(rawValue: compressionText) else {
            throw BackupError.badMetadata(objectKey: objectKey, detail: "comp is '\(compressionText)', only gzip and zstd are supported")
        }
        guard let ivText = metadata[F.iv] else { throw BackupError.badMetadata(objectKey: objectKey, detail: "no iv") }
        guard let iv = Data(base64Encoded: ivText), iv.count >= 12 else {
            throw BackupError.badMetadata(objectKey: objectKey, detail: "iv is not base64 of at least 12 bytes")
        }
        guard let tagText = metadata[F.tag] else { throw BackupError.badMetadata(objectKey: objectKey, detail: "no tag") }
        guard let tag = Data(base64Encoded: tagText), tag.count == AESGCM.tagLength else {
            throw BackupError.badMetadata(objectKey: objectKey, detail: "tag is not base64 of 16 bytes")
        }
        decryption = ObjectDecryption(objectKey: objectKey, compression: compression, iv: Array(iv), tag: Array(tag),
                                      checksum: metadata[F.checksum]?.lowercased(), keyID: metadata.keyID)
        incremental = ObjectKey.isManifest(objectKey) || metadata[F.kind] == "incremental"
        self.storedSize = storedSize
    }

    /// The keys to try, in order: the one whose id the object records, else every
    /// configured key (the current one first).
    func candidateKeys(_ ring: KeyRing) throws -> [EncryptionKey] {
        guard let keyID else { return ring.all }
        guard let match = ring.key(id: keyID) else {
            throw BackupError.keyNotAvailable(objectKey: objectKey, keyID: keyID, configured: ring.all.map(\.id))
        }
        return [match]
    }

    /// Judges a decoded object (`ObjectDecryption.verify`).
    func verify(_ decoded: DecodedObject) throws {
        try decryption.verify(decoded)
    }
}
