import Foundation

/// Deletes the packs no live incremental backup uses any more, as restic's prune does, once
/// they are older than a grace period (`BACKUP_ABANDONED_UPLOAD_HOURS`, default 24 h). The
/// grace period is what keeps a clean running beside a backup from deleting the pack that
/// backup has stored but not yet named in its manifest; the blocks a running backup reuses
/// are safe anyway, since they belong to the newest manifest, which retention always keeps.
struct PackCollector {
    let repository: BackupRepository
    let settings: Settings
    let console: Console

    /// What a collection found and did.
    struct Outcome {
        var deleted: [String] = []
        /// Packs in use, or unused but younger than the grace period.
        var kept = 0
    }

    /// Deletes (or with `dryRun`, lists) the unused packs in scope. `liveManifests` are the
    /// object keys of the incremental backups retention keeps.
    func collect(liveManifests: [String], dryRun: Bool, now: Date) throws -> Outcome {
        let storage = repository.storage
        let packs = try storage.list(prefix: repository.prefix).filter {
            ObjectKey.isPack($0.objectKey) && repository.isInScope($0.objectKey)
        }
        var outcome = Outcome()
        guard !packs.isEmpty else { return outcome }
        guard let used = try packsInUse(by: liveManifests, dryRun: dryRun) else {
            outcome.kept = packs.count
            return outcome
        }
        let grace = try settings.abandonedAfter()
        let catalog = repository.catalog
        for pack in packs {
            if used.contains(pack.objectKey) {
                outcome.kept += 1
                continue
            }
            if now.timeIntervalSince1970 - Double(pack.lastModified) / 1000 < grace {
                outcome.kept += 1
                console.detail("keep   \(pack.objectKey) (unused, but younger than BACKUP_ABANDONED_UPLOAD_HOURS)")
                continue
            }
            if dryRun {
                console.info("would delete unused pack \(pack.objectKey)")
                outcome.deleted.append(pack.objectKey)
                continue
            }
            do {
                try storage.delete(objectKey: pack.objectKey)
                try catalog?.markPackDeleted(objectKey: pack.objectKey, at: Formatting.nowMillis())
                outcome.deleted.append(pack.objectKey)
                console.detail("deleted unused pack \(pack.objectKey)")
            } catch {
                console.warning("could not delete the unused pack \(pack.objectKey): \(error)")
            }
        }
        return outcome
    }

    /// Every pack the live manifests use: from the catalog's references, else from the
    /// manifests themselves (then re-indexed). Nil when some manifest cannot be read: then
    /// nothing is deleted.
    func packsInUse(by manifests: [String], dryRun: Bool) throws -> Set<String>? {
        let references = (try? repository.catalog?.packReferences()) ?? [:]
        var used = Set<String>()
        for manifestKey in manifests {
            if let packs = references[manifestKey] {
                used.formUnion(packs)
                continue
            }
            do {
                let manifest = try ManifestReader.read(objectKey: manifestKey, in: repository, ring: settings.keyRing())
                var bytes: [Int: Int64] = [:]
                for block in manifest.blocks { bytes[Int(block.pack), default: 0] += Int64(block.length) }
                let packs = manifest.header.packs.enumerated().map { (objectKey: $0.element.objectKey, bytes: bytes[$0.offset] ?? 0) }
                used.formUnion(packs.map(\.objectKey))
                if !dryRun { try? repository.catalog?.insertReferences(backupKey: manifestKey, packs: packs) }
            } catch {
                console.warning("could not read the incremental backup \(manifestKey) (\(error)); unused packs are kept until every live manifest can be read: configure its key (BACKUP_ENCRYPTION_KEY_FILE or BACKUP_DECRYPTION_KEYS)")
                return nil
            }
        }
        return used
    }
}
