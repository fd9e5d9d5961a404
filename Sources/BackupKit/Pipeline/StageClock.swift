/// Wall time of a run's stages, one after another: each `lap` ends the stage running since
/// the one before (or since the clock was made).
struct StageClock {
    private var last = ContinuousClock.now
    private(set) var stages: [(name: String, seconds: Double)] = []

    /// Ends the stage `name`; returns every stage so far.
    @discardableResult
    mutating func lap(_ name: String) -> [(name: String, seconds: Double)] {
        let now = ContinuousClock.now
        stages.append((name, Formatting.durationSeconds(now - last)))
        last = now
        return stages
    }
}
