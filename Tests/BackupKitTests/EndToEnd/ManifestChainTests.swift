import Foundation
import Testing
@testable import BackupKit

/// Delta manifests through the executables: a backup lists only the entries that differ from
/// the previous one, every link of a chain restores alone (the catalog gone too), chains stay
/// bounded, clean keeps what a kept delta builds on, and a broken chain is reported as such.
struct ManifestChainTests {
    let base = IncrementalTests()

    @Test("an unchanged database stores one tiny delta manifest; every link restores alone with the catalog gone; a big change or 32 links give a whole manifest")
    func deltasAndTheirBounds() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 30_000)
        let first = try base.incremental(box)
        #expect(first["manifest_parent"] == nil, "the base is a whole manifest: \(first)")
        let firstKey = try #require(first["key"] as? String)
        let blocks = try #require(first["manifest_entries"] as? Int)
        #expect(blocks > 100)

        let same = try base.incremental(box)
        let sameKey = try #require(same["key"] as? String)
        #expect(same["manifest_parent"] as? String == firstKey, "\(same)")
        #expect(same["manifest_entries"] as? Int == 0 && same["objects_written"] as? Int == 1, "\(same)")
        #expect((same["uploaded_bytes"] as? Int ?? .max) < 4096, "an unchanged database uploads almost nothing: \(same)")

        try base.change(db, appendFrom: 30_001, count: 5, updateEvery: 10_000)
        let small = try base.incremental(box)
        let smallKey = try #require(small["key"] as? String)
        let smallRows = try TestDatabase.rows(box.file("app.db"))
        let changed = try #require(small["manifest_entries"] as? Int)
        #expect(small["manifest_parent"] as? String == sameKey, "\(small)")
        #expect(changed > 0 && changed * 10 < blocks, "\(changed) of \(blocks) entries")

        // Past a quarter of the blocks changed over the chain: a whole manifest again.
        try base.change(db, appendFrom: 30_006, count: 60, updateEvery: 2)
        let big = try base.incremental(box)
        #expect(big["manifest_parent"] == nil && (big["manifest_entries"] as? Int ?? 0) > blocks, "\(big)")
        let bigKey = try #require(big["key"] as? String)
        let bigRows = try TestDatabase.rows(box.file("app.db"))

        // With the catalog gone, each restores on its own: the storage alone holds the chain.
        try FileManager.default.removeItem(atPath: box.file("backups/catalog.sqlite"))
        for (key, rows) in [(smallKey, smallRows), (bigKey, bigRows)] {
            #expect(try box.run("restore", "--key", key, "--out", "r.db", "--overwrite").status == 0)
            #expect(try TestDatabase.rows(box.file("r.db")) == rows, "\(key)")
        }
        let unchanged = try box.run("restore", "--key", sameKey, "--out", "same.db")
        let original = try box.run("restore", "--key", firstKey, "--out", "first.db")
        #expect(unchanged.status == 0 && original.status == 0, "\(unchanged.output)\(original.output)")
        #expect(try TestDatabase.rows(box.file("same.db")) == TestDatabase.rows(box.file("first.db")))
        #expect(try TestDatabase.count(box.file("first.db")) == 30_000)

        // 32 links on the whole manifest, then a whole one again.
        var parent = bigKey
        for link in 1...ManifestChain.maximumLength {
            let next = try base.incremental(box)
            #expect(next["manifest_parent"] as? String == parent, "link \(link): \(next)")
            parent = try #require(next["key"] as? String)
        }
        let compacted = try base.incremental(box)
        #expect(compacted["manifest_parent"] == nil, "after \(ManifestChain.maximumLength) links: \(compacted)")
        let newest = try box.run("restore", "--out", "newest.db")
        #expect(newest.status == 0, "\(newest.output)")
        #expect(try TestDatabase.rows(box.file("newest.db")) == bigRows)
    }

    @Test("clean keeps the manifests a kept delta builds on; a parent deleted by hand fails restore and --check with 65 naming it, and the next backup stores a whole manifest")
    func retentionAndBrokenChains() throws {
        let box = try Sandbox()
        let db = try TestDatabase.make(box.file("app.db"), rows: 30_000)
        let first = try #require(try base.incremental(box)["key"] as? String)
        try base.change(db, appendFrom: 30_001, count: 5, updateEvery: 10_000)
        let middle = try #require(try base.incremental(box)["key"] as? String)
        try base.change(db, appendFrom: 30_006, count: 5, updateEvery: 15_000)
        let last = try base.incremental(box)
        let lastKey = try #require(last["key"] as? String)
        #expect(last["manifest_parent"] as? String == middle)

        let clean = try base.json(try box.run("clean-backup", "--keep-last", "1", "--json", env: ["BACKUP_ABANDONED_UPLOAD_HOURS": "0"]))
        #expect((clean["deleted"] as? [String])?.isEmpty == true, "\(clean)")
        #expect((clean["packs_deleted"] as? [String])?.isEmpty == true, "\(clean)")
        let kept = (clean["kept"] as? [[String: Any]] ?? []).reduce(into: [String: [String]]()) { $0[$1["key"] as! String] = $1["reasons"] as? [String] }
        for parent in [first, middle] {
            #expect(kept[parent]?.contains("\(lastKey) builds on it") == true, "\(parent): \(kept)")
        }
        #expect(try box.run("clean-backup", "--check").status == 0)
        let restored = try box.run("restore", "--out", "r.db")
        #expect(restored.status == 0, "\(restored.output)")
        #expect(try TestDatabase.rows(box.file("r.db")) == TestDatabase.rows(box.file("app.db")))

        // The middle link removed by hand: what builds on it does not restore, loudly, and writes nothing.
        let folder = box.file("backups/")
        try FileManager.default.removeItem(atPath: folder + middle)
        try FileManager.default.removeItem(atPath: folder + middle + ".meta.json")
        let broken = try box.run("restore", "--key", lastKey, "--out", "broken.db")
        #expect(broken.status == 65, "\(broken.output)")
        #expect(broken.stderr.contains("parent manifest \(middle) is missing"), "\(broken.stderr)")
        #expect(!FileManager.default.fileExists(atPath: box.file("broken.db")))
        let check = try box.run("clean-backup", "--check")
        #expect(check.status == 65 && check.stderr.contains("parent manifest \(middle)"), "\(check.output)")
        // The first link is still what a kept (if broken) backup names: clean keeps it.
        let again = try base.json(try box.run("clean-backup", "--keep-last", "1", "--json"))
        #expect((again["deleted"] as? [String])?.contains(first) == false, "\(again)")

        // The next backup cannot build on the broken chain: it stores a whole manifest and restores.
        let next = try base.incremental(box)
        #expect(next["manifest_parent"] == nil, "\(next)")
        let fresh = try box.run("restore", "--key", try #require(next["key"] as? String), "--out", "fresh.db")
        #expect(fresh.status == 0, "\(fresh.output)")
        #expect(try TestDatabase.rows(box.file("fresh.db")) == TestDatabase.rows(box.file("app.db")))
    }
}
