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

extension NSCondition {
    /// Changes the guarded state under the lock and wakes every waiter.
    func changeAndBroadcast(_ change: () -> Void) {
        lock()
        change()
        broadcast()
        unlock()
    }
}

/// Runs `body` on a new thread; `join` waits for it and rethrows what it threw.
final class BackgroundTask: @unchecked Sendable {
    private var error: Error?
    private let done = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { self.error = error }
            done.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    func join() throws {
        done.wait()
        done.signal() // later joins return at once
        if let error { throw error }
    }
}
