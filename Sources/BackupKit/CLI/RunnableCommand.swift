import ArgumentParser

/// One of the suite's commands. ArgumentParser parses and validates it (usage errors and
/// range checks live in `validate()`); `CommandLineTool` runs `execute` and maps whatever
/// it returns or throws to one `RunOutcome`. A command never exits the process itself.
protocol RunnableCommand: ParsableCommand {
    /// The settings every executable takes.
    var options: CommonOptions { get }
    /// The metrics series the run counts in; nil for runs that are not recorded.
    var job: MetricsFile.Job? { get }
    /// Flag values that win over the environment.
    func overrides() -> SettingOverrides
    /// Does the work and returns its result; a `BackupError` names a failure and its exit code.
    func execute(_ context: RunContext) throws -> any CommandResult
}

extension RunnableCommand {
    func overrides() -> SettingOverrides { options.overrides() }
}
