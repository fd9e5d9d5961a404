import Foundation

/// `clean-backup --check`: the structure of the incremental backups in scope, as restic's
/// `check` does for its repository. Every incremental backup's manifest is downloaded and
/// authenticated, and every block it names must lie inside a stored pack of the size the
/// manifest recorded; packs no backup names are counted (orphaned ones are what the next
/// clean deletes). Reads only metadata and manifests, never a pack's bytes (that is
/// `restore --verify-only`), and changes nothing.
package struct CheckOperation {
    package let settings: Settings
    package let console: Console

    package init(settings: Settings, console: Console) {
        self.settings = settings
        self.console = console
    }

    package func run(now: Date = Date()) throws -> CheckResult {
        let ring = try settings.requiredKeyRing()
        let repository = try BackupRepository(settings: settings, catalog: .ifPresent, console: console, ring: ring)
        let objects = try repository.storage.list(prefix: repository.prefix)
        let inScope = objects.filter { repository.isInScope($0.objectKey) }
        let packs = Dictionary(inScope.filter { ObjectKey.isPack($0.objectKey) }.map { ($0.objectKey, $0) },
                               uniquingKeysWith: { first, _ in first })
        var result = CheckResult()
        let inventory = try repository.inventory()
        result.unauthenticated = inventory.untrusted.map { .init(objectKey: $0.objectKey, problem: $0.authenticity.problem ?? "it does not verify") }
        result.sharedNames = inventory.sharedNames.map { .init(name: $0.name, origins: $0.origins) }
        let manifests = inventory.trusted.filter(\.isIncremental)
            .sorted { ($0.createdAt, $0.objectKey) < ($1.createdAt, $1.objectKey) }.map(\.objectKey)
        result.fullBackups = inventory.trusted.filter { !$0.isIncremental }.count
        var used = Set<String>()

        // Oldest first, so each chain of delta manifests is read once.
        var chain = repository.manifestChain(ring: ring)
        for manifestKey in manifests {
            let manifest: Manifest
            do {
                let stored = try repository.manifest(objectKey: manifestKey, ring: ring)
                used.formUnion(stored.header.packs.map(\.objectKey))
                manifest = try chain.resolve(stored, objectKey: manifestKey)
            } catch {
                result.damaged.append(.init(objectKey: manifestKey, problem: "its manifest cannot be read: \(error)"))
                continue
            }
            result.backupsChecked += 1
            result.blocksChecked += manifest.blocks.count
            if let problem = Self.problem(in: manifest, packs: packs) {
                result.damaged.append(.init(objectKey: manifestKey, problem: problem))
            }
        }
        result.packsInUse = packs.keys.filter { used.contains($0) }.count
        let grace = try settings.abandonedAfter()
        for (objectKey, pack) in packs.sorted(by: { $0.key < $1.key }) where !used.contains(objectKey) {
            if now.timeIntervalSince1970 - Double(pack.lastModified) / 1000 < grace {
                result.recentUnusedPacks += 1
            } else {
                result.orphanedPacks.append(objectKey)
                result.orphanedBytes = result.orphanedBytes.saturatingAdd(pack.size)
            }
        }
        result.packsMissing = Array(used.subtracting(packs.keys)).sorted()
        return result
    }

    /// What is wrong with the blocks `manifest` names, or nil: a pack gone, of another size
    /// than recorded, or a block lying outside its pack.
    static func problem(in manifest: Manifest, packs: [String: StoredObject]) -> String? {
        for pack in manifest.header.packs {
            guard let stored = packs[pack.objectKey] else { return "its pack \(pack.objectKey) is missing from storage" }
            guard stored.size == pack.size else {
                return "its pack \(pack.objectKey) holds \(stored.size) bytes where the manifest recorded \(pack.size)"
            }
            guard stored.isUnchanged(size: pack.size, version: pack.version) else {
                return "its pack \(pack.objectKey) was rewritten in place since it was stored (version \(stored.version ?? "?"), recorded \(pack.version ?? "?"))"
            }
        }
        for (number, block) in manifest.blocks.enumerated() {
            let pack = manifest.header.packs[Int(block.pack)]
            guard block.length > 0, block.offset + UInt64(block.length) <= UInt64(pack.size) else {
                return "block \(number) lies outside its pack \(pack.objectKey)"
            }
        }
        return nil
    }
}
