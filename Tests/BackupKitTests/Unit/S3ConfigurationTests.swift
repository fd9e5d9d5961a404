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
        #expect(config.accessKey == "s3a")
        #expect(config.region == "eu-west-1")
        #expect(config.host == "s3.wasabisys.com" && config.scheme == "https")
        let laju = try S3Configuration(environment: Environment(["WASABI_BUCKET": "wb", "WASABI_ACCESS_KEY": "wa", "WASABI_SECRET_KEY": "ws"]))
        #expect(laju.bucket == "wb" && laju.accessKey == "wa")
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

    @Test("temp keys of multipart uploads are recognised and stay under the key's prefix")
    func temporaryKeys() {
        let temp = S3Storage.temporaryKey(for: "nightly-app.db-x.db.gz.enc")
        #expect(temp.hasPrefix("nightly-app.db-x.db.gz.enc.tmp-"))
        #expect(S3Storage.isTemporary(temp))
        #expect(!S3Storage.isTemporary("nightly-app.db-x.db.gz.enc"))
        #expect(!BackupKey.isBackup(temp))
    }

    @Test("retryable answers: 5xx, SlowDown and timeouts, never auth errors")
    func retryClassification() {
        #expect(S3Client.isRetryable(status: 503, code: ""))
        #expect(S3Client.isRetryable(status: 500, code: "InternalError"))
        #expect(S3Client.isRetryable(status: 400, code: "RequestTimeout"))
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
    }
}
