import Foundation
import Synchronization

/// S3 clients for reuse: each owns one libcurl handle (and its open connections), and one
/// thread uses a client at a time. All share one `S3Session`.
final class S3ClientPool: Sendable {
    let session: S3Session
    private let listPageSize: Int
    private let idle = Mutex<[S3Client]>([])

    init(session: S3Session, listPageSize: Int) {
        self.session = session
        self.listPageSize = listPageSize
    }

    func with<R>(_ body: (S3Client) throws -> R) throws -> R {
        let client = idle.withLock { $0.popLast() } ?? {
            let made = S3Client(session: session)
            made.listPageSize = listPageSize
            return made
        }()
        defer { idle.withLock { $0.append(client) } }
        return try body(client)
    }
}
