import BackupKit

CommandLineTool.main(RestoreCommand.self)
