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
                var bytes: [UInt8] = []
                let objectKey = plan.objectKey
                let decoded = try BackupDecoder(key: key, iv: plan.iv, tag: plan.tag, algorithm: plan.compression)
                    .decode(download: { deliver in try storage.download(objectKey: objectKey, to: deliver) },
                            into: { bytes += $0 })
                try plan.verify(decoded)
                do {
                    return (try Manifest(decoding: bytes), decoded, key)
                } catch let failure as DecompressionFailure {
                    throw BackupError.corruptBackup(objectKey: objectKey, detail: failure.description)
                }
            } catch let error as BackupError where error.mayBeWrongKey {
                lastError = error
            }
        }
        throw lastError
    }

    /// The manifest stored under `objectKey` in `repository`, opened with any key of `ring`.
    static func read(objectKey: String, in repository: BackupRepository, ring: KeyRing) throws -> Manifest {
        let plan = try RestorePlan.resolve(.objectKey(objectKey), in: repository)
        return try read(plan, storage: repository.storage, keys: try plan.candidateKeys(ring)).manifest
    }
}
