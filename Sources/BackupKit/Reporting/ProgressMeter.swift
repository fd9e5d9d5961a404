import Foundation

/// A live progress line for one stage, redrawn on the terminal a few times a second:
/// `snapshot  128.0 MiB / 256.0 MiB  50%  210.3 MB/s  ETA 1 s`. Off a terminal it does
/// nothing. `finish()` erases the line.
package final class ProgressMeter: @unchecked Sendable {
    private let console: Console
    private let stage: String
    private let total: Int64?
    private let done: @Sendable () -> Int64
    private let started = ContinuousClock.now
    private let condition = NSCondition()
    private var finished = false
    private var task: BackgroundTask?

    init(console: Console, stage: String, total: Int64?, done: @escaping @Sendable () -> Int64, enabled: Bool) {
        self.console = console
        self.stage = stage
        self.total = total
        self.done = done
        guard enabled else { return }
        draw()  // at once, so even a short stage shows that it ran
        task = BackgroundTask(name: "progress") { [self] in loop() }
    }

    /// Stops redrawing and erases the line. Safe to call more than once.
    package func finish() {
        condition.lock()
        let wasRunning = task != nil && !finished
        finished = true
        condition.broadcast()
        condition.unlock()
        if wasRunning { console.drawProgress(nil) }
    }

    deinit { finish() }

    private func loop() {
        condition.lock()
        defer { condition.unlock() }
        while !finished {
            _ = condition.wait(until: Date().addingTimeInterval(0.25))
            if finished { break }
            draw()
        }
    }

    private func draw() {
        console.drawProgress(Self.line(stage: stage, done: done(), total: total,
                                       elapsed: Formatting.durationSeconds(ContinuousClock.now - started)))
    }

    /// The text of a progress line.
    static func line(stage: String, done: Int64, total: Int64?, elapsed: Double) -> String {
        var parts = [stage]
        if let total, total > 0 {
            parts.append("\(Formatting.bytes(done)) / \(Formatting.bytes(total))")
            parts.append(String(format: "%3d%%", Int(min(100, Double(done) * 100 / Double(total)))))
        } else if done > 0 {
            parts.append(Formatting.bytes(done))
        }
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        if done > 0 || total != nil { parts.append(String(format: "%.1f MB/s", rate / 1e6)) }
        if let total, total > 0, rate > 0, done < total {
            parts.append("ETA \(Formatting.shortDuration(Double(total - done) / rate))")
        } else {
            parts.append(Formatting.shortDuration(elapsed))
        }
        return parts.joined(separator: "  ")
    }
}
