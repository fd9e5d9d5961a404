import Foundation
import Synchronization

/// Credentials shared by every request of a run, fetched at first use and fetched again
/// five minutes before temporary ones expire, so a long run never signs with expired keys.
final class CredentialCache: Sendable {
    let provider: any CredentialProvider
    private let cached = Mutex<S3Credentials?>(nil)
    /// Temporary credentials this close to expiry are replaced.
    static let refreshMargin: TimeInterval = 300

    init(provider: any CredentialProvider) {
        self.provider = provider
    }

    /// Valid credentials, fetching new ones when there are none or they expire soon. When a
    /// refresh fails while the old ones still work, the old ones are used.
    func current(now: Date = Date()) throws -> S3Credentials {
        try cached.withLock { cached in
            if let held = cached, held.expiration.map({ $0.timeIntervalSince(now) > Self.refreshMargin }) ?? true {
                return held
            }
            do {
                let fresh = try provider.fetch()
                cached = fresh
                return fresh
            } catch {
                if let held = cached, let expiry = held.expiration, expiry > now { return held }
                throw error
            }
        }
    }
}
