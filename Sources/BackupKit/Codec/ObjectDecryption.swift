/// What decrypting one stored object takes and what its decoding must show: the parameters
/// its (authenticated) metadata records, and the judgement of a decoded object. Restore plans
/// carry one; the manifest reader needs nothing else.
struct ObjectDecryption: Sendable {
    let objectKey: String
    /// How the object's plain bytes are compressed.
    let compression: CompressionAlgorithm
    let iv: [UInt8]
    let tag: [UInt8]
    /// MD5 hex the stored bytes must have, when known.
    let checksum: String?
    /// The id of the key the object was made with (objects by this suite record it; Laju's do not).
    let keyID: String?
    /// The database name and creation time the authenticated metadata records (nil for an
    /// object restored by `--key` without a MAC).
    var sealedOrigin: (database: String, createdAt: Int64)?

    /// Whether the tag alone says what the checksum would: the metadata naming the iv, tag and
    /// checksum verified under the key, so a tag that verifies means the stored bytes are the
    /// ones sealed, whose MD5 is the recorded one. Such an object's MD5 is computed only when
    /// its tag fails, to tell damaged bytes from altered metadata.
    var tagCoversChecksum: Bool { sealedOrigin != nil && checksum != nil }

    /// Judges a decoded object: the checksum first (are the stored bytes intact?), then the
    /// tag (right key?), then the compressed stream. A decoding without an MD5 must have been
    /// asked for only where `tagCoversChecksum`.
    func verify(_ decoded: DecodedObject) throws {
        let checksumMatched: Bool
        if decoded.md5Hex == nil && decoded.authenticated && tagCoversChecksum {
            checksumMatched = true
        } else if let checksum {
            guard checksum == decoded.md5Hex else { throw BackupError.checksumMismatch(objectKey: objectKey) }
            checksumMatched = true
        } else {
            checksumMatched = false
        }
        guard decoded.authenticated else {
            // The key was chosen by the id the object records: if the bytes are intact the
            // recorded iv or tag must be wrong.
            if checksumMatched && keyID != nil { throw BackupError.metadataMismatch(objectKey: objectKey) }
            throw checksumMatched ? BackupError.wrongKey(objectKey: objectKey) : BackupError.authenticationFailed(objectKey: objectKey)
        }
        if let failure = decoded.decompressionFailure {
            throw BackupError.corruptBackup(objectKey: objectKey, detail: failure)
        }
    }
}
