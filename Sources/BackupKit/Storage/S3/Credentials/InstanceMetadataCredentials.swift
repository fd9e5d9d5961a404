import Foundation

/// An EC2 instance role through IMDSv2: a session token (PUT `/latest/api/token`), the
/// role's name, then its credentials. The endpoint is `AWS_EC2_METADATA_SERVICE_ENDPOINT`
/// (default `http://169.254.169.254`); `AWS_EC2_METADATA_DISABLED=true` turns it off.
struct InstanceMetadataCredentials: CredentialProvider {
    let endpoint: String

    var source: String { "EC2 instance metadata (\(endpoint))" }

    init(environment env: Environment) {
        var base = env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        endpoint = base
    }

    static func isDisabled(_ env: Environment) -> Bool {
        (env["AWS_EC2_METADATA_DISABLED"] ?? "").lowercased() == "true"
    }

    func fetch() throws -> S3Credentials {
        let fix = "attach an instance role, or configure S3_ACCESS_KEY/S3_SECRET_KEY or AWS_PROFILE"
        let tokenResponse = try CredentialHTTP.send("PUT", endpoint + "/latest/api/token",
                                                    headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")],
                                                    source: source, fix: fix)
        guard tokenResponse.status == 200, !tokenResponse.body.isEmpty else {
            throw BackupError.configuration("\(source) gave no IMDSv2 token (HTTP \(tokenResponse.status)); \(fix)")
        }
        let token = [("X-aws-ec2-metadata-token", String(decoding: tokenResponse.body, as: UTF8.self))]
        let rolePath = endpoint + "/latest/meta-data/iam/security-credentials/"
        let roles = try CredentialHTTP.send("GET", rolePath, headers: token, source: source, fix: fix)
        let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard roles.status == 200, !role.isEmpty else {
            throw BackupError.configuration("this machine has no instance role (\(source) answered HTTP \(roles.status)); \(fix)")
        }
        let response = try CredentialHTTP.send("GET", rolePath + URIEncoding.encode(role, keepSlash: false), headers: token,
                                               source: source, fix: fix)
        guard response.status == 200 else {
            throw BackupError.configuration("\(source) answered HTTP \(response.status) for the credentials of role \(role); \(fix)")
        }
        return try S3Credentials(metadataJSON: response.body, from: "\(source), role \(role)")
    }
}
