import Foundation

/// Builds the storage a configuration names: the local folder or an S3 bucket.
enum StorageFactory {
    /// `create` false for runs that only read: a missing local folder is not made.
    static func make(settings: Settings, log: StorageLog, create: Bool = true) throws -> any ObjectStorage {
        switch settings.storageKind {
        case .local:
            if try ObjectLockSettings.resolve(environment: settings.environment) != nil {
                throw BackupError.configuration("BACKUP_S3_OBJECT_LOCK needs S3 storage (the local folder has no object lock): set S3_BUCKET to a bucket with Object Lock enabled, or unset BACKUP_S3_OBJECT_LOCK")
            }
            return try LocalFolderStorage(root: settings.localDirectory, create: create)
        case .s3:
            let environment = settings.environment
            return S3Storage(config: try S3Configuration(environment: environment),
                             listPageSize: try environment.integer("BACKUP_S3_LIST_PAGE_SIZE", in: 1...1000) ?? 1000,
                             abandonedAfter: try settings.abandonedAfter(), log: log)
        }
    }
}
