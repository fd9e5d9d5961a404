import BackupKit

CommandLineTool.main(CleanBackupCommand.self)
