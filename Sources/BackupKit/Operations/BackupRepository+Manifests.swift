/// The manifests of a repository, as the operations read them: one object chosen by its key,
/// its metadata authenticated (`RestorePlan.resolve`), then read by `ManifestReader`; and the
/// chains of delta manifests rebuilt from them.
extension BackupRepository {
    /// The manifest stored under `objectKey`, opened with any key of `ring`, as stored (a delta
    /// is not applied: see `manifestChain`). Its metadata must authenticate.
    func manifest(objectKey: String, ring: KeyRing) throws -> Manifest {
        let plan = try RestorePlan.resolve(.objectKey(objectKey), in: self)
        guard plan.sealedOrigin != nil else {
            throw BackupError.unauthenticated(objectKey: objectKey, reason: "a manifest must carry authenticated metadata")
        }
        return try ManifestReader.read(plan.decryption, storage: storage, keys: try plan.candidateKeys(ring)).manifest
    }

    /// Rebuilds delta manifests of this repository whole, reading their parents with `ring`.
    func manifestChain(ring: KeyRing) -> ManifestChain {
        ManifestChain { try self.manifest(objectKey: $0, ring: ring) }
    }

    /// The whole manifest stored under `objectKey` (a delta rebuilt from its parents).
    func resolvedManifest(objectKey: String, ring: KeyRing) throws -> Manifest {
        var chain = manifestChain(ring: ring)
        return try chain.resolve(try manifest(objectKey: objectKey, ring: ring), objectKey: objectKey)
    }
}
