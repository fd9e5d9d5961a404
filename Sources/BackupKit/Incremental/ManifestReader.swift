import Foundation

/// Downloads, authenticates and parses a manifest, as restore, the next backup and clean read
/// them. The manifest object is checked like a full backup (checksum, GCM tag) before a byte
/// of it is trusted.
enum ManifestReader {
    /// The manifest `plan` names, with what decoding it learned and the key that opened it.
    static func read(_ plan: RestorePlan, storage: any ObjectStorage,
                     keys: [EncryptionKey]) throws -> (manifest: Manifest, decoded: DecodedObject, key: EncryptionKey) {
        var lastError: Error = BackupError.unexpected("no key to try")
        for key in keys {
            do {
                let parser = ManifestParser()
                let objectKey = plan.objectKey
                var failure: DecompressionFailure?
                let decoded = try BackupDecoder(key: key, iv: plan.iv, tag: plan.tag, algorithm: plan.compression)
                    .decode(download: { deliver in try storage.download(objectKey: objectKey, to: deliver) },
                            into: { bytes in
                                // Parse failures wait for the object to authenticate: a wrong key or a
                                // damaged object is reported as such, not as a bad manifest.
                                guard failure == nil else { return }
                                do { try parser.feed(bytes) } catch let error as DecompressionFailure { failure = error }
                            })
                try plan.verify(decoded)
                do {
                    if let failure { throw failure }
                    let manifest = try parser.finish()
                    try checkOrigin(of: manifest.header, against: plan)
                    return (manifest, decoded, key)
                } catch let failure as DecompressionFailure {
                    throw BackupError.corruptBackup(objectKey: objectKey, detail: failure.description)
                }
            } catch let error as BackupError where error.mayBeWrongKey {
                lastError = error
            }
        }
        throw lastError
    }

    /// The manifest's body names its own object key, database and time: they must be what the
    /// plan's (authenticated) metadata says, or the manifest was copied or renamed.
    static func checkOrigin(of header: Manifest.Header, against plan: RestorePlan) throws {
        if let named = header.objectKey, named != plan.objectKey {
            throw BackupError.manifestMismatch(objectKey: plan.objectKey, detail: "names the object \(named)")
        }
        guard let origin = plan.sealedOrigin else { return }
        guard header.objectKey != nil, let createdAt = header.createdAt else {
            throw BackupError.manifestMismatch(objectKey: plan.objectKey, detail: "names no object key or time")
        }
        if header.database != origin.database {
            throw BackupError.manifestMismatch(objectKey: plan.objectKey, detail: "is of the database \(header.database), not \(origin.database)")
        }
        if createdAt != origin.createdAt {
            throw BackupError.manifestMismatch(objectKey: plan.objectKey,
                                               detail: "was made at \(Formatting.iso8601(millis: createdAt)), not \(Formatting.iso8601(millis: origin.createdAt))")
        }
    }

    /// The manifest stored under `objectKey` in `repository`, opened with any key of `ring`, as
    /// stored (a delta is not applied: see `chain`). Its metadata must authenticate.
    static func read(objectKey: String, in repository: BackupRepository, ring: KeyRing) throws -> Manifest {
        let plan = try RestorePlan.resolve(.objectKey(objectKey), in: repository)
        guard plan.sealedOrigin != nil else {
            throw BackupError.unauthenticated(objectKey: objectKey, reason: "a manifest must carry authenticated metadata")
        }
        return try read(plan, storage: repository.storage, keys: try plan.candidateKeys(ring)).manifest
    }

    /// Rebuilds delta manifests of `repository` whole, reading their parents with `ring`.
    static func chain(in repository: BackupRepository, ring: KeyRing) -> ManifestChain {
        ManifestChain { try read(objectKey: $0, in: repository, ring: ring) }
    }

    /// The whole manifest stored under `objectKey` (a delta rebuilt from its parents).
    static func resolved(objectKey: String, in repository: BackupRepository, ring: KeyRing) throws -> Manifest {
        var chain = chain(in: repository, ring: ring)
        return try chain.resolve(try read(objectKey: objectKey, in: repository, ring: ring), objectKey: objectKey)
    }
}
