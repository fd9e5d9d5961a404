import Foundation

/// The container agent's credentials (ECS tasks, EKS Pod Identity, Fargate):
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (under `http://169.254.170.2`) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN` (or the
/// token read from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`) as the Authorization header.
struct ContainerCredentials: CredentialProvider {
    let url: String
    let token: String?
    let tokenFile: String?

    var source: String { "container credentials (\(url))" }

    /// Nil when neither URI variable is set.
    init?(environment env: Environment) {
        if let relative = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            url = full
        } else {
            return nil
        }
        token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        tokenFile = env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    }

    func fetch() throws -> S3Credentials {
        var headers: [(String, String)] = []
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw BackupError.configuration("cannot read \(tokenFile); check AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
            }
            headers.append(("Authorization", text.trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token {
            headers.append(("Authorization", token))
        }
        let response = try CredentialHTTP.send("GET", url, headers: headers, source: source,
                                               fix: "check AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI")
        guard response.status == 200 else {
            throw BackupError.configuration("\(source) answered HTTP \(response.status); check AWS_CONTAINER_AUTHORIZATION_TOKEN and the task role")
        }
        return try S3Credentials(metadataJSON: response.body, from: source)
    }
}
