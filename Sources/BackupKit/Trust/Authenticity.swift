import Foundation

/// Whether what an object (or its catalog row) says about itself was written by this suite
/// with a configured key. Only authenticated records are chosen, counted, ranked or deleted.
package enum Authenticity: Sendable, Equatable {
    /// The MAC verifies under the key with this id.
    case authenticated(keyID: String)
    /// No MAC, a MAC that fails, a key that is not configured: why, in a few words.
    case unauthenticated(String)

    package var isAuthenticated: Bool {
        if case .authenticated = self { return true }
        return false
    }

    /// Why it is not authenticated (nil when it is).
    package var problem: String? {
        if case .unauthenticated(let reason) = self { return reason }
        return nil
    }
}

extension KeyRing {
    /// Judges `metadata` claimed for `objectKey`, whose stored object holds `storedSize` bytes
    /// (nil when unknown). Retired keys verify the objects they made.
    package func authenticate(_ metadata: ObjectMetadata, objectKey: String, storedSize: Int64?) -> Authenticity {
        guard metadata[ObjectMetadata.Field.mac] != nil else {
            return .unauthenticated("its metadata carries no MAC (written by Laju or an earlier version, or forged)")
        }
        guard let keyID = metadata.keyID, let key = key(id: keyID) else {
            return .unauthenticated("its MAC is under key \(metadata.keyID ?? "?"), which is not configured")
        }
        guard MetadataSeal(key: key).verifies(metadata, objectKey: objectKey) else {
            return .unauthenticated("its MAC does not verify: its metadata or name was changed, or it was copied from elsewhere")
        }
        guard metadata.createdAt != nil else { return .unauthenticated("its authenticated metadata has no creation time") }
        if let storedSize, let recorded = metadata.storedSize, recorded != storedSize {
            return .unauthenticated("it holds \(storedSize) bytes where its authenticated metadata says \(recorded)")
        }
        return .authenticated(keyID: key.id)
    }
}
