import BackupKit

CleanBackupCommand.main()
