import Foundation
import Synchronization

/// What every request of one run to one bucket shares: the configuration, the credentials,
/// and what the server taught us on the way (the bucket's region, the server's clock).
/// Thread-safe; each thread's `S3Client` signs through it.
final class S3Session: Sendable {
    let config: S3Configuration
    let credentials: CredentialCache
    let log: StorageLog
    private let routing: Mutex<Routing>

    private struct Routing {
        var region: String
        var host: String
        /// Seconds to add to the local clock to get the server's.
        var clockOffset: TimeInterval = 0
        var skewWarned = false
    }

    init(config: S3Configuration, log: StorageLog) {
        self.config = config
        self.log = log
        credentials = CredentialCache(provider: config.credentials)
        routing = Mutex(Routing(region: config.region, host: config.host))
        if let note = config.addressingNote { log.detail(note) }
    }

    /// The region requests are signed for now.
    var region: String { routing.withLock { $0.region } }

    /// `host[:port]` requests go to now.
    var authority: String { config.authority(host: routing.withLock { $0.host }) }

    /// The time to sign with: the local clock corrected by what the server said.
    func now() -> Date { Date().addingTimeInterval(routing.withLock { $0.clockOffset }) }

    /// A signer for the current credentials and region.
    func signer() throws -> SigV4Signer {
        let credentials = try credentials.current()
        return SigV4Signer(accessKey: credentials.accessKey, secretKey: credentials.secretKey,
                           sessionToken: credentials.sessionToken, region: region)
    }

    /// Moves to the bucket's region (and, on AWS, its endpoint). False when already there.
    func adoptRegion(_ region: String) -> Bool {
        let changed = routing.withLock { routing -> Bool in
            guard routing.region != region else { return false }
            routing.region = region
            routing.host = config.host(forRegion: region)
            return true
        }
        if changed {
            log.detail("bucket \(config.bucket) is in region \(region), not \(config.region): signing for \(region) from now on (set S3_REGION=\(region) to skip this detour)")
        }
        return changed
    }

    /// Signs with the server's clock from now on; warns once with the offset.
    func adoptClock(serverDate: Date) {
        let offset = serverDate.timeIntervalSince(Date())
        let warn = routing.withLock { routing -> Bool in
            routing.clockOffset = offset
            defer { routing.skewWarned = true }
            return !routing.skewWarned
        }
        if warn {
            log.warning("this machine's clock is \(String(format: "%+.0f", -offset)) s off the S3 server's: signing with the server's time; fix the clock (NTP)")
        }
    }
}
