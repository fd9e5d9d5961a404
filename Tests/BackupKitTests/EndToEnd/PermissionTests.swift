import Foundation
import Testing
@testable import BackupKit

/// Files the suite creates are private.
struct PermissionTests {
    @Test("objects, sidecars, the catalog, lock files and restored files are 0600 in 0700 folders")
    func privateModes() throws {
        let box = try Sandbox()
        try TestDatabase.make(box.file("app.db"), rows: 100)
        _ = try box.backup()
        let restored = try box.run("restore")
        #expect(restored.status == 0)
        let fm = FileManager.default
        let files = box.dir.allFiles(under: "backups")
        #expect(files.contains { $0.hasPrefix(".locks/") } && !files.contains { $0.hasPrefix("restored-") }, "\(files)")
        let output = try #require(try fm.contentsOfDirectory(atPath: box.path).first { $0.hasPrefix("restored-") },
                                  "restore writes into the current folder, not among the backups")
        #expect(try fm.attributesOfItem(atPath: box.file(output))[.posixPermissions] as! Int == 0o600)
        for file in files {
            let mode = try fm.attributesOfItem(atPath: box.file("backups/" + file))[.posixPermissions] as! Int
            #expect(mode == 0o600, "\(file) is \(String(mode, radix: 8))")
        }
        for folder in ["backups", "backups/.locks", "backups/.work"] {
            let mode = try fm.attributesOfItem(atPath: box.file(folder))[.posixPermissions] as! Int
            #expect(mode == 0o700, "\(folder) is \(String(mode, radix: 8))")
        }
    }
}
