import Foundation

/// A role assumed with a web identity token (EKS service accounts, GitHub OIDC):
/// `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (optionally `AWS_ROLE_SESSION_NAME`)
/// exchanged at STS's AssumeRoleWithWebIdentity, which needs no signature. STS is
/// `AWS_ENDPOINT_URL_STS` when set, else the region's endpoint. The token file is read
/// again at each refresh, since the platform rotates it.
struct WebIdentityCredentials: CredentialProvider {
    let tokenFile: String
    let roleArn: String
    let sessionName: String
    let stsEndpoint: String

    var source: String { "web identity (role \(roleArn))" }

    init(tokenFile: String, roleArn: String, sessionName: String?, region: String, environment env: Environment) {
        self.tokenFile = tokenFile
        self.roleArn = roleArn
        self.sessionName = sessionName ?? "sqlite-s3-backup-\(getpid())"
        stsEndpoint = env["AWS_ENDPOINT_URL_STS"] ?? "https://sts.\(region).amazonaws.com"
    }

    func fetch() throws -> S3Credentials {
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              !token.isEmpty else {
            throw BackupError.configuration("cannot read the web identity token in \(tokenFile); check AWS_WEB_IDENTITY_TOKEN_FILE")
        }
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn),
                    ("RoleSessionName", sessionName), ("WebIdentityToken", token)]
            .map { "\($0.0)=\(URIEncoding.encode($0.1, keepSlash: false))" }.joined(separator: "&")
        let base = stsEndpoint.hasSuffix("/") ? stsEndpoint : stsEndpoint + "/"
        let response = try CredentialHTTP.send("POST", base, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                               body: Array(form.utf8), source: "STS at \(stsEndpoint)",
                                               fix: "check AWS_ENDPOINT_URL_STS and the network")
        let root = S3XMLElement.parse(response.body)
        guard response.status == 200, let credentials = root?.child("AssumeRoleWithWebIdentityResult")?.child("Credentials"),
              let access = credentials.value("AccessKeyId"), let secret = credentials.value("SecretAccessKey") else {
            let error = root?.child("Error")
            let detail = [error?.value("Code"), error?.value("Message")].compactMap { $0 }.joined(separator: ": ")
            throw BackupError.configuration("STS refused to assume \(roleArn) with the web identity token (HTTP \(response.status)\(detail.isEmpty ? "" : ", \(detail)")); check AWS_ROLE_ARN and the role's trust policy")
        }
        return S3Credentials(accessKey: access, secretKey: secret, sessionToken: credentials.value("SessionToken"),
                             expiration: credentials.value("Expiration").flatMap(S3Time.date(iso:)))
    }
}
