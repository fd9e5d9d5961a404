import Foundation
import Testing
@testable import BackupKit

/// Each executable under exactly the IAM policy the README gives it, on moto with IAM (which
/// checks signatures and the policy's actions and resources): backup without any delete
/// right, restore read-only, clean with delete. clean under backup's policy fails loudly,
/// naming s3:DeleteObject, and deletes nothing.
struct LeastPrivilegeTests {
    /// The README's policies for `bucket` and `prefix`.
    static func policy(_ tool: String, bucket: String, prefix: String) -> String {
        let objects: [String] = switch tool {
        case "backup": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"]
        case "restore": ["s3:GetObject"]
        default: ["s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        }
        let bucketActions = tool == "clean-backup" ? ["s3:ListBucket", "s3:ListBucketMultipartUploads"] : ["s3:ListBucket"]
        let document: [String: Any] = ["Version": "2012-10-17", "Statement": [
            ["Effect": "Allow", "Action": objects, "Resource": "arn:aws:s3:::\(bucket)/\(prefix)*"],
            ["Effect": "Allow", "Action": bucketActions, "Resource": "arn:aws:s3:::\(bucket)",
             "Condition": ["StringLike": ["s3:prefix": "\(prefix)*"]]],
        ]]
        return String(decoding: try! JSONSerialization.data(withJSONObject: document), as: UTF8.self)
    }

    @Test("backup, restore and clean-backup each work under their README policy; clean under backup's fails naming s3:DeleteObject and deletes nothing")
    func eachUnderItsPolicy() throws {
        let box = try Sandbox(s3: S3TestServer.checking)
        let bucket = box.environment["S3_BUCKET"]!
        var keys: [String: [String: String]] = [:]
        for tool in ["backup", "restore", "clean-backup"] {
            let made = try box.peer("iam-user", "\(tool)-\(UUID().uuidString.prefix(6))", Self.policy(tool, bucket: bucket, prefix: box.prefix))
            #expect(made.status == 0, "\(made.output)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: String])
            keys[tool] = ["S3_ACCESS_KEY": json["access_key"]!, "S3_SECRET_KEY": json["secret_key"]!]
        }
        let db = try TestDatabase.make(box.file("app.db"), rows: 500)
        for round in 0..<3 {
            if round > 0 { try TestDatabase.insert(db, from: 1000 * round, count: 20) }
            let run = try box.run("backup", ["--db", "app.db"] + (round == 2 ? ["--incremental"] : []), env: keys["backup"]!)
            #expect(run.status == 0, "backup under its policy: \(run.output)")
        }
        let stored = try box.peerKeys()
        #expect(stored.count == 4, "two full backups, a manifest and a pack: \(stored)")

        for arguments in [["--verify-only"], ["--list"], ["--out", "r.db"]] {
            let run = try box.run("restore", arguments, env: keys["restore"]!)
            #expect(run.status == 0, "restore \(arguments) under its policy: \(run.output)")
        }
        let writes = try box.run("backup", ["--db", "app.db", "--force"], env: keys["restore"]!)
        #expect(writes.status == 78 && writes.stderr.contains("s3:PutObject"), "restore's key cannot write: \(writes.output)")

        let denied = try box.run("clean-backup", ["--keep-last", "1", "--json"], env: keys["backup"]!)
        #expect(denied.status == 78, "\(denied.output)")
        #expect(denied.stderr.contains("s3:DeleteObject"), "\(denied.stderr)")
        #expect(!denied.stdout.contains("\"deleted\":[\""), "nothing is reported as cleaned: \(denied.stdout)")
        #expect(try box.peerKeys() == stored, "nothing was deleted")

        let clean = try box.run("clean-backup", ["--keep-last", "1", "--json"], env: keys["clean-backup"]!)
        #expect(clean.status == 0, "clean under its policy: \(clean.output)")
        #expect(try box.peerKeys().count < stored.count)
        #expect(try box.run("restore", ["--verify-only"], env: keys["restore"]!).status == 0)
    }
}
