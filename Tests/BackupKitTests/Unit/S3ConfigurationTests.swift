import Foundation
import Testing
@testable import BackupKit

struct S3ConfigurationTests {
    @Test("S3_* wins over AWS_*, which wins over Laju's WASABI_*")
    func precedence() throws {
        let all = Environment([
            "S3_BUCKET": "s3b", "WASABI_BUCKET": "wb",
            "S3_ACCESS_KEY": "s3a", "AWS_ACCESS_KEY_ID": "awsa", "WASABI_ACCESS_KEY": "wa",
            "AWS_SECRET_ACCESS_KEY": "awss", "WASABI_SECRET_KEY": "ws",
            "AWS_REGION": "eu-west-1", "WASABI_REGION": "ap-1",
            "WASABI_ENDPOINT": "https://s3.wasabisys.com",
        ])
        let config = try S3Configuration(environment: all)
        #expect(config.bucket == "s3b")
        #expect(try config.credentials.fetch().accessKey == "s3a")
        #expect(config.credentialSource == "environment (S3_ACCESS_KEY)")
        #expect(config.region == "eu-west-1")
        #expect(config.host == "s3.wasabisys.com" && config.scheme == "https")
        let laju = try S3Configuration(environment: Environment(["WASABI_BUCKET": "wb", "WASABI_ACCESS_KEY": "wa", "WASABI_SECRET_KEY": "ws"]))
        #expect(try laju.bucket == "wb" && laju.credentials.fetch().accessKey == "wa")
        #expect(laju.host == "s3.us-east-1.amazonaws.com")
    }

