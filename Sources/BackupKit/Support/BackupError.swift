import Foundation

/// Every failure the suite reports to a user. Each case carries what the message needs,
/// `description` is one line naming the problem and the fix, and `exitStatus` maps it to
/// exactly one documented exit code. Messages never contain key material or secrets.
package enum BackupError: Error, CustomStringConvertible, Equatable {
    // Usage (64)
    /// A flag or argument has an invalid value.
    case invalidArgument(String)
    /// `restore --target` without `--yes` while no terminal can confirm.
    case confirmationUnavailable
    /// The user answered no to a confirmation.
    case declined
    /// An object key (`--key`) that would escape the storage folder (`..`, absolute path, NUL).
    case unsafeObjectKey(String)

    // Configuration (78)
    /// No encryption key configured.
    case missingEncryptionKey
    /// The configured key is not 32 bytes in any accepted form.
    case malformedEncryptionKey(source: String)
    /// The key file could not be read.
    case unreadableKeyFile(path: String, reason: String)
    /// Any other configuration problem: names the setting and the fix.
    case configuration(String)

    // Input missing (66)
    /// The database to back up does not exist.
    case databaseMissing(path: String)
    /// No object with that key in storage.
    case backupNotFound(objectKey: String)
    /// There is no live backup to restore.
    case noBackups(scope: String)
    /// `restore --at`: every backup in scope is younger than the time asked for.
    case noBackupBefore(time: String, oldestKey: String, oldestTime: String)
    /// `restore --target` without `--db` or `--key`: no backup has the target's name.
    case noBackupsOfTarget(name: String, target: String)
    /// Objects are stored, but none whose metadata verifies (forged, Laju's, another key's).
    case noAuthenticatedBackups(scope: String, count: Int, example: String)

    // Data errors (65)
    /// The file is not a SQLite database.
    case notADatabase(path: String)
    /// A database path (`--db`, `--target`) names a folder.
    case databaseIsFolder(path: String, setting: String)
    /// `restore --target` names an existing file that is not a SQLite database.
    case targetNotADatabase(path: String)
    /// SQLite reported corruption (`quick_check` or `integrity_check` not ok).
    case integrityCheckFailed(what: String, detail: String)
    /// The stored bytes do not match the recorded MD5 checksum.
    case checksumMismatch(objectKey: String)
    /// The GCM tag did not verify although the stored bytes are intact: wrong key, or iv/tag metadata wrong.
    case wrongKey(objectKey: String)
    /// The object names a key id that no configured key has.
    case keyNotAvailable(objectKey: String, keyID: String, configured: [String])
    /// Intact bytes, the right key, yet the tag fails: the recorded iv or tag was altered.
    case metadataMismatch(objectKey: String)
    /// `restore --pick` without a terminal to ask on.
    case pickNeedsTerminal
    /// The GCM tag did not verify and no checksum could tell why.
    case authenticationFailed(objectKey: String)
    /// The object's metadata lacks what decryption needs, or has a malformed value.
    case badMetadata(objectKey: String, detail: String)
    /// The decrypted bytes are not a valid gzip or zstd stream.
    case corruptBackup(objectKey: String, detail: String)
    /// The object's metadata MAC fails: renamed, re-dated, copied or forged.
    case unauthenticated(objectKey: String, reason: String)
    /// A manifest's encrypted body names another object, database or time than its metadata.
    case manifestMismatch(objectKey: String, detail: String)

    // Storage (69)
    /// The storage could not be reached or refused the operation.
    case storageUnavailable(String)
    /// The object was replaced while it was being downloaded.
    case objectChanged(objectKey: String)

    // Cannot create output (73)
    /// A file or folder could not be written.
    case cannotWrite(path: String, reason: String)
    /// A WAL database's folder cannot be written by this user, and SQLite needs its `-shm` file there to read it.
    case walFolderNotWritable(database: String, folder: String)
    /// The output exists already; `flag` is the option that named it (`--out`, `--sql`).
    case outputExists(path: String, flag: String)
    /// A folder has too little free space for what the run must write there.
    case insufficientSpace(folder: String, needed: Int64, available: Int64)
    /// The upload's spool filled the work folder's file system.
    case spoolFull(folder: String, written: Int64)
    /// The object is stored but the catalog row could not be written.
    case catalogWriteFailed(objectKey: String, reason: String)

    // Try again later (75)
    /// Another run holds the lock for this database.
    case locked(database: String)
    /// SQLite stayed busy longer than the busy timeout.
    case databaseBusy(path: String)
    /// The database changed in a way no snapshot survives (a WAL frame overwritten by another page, commits landing every time a snapshot started).
    case databaseChanged(path: String, reason: String)
    /// S3 Object Lock retains the object until this time (ISO-8601): it cannot be deleted yet.
    case underRetention(objectKey: String, until: String)
    /// A pack an incremental backup reuses was deleted while it ran (a clean elsewhere).
    case reusedPackVanished(packKey: String)

    // Unexpected (1)
    /// A failure nobody planned for, with what the system said.
    case unexpected(String)
    /// SQLite failed in a way that is not one of the above.
    case sqlite(code: Int32, message: String, context: String)

    /// The exit code this error ends the process with.
    /// Whether another key might decrypt what this key did not.
    var mayBeWrongKey: Bool {
        switch self {
        case .wrongKey, .authenticationFailed: return true
        default: return false
        }
    }

    package var exitStatus: ExitStatus {
        switch self {
        case .invalidArgument, .confirmationUnavailable, .declined, .unsafeObjectKey, .pickNeedsTerminal: return .usage
        case .keyNotAvailable: return .configuration
        case .metadataMismatch: return .dataError
        case .missingEncryptionKey, .malformedEncryptionKey, .unreadableKeyFile, .configuration: return .configuration
        case .databaseMissing, .databaseIsFolder, .backupNotFound, .noBackups, .noBackupBefore, .noAuthenticatedBackups, .noBackupsOfTarget: return .noInput
        case .notADatabase, .targetNotADatabase, .integrityCheckFailed, .checksumMismatch, .wrongKey, .authenticationFailed,
             .badMetadata, .corruptBackup, .unauthenticated, .manifestMismatch:
            return .dataError
        case .storageUnavailable, .objectChanged: return .unavailable
        case .cannotWrite, .walFolderNotWritable, .outputExists, .insufficientSpace, .spoolFull, .catalogWriteFailed: return .cannotCreate
        case .locked, .databaseBusy, .databaseChanged, .reusedPackVanished, .underRetention: return .tryAgain
        case .unexpected, .sqlite: return .failure
        }
    }

    package var description: String {
        switch self {
        case .invalidArgument(let text):
            return text
        case .confirmationUnavailable:
            return "restore --target replaces a live database and needs confirmation, but no terminal is attached: pass --yes to confirm"
        case .declined:
            return "restore cancelled: the target was not touched"
        case .unsafeObjectKey(let key):
            return "refusing key '\(key)': keys must be relative paths without '..' segments; use a key from 'restore --list'"
        case .missingEncryptionKey:
            return "no encryption key configured: set BACKUP_ENCRYPTION_KEY_FILE to a file holding a 32-byte key (create one with 'backup --generate-key-file .backup.key') or set BACKUP_ENCRYPTION_KEY"
        case .malformedEncryptionKey(let source):
            return "\(source) is not a 32-byte key: write it as base64 (44 characters), hex (64 characters) or exactly 32 UTF-8 bytes; 'backup --generate-key' prints a valid one"
        case .unreadableKeyFile(let path, let reason):
            return "cannot read the key file \(path): \(reason); check BACKUP_ENCRYPTION_KEY_FILE and the file's permissions"
        case .configuration(let text):
            return text
        case .databaseMissing(let path):
            return "database not found: \(path); check --db or BACKUP_DB_PATH"
        case .backupNotFound(let key):
            return "no backup with key '\(key)' in storage; list the available keys with 'restore --list'"
        case .noBackups(let scope):
            return "no backups found \(scope); run 'backup' first or check BACKUP_PREFIX and the storage settings"
        case .noBackupBefore(let time, let oldestKey, let oldestTime):
            return "no backup was taken at or before \(time); the oldest is \(oldestKey) from \(oldestTime): pass a later --at, or see 'restore --list'"
        case .noBackupsOfTarget(let name, let target):
            return "no backup of \(name) (the name of --target \(target)) was found; a backup of another database goes into it only when named: pass --key KEY (see 'restore --list'), or --db NAME=PATH for the database whose backups to restore"
        case .noAuthenticatedBackups(let scope, let count, let example):
            return "no authenticated backup found \(scope): \(count) object(s) there do not verify with the configured key(s) (\(example) among them; see 'restore --list'); configure the key they were made with, or restore one explicitly with --key"
        case .unauthenticated(let key, let reason):
            return "refusing '\(key)': \(reason); nothing was written. It was not written by this suite under this name: restore another backup (see 'restore --list')"
        case .manifestMismatch(let key, let detail):
            return "refusing '\(key)': its manifest \(detail), so it was copied or renamed; nothing was written, restore another backup"
        case .databaseIsFolder(let path, let setting):
            return "\(path) is a folder, not a database file: point \(setting) at the SQLite file inside it"
        case .targetNotADatabase(let path):
            return "--target \(path) exists and is not a SQLite database (it does not start with 'SQLite format 3'): name the database to replace, or restore into a new file with --out; nothing was written"
        case .notADatabase(let path):
            return "\(path) is not a SQLite database; check --db or BACKUP_DB_PATH"
        case .integrityCheckFailed(let what, let detail):
            return "\(what) failed SQLite's integrity check (\(detail)); nothing was written: repair the database or restore an older backup"
        case .checksumMismatch(let key):
            return "backup '\(key)' is corrupt or was tampered with: its MD5 checksum does not match; nothing was written, restore an older backup"
        case .wrongKey(let key):
            return "backup '\(key)' does not decrypt with the configured key(s) and its recorded iv/tag (the stored bytes are intact): use the key it was made with, listing retired keys in BACKUP_DECRYPTION_KEYS; nothing was written"
        case .keyNotAvailable(let key, let keyID, let configured):
            let have = configured.isEmpty ? "no key is configured" : "the configured keys have id(s) \(configured.joined(separator: ", "))"
            return "backup '\(key)' was encrypted with the key whose id is \(keyID), but \(have): add that key to BACKUP_DECRYPTION_KEYS or BACKUP_DECRYPTION_KEYS_FILE; nothing was written"
        case .metadataMismatch(let key):
            return "backup '\(key)' is intact and its key is configured, but its recorded iv/tag do not authenticate it: the iv or tag metadata (catalog row or object metadata) was altered; nothing was written, restore another backup"
        case .pickNeedsTerminal:
            return "restore --pick asks on a terminal and none is attached: pass --key KEY (see 'restore --list') or --yes for the newest"
        case .authenticationFailed(let key):
            return "backup '\(key)' failed authentication: wrong key, or the object was tampered with; nothing was written"
        case .badMetadata(let key, let detail):
            return "backup '\(key)' has unusable metadata (\(detail)); nothing was written: its iv/tag must come from the catalog or the object's metadata"
        case .corruptBackup(let key, let detail):
            return "backup '\(key)' is corrupt (\(detail)); nothing was written, restore an older backup"
        case .storageUnavailable(let text):
            return text
        case .objectChanged(let key):
            return "backup '\(key)' was replaced in storage while it was downloading; nothing was written, run restore again"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason); check the folder exists, is writable and has free space"
        case .walFolderNotWritable(let database, let folder):
            return "cannot read \(database): it is in WAL mode, so SQLite needs \((database as NSString).lastPathComponent)-shm and -wal beside it, and \(folder) is not writable by this user; run the backup as the database's owner, or give this user write access to \(folder)"
        case .outputExists(let path, let flag):
            return "\(path) exists already and was not touched: pass --overwrite to replace it, or choose another \(flag)"
        case .insufficientSpace(let folder, let needed, let available):
            return "\(folder) has \(Formatting.bytes(available)) free but this backup needs \(Formatting.bytes(needed)) there (\(needed) bytes) for its snapshot and upload spool: free space, or set BACKUP_LOCAL_DIR to a folder on a larger disk"
        case .spoolFull(let folder, let written):
            return "\(folder) ran out of space after \(Formatting.bytes(written)) of the upload's spool (the compressed, encrypted object is written there before it is sent, so it needs about the backup's stored size); nothing was uploaded: free space, or set BACKUP_LOCAL_DIR to a folder on a larger disk"
        case .catalogWriteFailed(let key, let reason):
            return "backup stored as '\(key)' but the catalog row could not be written (\(reason)); the object is safe and is re-indexed by the next 'restore --list' or 'clean-backup'"
        case .locked(let database):
            return "another backup of \(database) is running; try again when it has finished"
        case .databaseChanged(let path, let reason):
            return "\(path) changed under the snapshot (\(reason)); nothing was stored: run the backup again"
        case .databaseBusy(let path):
            return "\(path) stayed locked by another connection; try again later"
        case .underRetention(let key, let until):
            return "'\(key)' is under S3 Object Lock retention until \(until): it cannot be deleted before then"
        case .reusedPackVanished(let pack):
            return "the pack \(pack) this incremental backup reuses was deleted while it ran (by a clean-backup on another machine?); no manifest was stored: run backup again, which stores those blocks anew"
        case .unexpected(let text):
            return text
        case .sqlite(let code, let message, let context):
            return "SQLite error \(code) \(context): \(message)"
        }
    }
}
