import Foundation

/// Applies the retention policy per database: deletes each object no rule keeps (and its
/// sidecar), then soft-deletes its catalog row. One failure does not stop the rest.
package struct CleanOperation {
    package let settings: Settings
    package let policy: RetentionPolicy
    package let console: Console

    package init(settings: Settings, policy: RetentionPolicy, console: Console) {
        self.settings = settings
        self.policy = policy
        self.console = console
    }

    package func run(dryRun: Bool, now: Date = Date()) throws -> CleanResult {
        // Deciding what to delete needs the key: only records whose MAC verifies count.
        let ring = try settings.requiredKeyRing()
        // A dry run changes nothing, the catalog included.
        let repository = try BackupRepository(settings: settings, catalog: dryRun ? .ifPresent : .required, console: console, ring: ring)
        let storage = repository.storage
        let catalog = repository.catalog
        let inventory = try repository.inventory(reindex: !dryRun)
        if !inventory.reindexed.isEmpty {
            console.info("re-indexed \(inventory.reindexed.count) backup(s) that had no catalog row")
        }
        for entry in inventory.untrusted {
            console.warning("not deleting or counting \(entry.objectKey): \(entry.authenticity.problem ?? "it does not verify") ('clean-backup --check' lists every such object)")
        }
        let abandoned = dryRun ? 0 : ((try? storage.removeAbandonedUploads(prefix: settings.prefix)) ?? 0)

        // Every kept backup must restore: an incremental one whose manifest does not open or
        // whose pack is gone is never the backup a rule keeps (so an older one that restores
        // is), and is never deleted either ('clean-backup --check' reports it).
        let storedPacks = Dictionary(try storage.list(prefix: settings.prefix).filter { ObjectKey.isPack($0.objectKey) }
            .map { ($0.objectKey, $0) }, uniquingKeysWith: { first, _ in first })
        // A delta manifest's header lists every pack its snapshot uses, and its parents are
        // kept as long as it is (oldest first: each chain is read once).
        var packsOf: [String: [String]] = [:]
        var ancestorsOf: [String: [String]] = [:]
        var unrestorable: [CleanResult.Failure] = []
        // Databases with a manifest or chain that could not be read in full: what else it builds
        // on is unknown, so none of their manifests is deleted this time.
        var unreadChains = Set<String>()
        var chain = repository.manifestChain(ring: ring)
        for entry in inventory.trusted.filter(\.isIncremental).sorted(by: { ($0.createdAt, $0.objectKey) < ($1.createdAt, $1.objectKey) }) {
            let stored: Manifest
            do {
                stored = try repository.manifest(objectKey: entry.objectKey, ring: ring)
            } catch {
                unrestorable.append(.init(objectKey: entry.objectKey, error: "its manifest cannot be read: \(error)"))
                unreadChains.insert(entry.databaseName ?? "")
                continue
            }
            packsOf[entry.objectKey] = stored.header.packs.map(\.objectKey)
            do {
                let manifest = try chain.resolve(stored, objectKey: entry.objectKey)
                ancestorsOf[entry.objectKey] = manifest.ancestors
                if let problem = CheckOperation.problem(in: manifest, packs: storedPacks) {
                    unrestorable.append(.init(objectKey: entry.objectKey, error: problem))
                }
            } catch {
                ancestorsOf[entry.objectKey] = chain.ancestors(of: stored)
                unrestorable.append(.init(objectKey: entry.objectKey, error: "\(error)"))
                unreadChains.insert(entry.databaseName ?? "")
            }
        }
        for failure in unrestorable {
            console.warning("\(failure.objectKey) would not restore (\(failure.error)); it is kept and not counted: a backup that restores is kept in its place")
        }
        let broken = Set(unrestorable.map(\.objectKey))

        // Retention applies to each database's backups on their own: a database is its name and
        // where its backups were taken, so backups of one name from another host or path (a
        // copy from another store under the same key, say) never make this one's deletable.
        let groups = Dictionary(grouping: inventory.trusted.filter { !broken.contains($0.objectKey) }) {
            ($0.databaseName ?? "") + "\u{0}" + Self.place(of: $0, among: inventory.trusted, configured: repository.origin)
        }
        // Backups kept forever are never candidates: the rules apply to the others.
        var decisions: [RetentionPolicy.Decision] = []
        var kept: [CleanResult.Kept] = []
        for name in groups.keys.sorted() {
            let candidates = groups[name]!.filter { !$0.keepForever }
                .map { RetentionPolicy.Candidate(objectKey: $0.objectKey, createdAt: $0.createdAt) }
            decisions += policy.evaluate(candidates, now: now)
            for entry in groups[name]! where entry.keepForever {
                kept.append(.init(objectKey: entry.objectKey, reasons: ["kept forever"]))
                console.detail("keep   \(entry.objectKey) (kept forever)")
            }
        }
        for failure in unrestorable { kept.append(.init(objectKey: failure.objectKey, reasons: ["does not restore"])) }
        // The manifests a kept delta builds on stay with it, whatever the rules say of them.
        // The newest incremental backup of each database and place stays whatever the rules say:
        // a backup running now (here or elsewhere) may be writing a delta on it.
        var newestIncremental: [String: BackupEntry] = [:]
        for entry in inventory.trusted where entry.isIncremental && !broken.contains(entry.objectKey) {
            let group = (entry.databaseName ?? "") + "\u{0}" + Self.place(of: entry, among: inventory.trusted, configured: repository.origin)
            if let newest = newestIncremental[group], (newest.createdAt, newest.objectKey) >= (entry.createdAt, entry.objectKey) { continue }
            newestIncremental[group] = entry
        }
        let newestKeys = Set(newestIncremental.values.map(\.objectKey))
        let staying = kept.map(\.objectKey) + decisions.filter(\.keep).map(\.candidate.objectKey) + Array(newestKeys)
        var builtOn: [String: String] = [:]   // ancestor -> a kept backup that builds on it
        for child in staying { for ancestor in ancestorsOf[child] ?? [] where builtOn[ancestor] == nil { builtOn[ancestor] = child } }

        var deleted: [String] = []
        var failed: [CleanResult.Failure] = []
        // A manifest is deleted only while no incremental backup of its database runs here (the
        // pack lock): that backup may be building a delta on it.
        let nameOf = Dictionary(inventory.trusted.map { ($0.objectKey, $0.databaseName ?? "") }, uniquingKeysWith: { first, _ in first })
        var backupLocks: [String: PackLock?] = [:]
        for decision in decisions {
            let objectKey = decision.candidate.objectKey
            var reasons = decision.reasons + (builtOn[objectKey].map { ["\($0) builds on it"] } ?? [])
            if reasons.isEmpty && newestKeys.contains(objectKey) { reasons.append("the newest incremental backup: the next one builds on it") }
            if reasons.isEmpty && ObjectKey.isManifest(objectKey), let name = nameOf[objectKey], unreadChains.contains(name) {
                reasons.append("a manifest of \(name) could not be read in full, so what it builds on is unknown ('clean-backup --check' names it)")
            }
            if !reasons.isEmpty {
                kept.append(.init(objectKey: objectKey, reasons: reasons))
                console.detail("keep   \(objectKey) (\(reasons.joined(separator: ", ")))")
                continue
            }
            if dryRun {
                deleted.append(objectKey)
                console.info("would delete \(objectKey)")
                continue
            }
            if ObjectKey.isManifest(objectKey), let name = nameOf[objectKey] {
                if backupLocks[name] == nil {
                    backupLocks[name] = try PackLock(databaseName: name, lockDirectory: settings.localDirectory + "/.locks", exclusive: true)
                }
                guard backupLocks[name]! != nil else {
                    kept.append(.init(objectKey: objectKey, reasons: ["an incremental backup of \(name) is running"]))
                    console.info("keep   \(objectKey) (an incremental backup of \(name) is running; the next clean-backup deletes it)")
                    continue
                }
            }
            do {
                try storage.delete(objectKey: objectKey)
                try catalog?.markDeleted(objectKey: objectKey, at: Formatting.nowMillis())
                deleted.append(objectKey)
                console.detail("deleted \(objectKey)")
            } catch BackupError.underRetention(_, let until) {
                // Object Lock: kept (and not hidden) until its date; a later clean deletes it.
                kept.append(.init(objectKey: objectKey, reasons: ["object lock until \(until)"]))
                console.info("keep   \(objectKey) (under object lock until \(until))")
                for ancestor in ancestorsOf[objectKey] ?? [] where builtOn[ancestor] == nil { builtOn[ancestor] = objectKey }
            } catch let error as BackupError where error.exitStatus == .configuration {
                // Denied (no s3:DeleteObject), or credentials refused: every other deletion
                // would fail the same way, so the run stops here, loudly, having deleted
                // only what `deleted` lists.
                if !deleted.isEmpty { console.warning("deleted \(deleted.count) backup(s) before S3 refused: \(deleted.joined(separator: ", "))") }
                throw error
            } catch {
                failed.append(.init(objectKey: objectKey, error: "\(error)"))
                console.warning("could not delete \(objectKey): \(error)")
                // Still stored, so what it builds on stays too (its parents come later: newest first).
                for ancestor in ancestorsOf[objectKey] ?? [] where builtOn[ancestor] == nil { builtOn[ancestor] = objectKey }
            }
        }
        backupLocks.removeAll()   // released: pack collection takes the same locks on its own
        // Rows whose object is already gone are not backups any more: mark them deleted too.
        for objectKey in inventory.missingObjects {
            if dryRun {
                console.info("would mark \(objectKey) deleted (its object is already gone)")
                deleted.append(objectKey)
                continue
            }
            do {
                try catalog?.markDeleted(objectKey: objectKey, at: Formatting.nowMillis())
                deleted.append(objectKey)
                console.detail("marked \(objectKey) deleted: its object was already gone")
            } catch {
                failed.append(.init(objectKey: objectKey, error: "\(error)"))
            }
        }
        // Packs: those no kept incremental backup uses go, after their grace period. (A backup
        // whose deletion failed is still stored, so its packs stay too.) A manifest that does
        // not verify names packs nobody can read: while one is in scope, no pack is deleted.
        let liveManifests = (kept.map(\.objectKey) + failed.map(\.objectKey)).filter(ObjectKey.isManifest)
        var inUse: Set<String>? = Set(liveManifests.flatMap { packsOf[$0] ?? [] })
        if let unreadable = liveManifests.first(where: { packsOf[$0] == nil }) ?? inventory.untrusted.first(where: \.isIncremental)?.objectKey {
            console.warning("unused packs are kept: the incremental backup \(unreadable) cannot be read with the configured keys")
            inUse = nil
        }
        let packs = try PackCollector(repository: repository, settings: settings, console: console)
            .collect(inUse: inUse, stored: Array(storedPacks.values), dryRun: dryRun, now: now)
        let keptKeys = Set(kept.map(\.objectKey))
        let keptBytes = inventory.entries.filter { keptKeys.contains($0.objectKey) }.saturatingSum(\.size)
        return CleanResult(dryRun: dryRun, policy: Self.describe(policy.effective), deleted: deleted, kept: kept,
                           failed: failed, reindexed: inventory.reindexed, abandonedUploadsRemoved: abandoned,
                           keptBytes: keptBytes, packsDeleted: packs.deleted, packsKept: packs.kept,
                           unauthenticated: inventory.untrusted.map(\.objectKey), unrestorable: unrestorable)
    }

    /// The place retention ranks `entry` with. One that records none (adopted from Laju or an
    /// earlier version) joins its name's only place, else the configured database's.
    static func place(of entry: BackupEntry, among entries: [BackupEntry], configured: DatabaseOrigin?) -> String {
        guard entry.originKey.isEmpty else { return entry.originKey }
        let places = Set(entries.filter { $0.databaseName == entry.databaseName }.map(\.originKey)).subtracting([""])
        if places.count == 1 { return places.first! }
        if let configured, configured.name == entry.databaseName { return "\(configured.host):\(configured.path)" }
        return ""
    }

    static func describe(_ policy: RetentionPolicy) -> String {
        var parts: [String] = []
        if let d = policy.days { parts.append("\(d) days") }
        if let c = policy.count { parts.append("last \(c)") }
        if let d = policy.daily { parts.append("\(d) daily") }
        if let w = policy.weekly { parts.append("\(w) weekly") }
        if let m = policy.monthly { parts.append("\(m) monthly") }
        return parts.joined(separator: ", ")
    }
}
