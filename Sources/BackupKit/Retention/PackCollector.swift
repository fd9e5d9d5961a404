import Foundation

/// Deletes the packs no live incremental backup uses any more, as restic's prune does, once
/// they are older than a grace period (`BACKUP_ABANDONED_UPLOAD_HOURS`, default 24 h). Three
/// things keep a clean from deleting what a backup needs:
/// - the grace period covers the pack a running backup has stored but not yet named;
/// - a pack is deleted only while no backup of its database runs on this machine (the pack
///   lock, `PackLock`, which every incremental backup holds shared);
/// - a backup checks, before it stores its manifest, that every pack it reuses is still
///   there (a clean on another machine), and fails rather than name a missing one.
/// Only a pack whose own metadata verifies is ever deleted: a forged one is left alone.
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

    /// Deletes (or with `dryRun`, lists) the unused packs in scope among `stored`. `inUse` are
    /// the packs the kept backups name; nil when that is unknown, and then nothing is deleted.
    func collect(inUse: Set<String>?, stored: [StoredObject], dryRun: Bool, now: Date) throws -> Outcome {
        let storage = repository.storage
        let packs = stored.filter { repository.isInScope($0.objectKey) }.sorted { $0.objectKey < $1.objectKey }
        var outcome = Outcome()
        guard !packs.isEmpty else { return outcome }
        guard let used = inUse else {
            outcome.kept = packs.count
            return outcome
        }
        let grace = try settings.abandonedAfter()
        let catalog = repository.catalog
        var locks: [String: PackLock?] = [:]
        defer { withExtendedLifetime(locks) {} }
        for pack in packs {
            if used.contains(pack.objectKey) {
                outcome.kept += 1
                continue
            }
            let head = try? storage.head(objectKey: pack.objectKey)
            let authenticity = head.map { repository.ring?.authenticate($0.metadata, objectKey: pack.objectKey, storedSize: $0.object.size) }
            guard let head, authenticity??.isAuthenticated == true, let createdAt = head.metadata.createdAt,
                  let name = head.metadata[ObjectMetadata.Field.database], repository.databaseName == nil || name == repository.databaseName else {
                outcome.kept += 1
                console.warning("not deleting \(pack.objectKey): \(authenticity??.problem ?? "its metadata cannot be read")")
                continue
            }
            if now.timeIntervalSince1970 - Double(max(createdAt, pack.lastModified)) / 1000 < grace {
                outcome.kept += 1
                console.detail("keep   \(pack.objectKey) (unused, but younger than BACKUP_ABANDONED_UPLOAD_HOURS)")
                continue
            }
            if locks[name] == nil {
                locks[name] = try PackLock(databaseName: name, lockDirectory: settings.localDirectory + "/.locks", exclusive: true)
                if locks[name]! == nil {
                    console.info("a backup of \(name) is running: its unused packs are left for the next clean")
                }
            }
            guard locks[name]! != nil else {
                outcome.kept += 1
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
            } catch BackupError.underRetention(_, let until) {
                outcome.kept += 1
                console.detail("keep   \(pack.objectKey) (unused, under object lock until \(until))")
            } catch {
                console.warning("could not delete the unused pack \(pack.objectKey): \(error)")
            }
        }
        return outcome
    }
}
