import Foundation
import Synchronization

/// What a run says when SQLite makes it wait for another connection's lock: once a wait has
/// lasted `after`, one line naming the database and how long the wait may last, so a run
/// that seems stuck says why.
package struct LockWaitNotice: Sendable {
    let after: Duration
    let say: @Sendable (String) -> Void

    package init(after: Duration = .seconds(1), say: @escaping @Sendable (String) -> Void) {
        self.after = after
        self.say = say
    }

    /// Notices written as INFO lines on `console`.
    package init(console: Console) {
        self.init { console.info($0) }
    }

    func message(path: String, limit: Duration) -> String {
        "waiting for \(path): another connection holds a lock on it (giving up after \(limit.components.seconds) s with exit 75)"
    }
}

/// One wait for a lock, from its first busy answer: backs off from 5 ms to 100 ms, gives up
/// at `limit`, and gives the notice once per connection.
final class LockWaiter: @unchecked Sendable {
    let path: String
    let limit: Duration
    let notice: LockWaitNotice?
    private let state = Mutex<(started: ContinuousClock.Instant?, said: Bool)>((nil, false))

    init(path: String, limit: Duration, notice: LockWaitNotice?) {
        self.path = path
        self.limit = limit
        self.notice = notice
    }

    /// Called on each busy answer; `attempt` 0 starts a new wait. Returns false once the wait
    /// has lasted `limit` (the caller gives up), else sleeps a little and returns true.
    func waitAgain(attempt: Int) -> Bool {
        let now = ContinuousClock.now
        let (elapsed, sayNow) = state.withLock { state -> (Duration, Bool) in
            if attempt == 0 || state.started == nil { state.started = now }
            let elapsed = now - state.started!
            let sayNow = !state.said && notice.map { elapsed >= $0.after } == true
            if sayNow { state.said = true }
            return (elapsed, sayNow)
        }
        if elapsed >= limit { return false }
        if sayNow, let notice { notice.say(notice.message(path: path, limit: limit)) }
        Self.sleep(min(Duration.milliseconds(5) * (1 << min(attempt, 5)), .milliseconds(100), limit - elapsed))
        return true
    }

    /// A wait outside SQLite's busy handler (the backup API's retry), `elapsed` into it:
    /// gives the same notice, once, and pauses briefly.
    func pause(elapsed: Duration) {
        let sayNow = state.withLock { state -> Bool in
            let sayNow = !state.said && notice.map { elapsed >= $0.after } == true
            if sayNow { state.said = true }
            return sayNow
        }
        if sayNow, let notice { notice.say(notice.message(path: path, limit: limit)) }
        Self.sleep(min(.milliseconds(20), limit - elapsed))
    }

    private static func sleep(_ pause: Duration) {
        guard pause > .zero else { return }
        Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
    }
}
