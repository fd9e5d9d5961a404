import BackupKit

BackupCommand.main()
