import Foundation

/// Something a pipeline stage can stop with an error.
protocol Failable: AnyObject, Sendable {
    func fail(_ error: Error)
}
