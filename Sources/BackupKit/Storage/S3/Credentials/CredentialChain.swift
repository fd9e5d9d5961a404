import Foundation
import Synchronization

/// The AWS CLI's default credential chain, after the suite's own variables:
///
/// 1. keys in the environment: `S3_ACCESS_KEY`/`S3_SECRET_KEY`, `AWS_ACCESS_KEY_ID`/
///    `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), Laju's `WASABI_*`;
/// 2. a profile of the shared files: `AWS_PROFILE` (which must exist), else `default` when
///    it holds keys; a profile with `role_arn` and `web_identity_token_file` assumes that role;
/// 3. web identity: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`;
/// 4. container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`;
/// 5. the EC2 instance role through IMDSv2, unless `AWS_EC2_METADATA_DISABLED=true`.
enum CredentialChain {
    /// `S3_SECRET_KEY_FILE`: the secret in a file (a systemd credential, `%d/s3-secret`),
    /// surrounding white space ignored; it wins over `S3_SECRET_KEY`.
    static func secretFromFile(_ env: Environment) throws -> (name: String, value: String)? {
        guard let path = env["S3_SECRET_KEY_FILE"] else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw BackupError.configuration("cannot read S3_SECRET_KEY_FILE=\(path) (\(Files.exists(path) ? "permission denied" : "no such file")): check the path and its permissions")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw BackupError.configuration("S3_SECRET_KEY_FILE=\(path) is empty: write the secret access key into it") }
        return ("S3_SECRET_KEY_FILE", secret)
    }

    /// The first link that applies. Only the instance metadata service is asked over the
    /// network to know whether it applies, and only when it is reached (at first use).
    static func provider(environment env: Environment, files: SharedConfigFiles, region: String) throws -> any CredentialProvider {
        let access = env.first(["S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "WASABI_ACCESS_KEY"])
        let secret = try secretFromFile(env) ?? env.first(["S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "WASABI_SECRET_KEY"])
        if let access, let secret {
            let token = env.first(["S3_SESSION_TOKEN", "AWS_SESSION_TOKEN"])?.value
            return StaticCredentials(credentials: S3Credentials(accessKey: access.value, secretKey: secret.value, sessionToken: token),
                                     source: "environment (\(access.name))")
        }
        if access != nil || secret != nil {
            throw BackupError.configuration("S3 credentials are incomplete: set S3_ACCESS_KEY and S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or neither to use AWS_PROFILE or a role")
        }
        let named = env.first(["AWS_PROFILE", "AWS_DEFAULT_PROFILE"])
        if let provider = try profileProvider(named?.value ?? "default", explicit: named != nil, files: files, region: region, environment: env) {
            return provider
        }
        if let tokenFile = env["AWS_WEB_IDENTITY_TOKEN_FILE"], let role = env["AWS_ROLE_ARN"] {
            return WebIdentityCredentials(tokenFile: tokenFile, roleArn: role, sessionName: env["AWS_ROLE_SESSION_NAME"],
                                          region: region, environment: env)
        }
        if let container = ContainerCredentials(environment: env) { return container }
        guard !InstanceMetadataCredentials.isDisabled(env) else {
            throw BackupError.configuration("no S3 credentials found: set S3_ACCESS_KEY and S3_SECRET_KEY, or AWS_PROFILE with \(files.credentialsPath), or run with a web identity, container or instance role (AWS_EC2_METADATA_DISABLED is true)")
        }
        return InstanceMetadataCredentials(environment: env)
    }

    private static func profileProvider(_ name: String, explicit: Bool, files: SharedConfigFiles, region: String,
                                        environment env: Environment) throws -> (any CredentialProvider)? {
        guard let profile = files.profile(name) else {
            guard !explicit else {
                throw BackupError.configuration("AWS_PROFILE=\(name) is not in \(files.credentialsPath) or \(files.configPath): add the profile or fix AWS_PROFILE (AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files)")
            }
            return nil
        }
        if let access = profile["aws_access_key_id"], let secret = profile["aws_secret_access_key"] {
            return ProfileCredentials(name: name, files: files,
                                      credentials: S3Credentials(accessKey: access, secretKey: secret, sessionToken: profile["aws_session_token"]))
        }
        if let role = profile["role_arn"], let tokenFile = profile["web_identity_token_file"] {
            return WebIdentityCredentials(tokenFile: SharedConfigFiles.expand(tokenFile, home: env["HOME"] ?? NSHomeDirectory()),
                                          roleArn: role, sessionName: profile["role_session_name"], region: region, environment: env)
        }
        guard !explicit else {
            throw BackupError.configuration("profile \(name) has no aws_access_key_id and aws_secret_access_key (nor role_arn with web_identity_token_file): add them to \(files.credentialsPath)")
        }
        return nil
    }
}

