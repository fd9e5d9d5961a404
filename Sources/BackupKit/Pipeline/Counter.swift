import Synchronization

/// A running total that threads add to while another reads it (progress lines).
package final class Counter: Sendable {
    private let total = Atomic<Int64>(0)

    package init() {}

    package func add(_ n: Int64) { total.add(n, ordering: .relaxed) }

    package var value: Int64 { total.load(ordering: .relaxed) }
}
