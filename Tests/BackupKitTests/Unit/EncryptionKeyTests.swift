import Foundation
import Testing
@testable import BackupKit

/// Laju's key rule: base64 of 32 bytes, then 64 hex digits, then exactly 32 UTF-8 bytes.
struct EncryptionKeyTests {
    let bytes: [UInt8] = (0..<32).map { UInt8($0 * 7 & 0xFF) }

    @Test("a base64 key decodes to its 32 bytes")
    func base64Key() throws {
        let key = try EncryptionKey.parse(Data(bytes).base64EncodedString(), source: "test")
        #expect(key.bytes == bytes)
    }

    @Test("a hex key decodes to its 32 bytes, upper or lower case")
    func hexKey() throws {
        #expect(try EncryptionKey.parse(bytes.hexString, source: "test").bytes == bytes)
        #expect(try EncryptionKey.parse(bytes.hexString.uppercased(), source: "test").bytes == bytes)
    }

    @Test("32 plain characters are used as their UTF-8 bytes")
    func utf8Key() throws {
        let text = "correct horse battery staple 32!"
        #expect(text.utf8.count == 32)
        #expect(try EncryptionKey.parse(text, source: "test").bytes == Array(text.utf8))
    }

    @Test("base64 is tried before the 32-character rule, as Laju does")
    func base64WinsOverUTF8() throws {
        // 32 characters that are also valid base64 of 24 bytes: not 32 bytes, so UTF-8 applies.
        let text = String(repeating: "abcd", count: 8)
        #expect(try EncryptionKey.parse(text, source: "test").bytes == Array(text.utf8))
    }

    @Test("short, long and malformed keys are refused without echoing them",
          arguments: ["", "short", String(repeating: "a", count: 33), String(repeating: "zz", count: 32), Data(repeating: 1, count: 16).base64EncodedString()])
    func malformedKeysAreRefused(_ text: String) {
        do {
            _ = try EncryptionKey.parse(text, source: "BACKUP_ENCRYPTION_KEY")
            Issue.record("accepted a malformed key")
        } catch let error as BackupError {
            #expect(error.exitStatus == .configuration)
            if text.count > 4 { #expect(!error.description.contains(text)) }
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a key file may end with a newline; the file wins over the variable")
    func keyFileWinsAndIsTrimmed() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("k")
        try (Data(bytes).base64EncodedString() + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let env = Environment(["BACKUP_ENCRYPTION_KEY_FILE": path, "BACKUP_ENCRYPTION_KEY": String(repeating: "x", count: 32)])
        #expect(try EncryptionKey.resolve(keyFile: nil, environment: env).bytes == bytes)
    }

    @Test("no key configured is a configuration error")
    func missingKey() {
        #expect(throws: BackupError.missingEncryptionKey) { try EncryptionKey.resolve(keyFile: nil, environment: Environment([:])) }
    }

    @Test("the key never shows in descriptions")
    func descriptionIsRedacted() throws {
        let key = try EncryptionKey(bytes: bytes)
        #expect(!"\(key)".contains(bytes.hexString))
        #expect("\(key)".contains("redacted"))
    }

    @Test("generated keys parse back to 32 random bytes")
    func generatedKeysParse() throws {
        let a = try EncryptionKey.generateBase64(), b = try EncryptionKey.generateBase64()
        #expect(a != b)
        #expect(try EncryptionKey.parse(a, source: "test").bytes.count == 32)
    }
}
