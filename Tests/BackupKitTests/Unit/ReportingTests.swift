import Foundation
import Testing
@testable import BackupKit

/// Durations in settings, key ids and retired keys, the metrics file format, progress lines.
struct ReportingTests {
    @Test("durations: 23h, 90m, 1d12h, 2w, plain seconds; junk is nil")
    func durations() {
        #expect(DurationText.seconds("23h") == 82_800)
        #expect(DurationText.seconds("90m") == 5400)
        #expect(DurationText.seconds("1d12h") == 129_600)
        #expect(DurationText.seconds("2w") == 1_209_600)
        #expect(DurationText.seconds("3600") == 3600)
        #expect(DurationText.seconds("1.5h") == 5400)
        for junk in ["", "soon", "5x", "h", "12h3", "-5", "inf", "nan", "1e30", "1..5h", "99999999999999999999d", "5300w"] { #expect(DurationText.seconds(junk) == nil, "\(junk)") }
    }

    @Test("a key id is stable, 16 hex digits, differs between keys and reveals none of the key")
    func keyIDs() throws {
        let key = try EncryptionKey(bytes: Array(repeating: 7, count: 32))
        #expect(key.id == (try EncryptionKey(bytes: Array(repeating: 7, count: 32))).id)
        #expect(key.id.count == 16 && key.id.allSatisfy(\.isHexDigit))
        #expect(key.id != (try EncryptionKey(bytes: Array(repeating: 8, count: 32))).id)
        #expect(!key.bytes.hexString.contains(key.id))
    }

    @Test("retired keys: comma or space separated, or a file with comments; a bad entry is named, not echoed")
    func retiredKeys() throws {
        let a = try EncryptionKey.generateBase64(), b = try EncryptionKey.generateBase64()
        let ids = [a, b].map { try! EncryptionKey.parse($0, source: "t").id }
        #expect(try KeyRing.retiredKeys(environment: Environment(["BACKUP_DECRYPTION_KEYS": "\(a), \(b)"])).map(\.id) == ids)
        let dir = TemporaryDirectory("retiredKeys")
        try "# old keys\n\(a)  # 2025\n\n\(b)\n".write(toFile: dir.file("keys"), atomically: true, encoding: .utf8)
        #expect(try KeyRing.retiredKeys(environment: Environment(["BACKUP_DECRYPTION_KEYS_FILE": dir.file("keys")])).map(\.id) == ids)
        do {
            _ = try KeyRing.retiredKeys(environment: Environment(["BACKUP_DECRYPTION_KEYS": "\(a),short-secret"]))
            Issue.record("a malformed entry was accepted")
        } catch let error as BackupError {
            #expect(error.description.contains("entry 2 of BACKUP_DECRYPTION_KEYS"))
            #expect(!error.description.contains("short-secret"))
        }
        let ring = KeyRing(current: try EncryptionKey.parse(a, source: "t"), retired: [try EncryptionKey.parse(a, source: "t"), try EncryptionKey.parse(b, source: "t")])
        #expect(ring.all.map(\.id) == ids, "duplicates dropped, current first")
        #expect(ring.key(id: ids[1].uppercased())?.id == ids[1])
    }

    @Test("metrics: parse, update and render keep counters, HELP and TYPE lines, and label escaping")
    func metricsFormat() throws {
        let dir = TemporaryDirectory("metricsFormat")
        let file = MetricsFile(path: dir.file("m.prom"))
        try file.record(job: .backup, database: "a\"b.db", outcome: .success(sizeBytes: 42), durationSeconds: 1.5)
        try file.record(job: .backup, database: "a\"b.db", outcome: .failure, durationSeconds: 0.25)
        try file.record(job: .clean, database: "all", outcome: .success(sizeBytes: 7), durationSeconds: 2)
        let text = try String(contentsOfFile: dir.file("m.prom"), encoding: .utf8)
        let samples = MetricsFile.parse(text)
        #expect(samples["database_backup_success_total{database=\"a\\\"b.db\"}"] == 1)
        #expect(samples["database_backup_failure_total{database=\"a\\\"b.db\"}"] == 1)
        #expect(samples["database_backup_duration_seconds{database=\"a\\\"b.db\"}"] == 0.25)
        #expect(samples["database_backup_size_bytes{database=\"a\\\"b.db\"}"] == 42)
        #expect(samples["database_clean_success_total{database=\"all\"}"] == 1)
        #expect(text.contains("# TYPE database_backup_failure_total counter\n"))
        #expect(text.contains("# TYPE database_backup_size_bytes gauge\n"))
        #expect(MetricsFile.render(samples) == text, "render(parse(x)) == x")
    }

    @Test("progress lines: bytes, percent, rate and ETA; elapsed time when the total is unknown")
    func progressLine() {
        let line = ProgressMeter.line(stage: "snapshot", done: 128 << 20, total: 256 << 20, elapsed: 1)
        #expect(line == "snapshot  128.0 MiB / 256.0 MiB   50%  134.2 MB/s  ETA 1 s")
        #expect(ProgressMeter.line(stage: "integrity check", done: 0, total: nil, elapsed: 75) == "integrity check  1 min 15 s")
    }
}
