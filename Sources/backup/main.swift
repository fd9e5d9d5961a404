import BackupKit

CommandLineTool.main(BackupCommand.self)
