import BackupKit

RestoreCommand.main()
