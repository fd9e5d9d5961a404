import Foundation

/// A fresh folder for one test, removed when the test's value goes away.
final class TemporaryDirectory {
    /// Where every test folder goes: one folder per user, so tests run by root and by
    /// another user on one machine never meet in a folder one of them cannot write.
    static let root = NSTemporaryDirectory() + "sqlite-s3-backup-tests-\(getuid())"

    let path: String

    init(_ label: String = #function) {
        let safe = label.filter { $0.isLetter || $0.isNumber }.prefix(40)
        path = TemporaryDirectory.root + "/\(safe)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    /// Every regular file below the folder, relative paths, sorted.
    func allFiles(under folder: String? = nil) -> [String] {
        let base = folder.map(file) ?? path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        var files: [String] = []
        while let name = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + name, isDirectory: &isDir), !isDir.boolValue { files.append(name) }
        }
        return files.sorted()
    }
}
