import Foundation
import Testing
@testable import BackupKit

/// The AWS default credential chain, run as a user runs the executables, with no key
/// variables set: each test asserts which access key signed every request.
struct S3CredentialTests {
    /// A SeaweedFS sandbox with the key variables removed and a recording proxy in front.
    func setUp(_ label: String = #function) throws -> (Sandbox, QuirkProxy, S3TestServer) {
        let server = try S3TestServer.seaweed.get()
        let box = try Sandbox(s3: S3TestServer.seaweed, label)
        box.environment["S3_ACCESS_KEY"] = nil
        box.environment["S3_SECRET_KEY"] = nil
        let proxy = try QuirkProxy(box, upstream: server)
        for (k, v) in proxy.environment { box.environment[k] = v }
        try TestDatabase.make(box.file("app.db"), rows: 300)
        return (box, proxy, server)
    }

    @Test("a profile in a credentials file under HOME (AWS_PROFILE), with no key variables; --status names it, never the secret")
    func sharedCredentialsProfile() throws {
        let (box, proxy, server) = try setUp()
        let (access, secret) = (server.identities[1][0], server.identities[1][1])
        try FileManager.default.createDirectory(atPath: box.file(".aws"), withIntermediateDirectories: true)
        try "[default]\naws_access_key_id = AKIDNOTTHISONE\naws_secret_access_key = wrong\n\n[backup]\naws_access_key_id = \(access)\naws_secret_access_key = \(secret)\n"
            .write(toFile: box.file(".aws/credentials"), atomically: true, encoding: .utf8)
        try "[profile backup]\nregion = us-east-1\n".write(toFile: box.file(".aws/config"), atomically: true, encoding: .utf8)
        box.environment["AWS_PROFILE"] = "backup"
        let key = try box.backup()
        let restore = try box.run("restore", "--key", key, "--verify-only")
        #expect(restore.status == 0, "\(restore.output)")
        let keys = try proxy.signingKeys()
        #expect(!keys.isEmpty && keys.allSatisfy { $0 == access }, "\(keys)")
        let status = try box.run("backup", "--db", "app.db", "--status")
        #expect(status.status == 0, "\(status.output)")
        #expect(status.stdout.contains("profile backup"))
        #expect(!status.output.contains(secret))
    }

    @Test("container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI with its authorization token)")
    func containerCredentials() throws {
        let (box, proxy, server) = try setUp()
        let token = "container-token-\(UUID().uuidString.prefix(8))"
        let creds = try CredentialServer(box, config: ["imds": [], "container": server.identities[2], "container_token": token])
        box.environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = creds.endpoint + "/creds"
        box.environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = token
        _ = try box.backup()
        let keys = try proxy.signingKeys()
        #expect(!keys.isEmpty && keys.allSatisfy { $0 == server.identities[2][0] }, "\(keys)")
        #expect(try creds.requests().allSatisfy { $0["authorization"] as? String == token })
    }

    @Test("EC2 instance role over IMDSv2 (token, role, credentials); credentials about to expire are fetched again mid-run")
    func instanceMetadataWithRefresh() throws {
        let (box, proxy, server) = try setUp()
        box.environment["BACKUP_S3_MULTIPART_THRESHOLD_MB"] = "5"
        box.environment["BACKUP_S3_PART_SIZE_MB"] = "5"
        try FileManager.default.removeItem(atPath: box.file("app.db"))
        try TestDatabase.makeIncompressible(box.file("app.db"), rows: 2000)
        // The first credentials expire in 4 minutes, inside the 5-minute refresh margin: the
        // next request fetches again and gets the second identity, valid for hours.
        let creds = try CredentialServer(box, config: ["imds": [server.identities[1] + [240], server.identities[2] + [21600]]])
        box.environment["AWS_EC2_METADATA_DISABLED"] = nil
        box.environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = creds.endpoint
        let key = try box.backup()
        let keys = try proxy.signingKeys()
        #expect(keys.first == server.identities[1][0], "\(keys)")
        #expect(keys.dropFirst().allSatisfy { $0 == server.identities[2][0] }, "\(keys)")
        #expect(keys.count > 2)
        let metadata = try creds.requests()
        #expect(metadata.filter { $0["method"] as? String == "PUT" }.count >= 1, "an IMDSv2 session token was asked for")
        #expect(metadata.filter { $0["method"] as? String == "GET" }.allSatisfy { $0["imds_token"] as? Bool == true })
        #expect(try box.run("restore", "--key", key, "--verify-only").status == 0)
    }

    @Test("web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN exchanged at moto's STS; requests signed with the role's temporary key")
    func webIdentity() throws {
        let moto = try S3TestServer.unchecked.get()
        let box = try Sandbox(s3: S3TestServer.unchecked)
        box.environment["S3_ACCESS_KEY"] = nil
        box.environment["S3_SECRET_KEY"] = nil
        let proxy = try QuirkProxy(box, upstream: moto)
        for (k, v) in proxy.environment { box.environment[k] = v }
        try "eyJhbGciOiJSUzI1NiJ9.web-identity-token.sig\n".write(toFile: box.file("token"), atomically: true, encoding: .utf8)
        box.environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = box.file("token")
        box.environment["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/backup-writer"
        box.environment["AWS_ENDPOINT_URL_STS"] = moto.endpoint
        try TestDatabase.make(box.file("app.db"), rows: 100)
        let key = try box.backup()
        let requests = try proxy.requests()
        let keys = Set(requests.compactMap { $0["access_key"] as? String })
        #expect(keys.count == 1 && keys.first!.hasPrefix("ASIA"), "\(keys)")
        #expect(requests.allSatisfy { $0["token"] as? Bool == true }, "the session token goes with every request")
        #expect(try box.peerKeys() == [key])
        let status = try box.run("backup", "--db", "app.db", "--status")
        #expect(status.stdout.contains("web identity (role arn:aws:iam::123456789012:role/backup-writer)"), "\(status.output)")
    }
}
