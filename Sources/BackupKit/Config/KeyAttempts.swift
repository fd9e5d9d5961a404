/// Opening an object with each candidate key in turn, as restore and the manifest reader both
/// do: a failure that may only mean "not this key" (the tag does not verify) moves on to the
/// next key; any other failure ends the attempts; when every key failed, the last failure is
/// the one reported.
enum KeyAttempts {
    static func first<T>(of keys: [EncryptionKey], onWrongKey: (EncryptionKey, BackupError) -> Void = { _, _ in },
                         _ attempt: (EncryptionKey) throws -> T) throws -> T {
        var last: Error = BackupError.unexpected("no key to try")
        for (index, key) in keys.enumerated() {
            do {
                return try attempt(key)
            } catch let error as BackupError where error.mayBeWrongKey {
                last = error
                if index + 1 < keys.count { onWrongKey(key, error) }
            }
        }
        throw last
    }
}
