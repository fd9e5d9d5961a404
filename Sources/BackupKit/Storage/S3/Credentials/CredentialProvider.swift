import Foundation

/// Where credentials come from: one link of the AWS CLI's default chain.
protocol CredentialProvider: Sendable {
    /// Names the source for `backup --status` and messages, e.g. `profile prod (~/.aws/credentials)`.
    var source: String { get }
    /// Fetches fresh credentials. Throws `BackupError.configuration` naming what to fix.
    func fetch() throws -> S3Credentials
}
