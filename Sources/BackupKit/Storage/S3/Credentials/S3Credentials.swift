import Foundation

/// One set of AWS credentials: static keys, or temporary ones with a token and an expiry.
/// `description` never shows the secret or the token.
struct S3Credentials: Sendable, CustomStringConvertible {
    let accessKey: String
    let secretKey: String
    let sessionToken: String?
    /// When temporary credentials stop working; nil for static keys.
    let expiration: Date?

    init(accessKey: String, secretKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    var description: String { "access key \(accessKey), secret ****" }

    /// The `AccessKeyId`/`SecretAccessKey`/`Token`/`Expiration` JSON that the container and
    /// instance metadata endpoints answer with.
    init(metadataJSON body: [UInt8], from source: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let access = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String,
              !access.isEmpty, !secret.isEmpty else {
            throw BackupError.configuration("\(source) answered without AccessKeyId and SecretAccessKey; check the role attached to this machine or container")
        }
        self.init(accessKey: access, secretKey: secret, sessionToken: object["Token"] as? String,
                  expiration: (object["Expiration"] as? String).flatMap(S3Time.date(iso:)))
    }
}

