/// What a command hands back when it ran to the end: encoded for `--json`, rendered for a
/// person, and mapped by `RunOutcome` to an exit status and a metrics record.
protocol CommandResult: Encodable {
    /// The exit status of a run that produced this result: `.ok` unless the result itself
    /// reports a problem (a stale `--status`, deletions that failed).
    var exitStatus: ExitStatus { get }
    /// How the metrics file records the run.
    var metricsOutcome: MetricsFile.Outcome { get }
    /// The result for a person: results on stdout, messages on stderr.
    func render(on console: Console)
}

extension CommandResult {
    var exitStatus: ExitStatus { .ok }
    var metricsOutcome: MetricsFile.Outcome { .success(sizeBytes: nil) }
}
