/// Everything checked, nothing written (`--verify-only`).
struct VerifyOnlyRestoreTarget: RestoreTarget {
    func prepare(objectKey: String, confirm: (String) -> Bool?) throws {}
    func temporaryPath(in work: WorkDirectory) -> String { work.file("restored.db") }
    func place(_ temporary: String) throws -> RestorePlacement { RestorePlacement() }
}