    @Test("path-style by default; virtual-hosted on request")
    func addressing() throws {
        var env = ["S3_BUCKET": "b", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s", "S3_ENDPOINT": "http://127.0.0.1:9000"]
        let path = try S3Configuration(environment: Environment(env))
        #expect(path.authority == "127.0.0.1:9000")
        #expect(path.path(for: "backups/x") == "/b/backups/x")
        env["S3_ADDRESSING"] = "virtual"
        env["S3_ENDPOINT"] = "https://s3.eu-central-1.wasabisys.com"
        let virtual = try S3Configuration(environment: Environment(env))
        #expect(virtual.authority == "b.s3.eu-central-1.wasabisys.com")
        #expect(virtual.path(for: "backups/x") == "/backups/x")
        #expect(virtual.path(for: nil) == "/")
    }

    @Test("incomplete settings are configuration errors naming the variable; the secret is never shown")
    func incomplete() throws {
        #expect(throws: BackupError.self) { try S3Configuration(environment: Environment(["S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s"])) }
        do {
            _ = try S3Configuration(environment: Environment(["S3_BUCKET": "b", "S3_ACCESS_KEY": "a"]))
            Issue.record("accepted a missing secret")
        } catch let error as BackupError {
            #expect(error.exitStatus == .configuration)
            #expect(error.description.contains("S3_SECRET_KEY"))
        }
        #expect(throws: BackupError.self) {
            try S3Configuration(environment: Environment(["S3_BUCKET": "b", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s", "S3_ENDPOINT": "ftp://x"]))
        }
        let config = try S3Configuration(environment: Environment(["S3_BUCKET": "b", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "TopSecret123"]))
        #expect(!config.description.contains("TopSecret123"))
    }

    @Test("temp objects that versions before one-write uploads left are recognised (clean-backup removes them)")
    func temporaryKeys() {
        let temp = "nightly-app.db-x.db.gz.enc.tmp-4242-abcdef12"
        #expect(S3Storage.isTemporary(temp))
        #expect(!S3Storage.isTemporary("nightly-app.db-x.db.gz.enc"))
        #expect(!ObjectKey.isBackup(temp))
    }

    @Test("retryable answers: 5xx, SlowDown and timeouts, never auth errors")
    func retryClassification() {
        #expect(S3Client.isRetryable(status: 503, code: ""))
        #expect(S3Client.isRetryable(status: 500, code: "InternalError"))
        #expect(S3Client.isRetryable(status: 400, code: "RequestTimeout"))
        #expect(S3Client.isRetryable(status: 429, code: ""))
        #expect(S3Client.isRetryable(status: 408, code: ""))
        #expect(S3Client.isRetryable(status: 503, code: "SlowDown"))
        #expect(!S3Client.isRetryable(status: 403, code: "SignatureDoesNotMatch"))
        #expect(!S3Client.isRetryable(status: 403, code: "InvalidAccessKeyId"))
        #expect(!S3Client.isRetryable(status: 404, code: "NoSuchBucket"))
    }

    @Test("metadata values outside printable ASCII are percent-encoded for headers")
    func metadataHeaders() {
        let headers = S3Storage.metadataHeaders(ObjectMetadata(["db-name": "données.db", "iv": "aXY="]))
        #expect(headers.contains { $0 == ("x-amz-meta-db-name", "donn%C3%A9es.db") })
        #expect(headers.contains { $0 == ("x-amz-meta-iv", "aXY=") })
        // Read back as written, '%' included.
        let literal = S3Storage.metadataHeaders(ObjectMetadata(["note": "100% done"]))
        #expect(literal[0].1 == "100%25%20done")
        #expect(S3Storage.metadataValue(fromHeader: literal[0].1) == "100% done")
        #expect(S3Storage.metadataValue(fromHeader: "donn%C3%A9es.db") == "données.db")
    }

    @Test("retries: full jitter below the doubling ceiling, Retry-After honoured but capped, and a time budget")
    func retryPolicy() {
        let policy = S3RetryPolicy(retries: 5, budget: 120)
        for retry in 1...6 {
            let ceiling = min(policy.maxDelay, policy.baseDelay * Double(1 << (retry - 1)))
            for _ in 0..<50 { #expect((0...ceiling).contains(policy.delay(retry: retry, retryAfter: nil))) }
        }
        #expect(policy.baseDelay == 1)
        #expect(policy.delay(retry: 1, retryAfter: 7) == 7)
        #expect(policy.delay(retry: 1, retryAfter: 3600) == policy.maxDelay)
        #expect(policy.allows(retry: 5, delay: 10, elapsed: 100))
        #expect(!policy.allows(retry: 6, delay: 0, elapsed: 0), "the count")
        #expect(!policy.allows(retry: 2, delay: 10, elapsed: 115), "the budget")
    }

    @Test("a dotted bucket with virtual-hosted https falls back to path style; listing keys are form-decoded")
    func dottedBucketsAndListingKeys() throws {
        let env = ["S3_BUCKET": "backups.example.com", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "s", "S3_ADDRESSING": "virtual",
                   "S3_ENDPOINT": "https://s3.eu-central-1.amazonaws.com"]
        let config = try S3Configuration(environment: Environment(env))
        #expect(!config.virtualHosted)
        #expect(config.authority == "s3.eu-central-1.amazonaws.com")
        #expect(config.path(for: "k") == "/backups.example.com/k")
        #expect(URIEncoding.decodeFormValue("backups/a+b%2Bc%3Dd+%C3%A9%01.db") == "backups/a b+c=d é\u{01}.db")
    }

    @Test("the credential chain: a profile from the shared files (keys and region), errors naming the profile, IMDS off")
    func credentialChainProfiles() throws {
        let home = TemporaryDirectory("credentialChainProfiles")
        try FileManager.default.createDirectory(atPath: home.file(".aws"), withIntermediateDirectories: true)
        try "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n\n[prod]\naws_access_key_id=AKIDPROD\naws_secret_access_key=prod-secret\naws_session_token = tok\n"
            .write(toFile: home.file(".aws/credentials"), atomically: true, encoding: .utf8)
        try "[profile prod]\nregion = eu-west-3\n".write(toFile: home.file(".aws/config"), atomically: true, encoding: .utf8)
        let base = ["S3_BUCKET": "b", "HOME": home.path]
        let prod = try S3Configuration(environment: Environment(base.merging(["AWS_PROFILE": "prod"]) { $1 }))
        #expect(try prod.credentials.fetch().accessKey == "AKIDPROD")
        #expect(try prod.credentials.fetch().sessionToken == "tok")
        #expect(prod.region == "eu-west-3" && prod.host == "s3.eu-west-3.amazonaws.com")
        #expect(prod.credentialSource.hasPrefix("profile prod"))
        let fallback = try S3Configuration(environment: Environment(base))
        #expect(try fallback.credentials.fetch().accessKey == "AKIDDEFAULT")
        do {
            _ = try S3Configuration(environment: Environment(base.merging(["AWS_PROFILE": "missing"]) { $1 }))
            Issue.record("accepted a missing profile")
        } catch let error as BackupError {
            #expect(error.exitStatus == .configuration && error.description.contains("AWS_PROFILE=missing"))
        }
        do {
            _ = try S3Configuration(environment: Environment(["S3_BUCKET": "b", "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"]))
            Issue.record("accepted no credentials at all")
        } catch let error as BackupError {
            #expect(error.description.contains("S3_ACCESS_KEY") && error.description.contains("AWS_PROFILE"))
        }
        let web = try S3Configuration(environment: Environment(["S3_BUCKET": "b", "HOME": "/nonexistent",
                                                                "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"]))
        #expect(web.credentialSource == "web identity (role arn:aws:iam::1:role/r)")
        let container = try S3Configuration(environment: Environment(["S3_BUCKET": "b", "HOME": "/nonexistent",
                                                                      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds"]))
        #expect(container.credentialSource == "container credentials (http://169.254.170.2/v2/creds)")
    }
}
