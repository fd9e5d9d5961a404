import Foundation

extension BoundedQueue: Failable {}
extension ReorderBuffer: Failable {}

/// Results of parallel workers handed out in index order. A worker may run at most `window`
/// results ahead of the consumer, which bounds memory.
final class ReorderBuffer<Value>: @unchecked Sendable {
    private var ready: [Int: Value] = [:]
    private var next = 0
    private var count: Int?
    private var failure: Error?
    private let window: Int
    private let condition = NSCondition()

    init(window: Int) {
        self.window = window
    }

    /// Waits until a result for `index` would be within the window, so a worker can hold off
    /// making one (and holding its memory) that it could not hand in yet.
    func waitForRoom(_ index: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        try waitForRoomLocked(index)
    }

    func put(_ index: Int, _ value: Value) throws {
        condition.lock()
        defer { condition.unlock() }
        try waitForRoomLocked(index)
        ready[index] = value
        condition.broadcast()
    }

    /// `waitForRoom` with the lock held.
    private func waitForRoomLocked(_ index: Int) throws {
        while index >= next + window && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// The result for `index` (waiting for it), or nil after the last one.
    func take(_ index: Int) throws -> Value? {
        condition.lock()
        defer { condition.unlock() }
        while ready[index] == nil && failure == nil && (count == nil || index < count!) { condition.wait() }
        return try removeLocked(index)
    }

    /// The result for `index` if it is ready, without waiting.
    func poll(_ index: Int) throws -> Value? {
        condition.lock()
        defer { condition.unlock() }
        return try removeLocked(index)
    }

    /// Hands out the result for `index` if there is one, with the lock held, and makes room.
    private func removeLocked(_ index: Int) throws -> Value? {
        if let failure { throw failure }
        guard let value = ready.removeValue(forKey: index) else { return nil }
        next = index + 1
        condition.broadcast()
        return value
    }

    /// How many results there will be.
    func setCount(_ total: Int) {
        condition.changeAndBroadcast { count = total }
    }

    func fail(_ error: Error) {
        condition.changeAndBroadcast { if failure == nil { failure = error } }
    }
}
