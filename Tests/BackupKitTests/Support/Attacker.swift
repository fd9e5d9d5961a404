import Foundation
@testable import BackupKit

/// Someone who can write to the bucket or folder but holds no key: plants, copies and
/// re-dates objects and their metadata, on the local folder (files and sidecars) or on S3
/// (through the boto3 peer, straight to the server).
struct Attacker {
    let box: Sandbox
    let s3: Bool

    /// The object key as the suite names it (the local folder has no prefix).
    func key(_ name: String) -> String { (s3 ? box.prefix : "") + name }

    /// The object's bytes and metadata.
    func read(_ objectKey: String) throws -> (body: Data, metadata: [String: String]) {
        if s3 {
            let run = try box.peer("get", objectKey, box.file("stolen.bin"), box.file("stolen.json"))
            guard run.status == 0 else { throw SandboxFailure(description: "peer get: \(run.output)") }
            let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: box.file("stolen.json")))) as! [String: String]
            return (try Data(contentsOf: URL(fileURLWithPath: box.file("stolen.bin"))), metadata)
        }
        let path = box.file("backups/" + objectKey)
        let sidecar = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + ".meta.json"))) as! [String: String]
        return (try Data(contentsOf: URL(fileURLWithPath: path)), sidecar)
    }

    /// Stores `body` under `objectKey` with `metadata` (replacing what is there); a local file
    /// also gets `modified` as its mtime.
    func write(_ objectKey: String, body: Data, metadata: [String: String], modified: Date? = nil) throws {
        if s3 {
            try body.write(to: URL(fileURLWithPath: box.file("forged.bin")))
            try JSONSerialization.data(withJSONObject: metadata).write(to: URL(fileURLWithPath: box.file("forged.json")))
            let run = try box.peer("put", objectKey, box.file("forged.bin"), box.file("forged.json"))
            guard run.status == 0 else { throw SandboxFailure(description: "peer put: \(run.output)") }
            return
        }
        let path = box.file("backups/" + objectKey)
        try body.write(to: URL(fileURLWithPath: path))
        try JSONSerialization.data(withJSONObject: metadata).write(to: URL(fileURLWithPath: path + ".meta.json"))
        if let modified {
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: path)
        }
    }

    /// Copies an object and its metadata under another key, `edit` changing the metadata.
    func copy(_ from: String, to objectKey: String, edit: (inout [String: String]) -> Void = { _ in }) throws {
        var (body, metadata) = try read(from)
        edit(&metadata)
        try write(objectKey, body: body, metadata: metadata)
    }

    /// The keys stored now (local: the folder's objects; S3: the bucket under the prefix).
    func storedKeys() throws -> Set<String> {
        s3 ? Set(try box.peerKeys().filter(ObjectKey.isBackup)) : Set(box.storedObjects())
    }
}
