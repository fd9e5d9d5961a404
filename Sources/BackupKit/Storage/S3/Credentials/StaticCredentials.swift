import Foundation

/// Keys given in the environment (`S3_ACCESS_KEY`/`S3_SECRET_KEY`, `AWS_*`, `WASABI_*`).
struct StaticCredentials: CredentialProvider {
    let credentials: S3Credentials
    let source: String

    func fetch() throws -> S3Credentials { credentials }
}
