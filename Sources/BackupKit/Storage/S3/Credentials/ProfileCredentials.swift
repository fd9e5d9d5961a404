import Foundation

/// Keys from a profile of the shared files (`AWS_PROFILE`, else `default`).
struct ProfileCredentials: CredentialProvider {
    let name: String
    let files: SharedConfigFiles
    let credentials: S3Credentials

    var source: String { "profile \(name) (\(files.credentialsPath))" }

    func fetch() throws -> S3Credentials { credentials }
}
