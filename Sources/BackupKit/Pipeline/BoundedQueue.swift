import Foundation

/// A first-in first-out queue between threads with a fixed capacity: `push` waits while it is
/// full, `pop` while it is empty. `close` ends it: `pop` then drains what is left and returns
/// nil. `fail` stops both sides at once with an error. This is what bounds the memory of the
/// pipelines, whatever the database size.
final class BoundedQueue<Element>: @unchecked Sendable {
    /// Slots before `head` are nil: a popped element is released at once.
    private var items: [Element?] = []
    private var head = 0
    private let capacity: Int
    private var closed = false
    private var failure: Error?
    private let condition = NSCondition()

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Adds `item`, waiting for room. Throws the failure if the queue failed.
    func push(_ item: Element) throws {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        items.append(item)
        condition.broadcast()
    }

    /// The next item, nil once closed and drained. Throws the failure if the queue failed.
    func pop() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed && failure == nil { condition.wait() }
        if let failure { throw failure }
        guard head < items.count else { return nil }
        let item = items[head]
        items[head] = nil
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return item!
    }

    /// No more items will come.
    func close() {
        condition.changeAndBroadcast { closed = true }
    }

    /// Stops every waiting and later call with `error` (the first failure wins).
    func fail(_ error: Error) {
        condition.changeAndBroadcast { if failure == nil { failure = error } }
    }
}
