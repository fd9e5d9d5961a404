import Foundation

extension NSCondition {
    /// Changes the guarded state under the lock and wakes every waiter.
    func changeAndBroadcast(_ change: () -> Void) {
        lock()
        change()
        broadcast()
        unlock()
    }
}
