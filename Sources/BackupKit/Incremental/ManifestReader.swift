import Foundation

/// Downloads, authenticates and parses a manifest, as restore, the next backup and clean read
/// them. The manifest object is checked like a full backup (checksum, GCM tag) before a byte
/// of it is trusted. It knows the object only by its `ObjectDecryption`: choosing which
/// object, and proving its metadata, is the caller's (Operations).
enum ManifestReader {
    /// The manifest `object` describes, with what decoding it learned and the key that opened it.
    static func read(_ object: ObjectDecryption, storage: any ObjectStorage,
                     keys: [EncryptionKey]) throws -> (manifest: Manifest, decoded: DecodedObject, key: EncryptionKey) {
        try KeyAttempts.first(of: keys) { key in
            let parser = ManifestParser()
            let objectKey = object.objectKey
            var failure: DecompressionFailure?
            let decoded = try BackupDecoder(key: key, iv: object.iv, tag: object.tag, algorithm: object.compression)
                .decode(download: { deliver in try storage.download(objectKey: objectKey, to: deliver) },
                        into: { bytes in
                            // Parse failures wait for the object to authenticate: a wrong key or a
                            // damaged object is reported as such, not as a bad manifest.
                            guard failure == nil else { return }
                            do { try parser.feed(bytes) } catch let error as DecompressionFailure { failure = error }
                        })
            try object.verify(decoded)
            do {
                if let failure { throw failure }
                let manifest = try parser.finish()
                try checkOrigin(of: manifest.header, against: object)
                return (manifest, decoded, key)
            } catch let failure as DecompressionFailure {
                throw BackupError.corruptBackup(objectKey: objectKey, detail: failure.description)
            }
        }
    }

    /// The manifest's body names its own object key, database and time: they must be what the
    /// object's (authenticated) metadata says, or the manifest was copied or renamed.
    static func checkOrigin(of header: Manifest.Header, against object: ObjectDecryption) throws {
        if let named = header.objectKey, named != object.objectKey {
            throw BackupError.manifestMismatch(objectKey: object.objectKey, detail: "names the object \(named)")
        }
        guard let origin = object.sealedOrigin else { return }
        guard header.objectKey != nil, let createdAt = header.createdAt else {
            throw BackupError.manifestMismatch(objectKey: object.objectKey, detail: "names no object key or time")
        }
        if header.database != origin.database {
            throw BackupError.manifestMismatch(objectKey: object.objectKey, detail: "is of the database \(header.database), not \(origin.database)")
        }
        if createdAt != origin.createdAt {
            throw BackupError.manifestMismatch(objectKey: object.objectKey,
                                               detail: "was made at \(Formatting.iso8601(millis: createdAt)), not \(Formatting.iso8601(millis: origin.createdAt))")
        }
    }
}
