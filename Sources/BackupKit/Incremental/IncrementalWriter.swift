import Foundation

/// What an incremental backup wrote.
struct IncrementalOutcome {
    let manifestKey: String
    let manifest: EncodedObject
    /// The manifest's sealed metadata, as its catalog row records it.
    let manifestMetadata: ObjectMetadata
    /// The new pack, when any block was new.
    let pack: (objectKey: String, size: Int64, checksum: String)?
    /// Every pack the manifest uses, with the stored bytes it uses in each.
    let references: [(objectKey: String, bytes: Int64)]
    let newBlocks: Int
    let reusedBlocks: Int
    /// Blocks stored again because their old pack was mostly unused (see `ReusableBlocks`).
    let rewrittenBlocks: Int
    let snapshotSize: Int64
    /// The parent manifest, when this one was stored as a delta of it.
    let parent: String?
    /// Entries the stored manifest lists (a delta's changed blocks, else every block).
    let manifestEntries: Int64
    /// Whether the snapshot's quick_check ran, or why not (`SnapshotCheckRule`).
    let check: SnapshotCheckRule.Decision
    /// Wall seconds of each stage, in order: the pass (read, ids, new blocks compressed and
    /// sealed, spooled), waiting for the snapshot's check, the pack's upload, the manifest.
    let stages: [(name: String, seconds: Double)]
}

/// Writes an incremental backup of a snapshot file in one pass: cuts it into page-aligned
/// blocks, names each by its keyed hash (`BlockIdentity`), reuses the blocks the previous
/// manifest already stores (`ReusableBlocks`), seals every new block on its own (compressed,
/// then AES-256-GCM with its id as associated data) into one new pack, and stores the
/// manifest last. A backup therefore writes at most two objects, and no manifest ever names
/// a block that is not stored yet. The manifest is a delta of the previous one (only the
/// entries that differ, `ManifestChain`) while the chain stays within its bounds.
///
///     reader ──chunks──▶ N workers: ids, lookups, new blocks compressed and sealed
///                        ──re-ordered──▶ caller: pack upload (MD5), manifest entries
struct IncrementalWriter {
    /// Snapshot bytes read and handed to a worker at a time (whole blocks).
    static let chunkBytes = 1 << 20
    /// The most snapshot bytes one frame of new blocks holds. zstd -3 on the bench database:
    /// frames of 64 KiB store 2% more than the whole file compressed as one (4 KiB blocks
    /// alone: 15% more), and compress faster than 1 MiB ones; a restore that needs one block
    /// of a frame fetches the frame (about 20 KiB compressed).
    static let frameBytes = 64 << 10

    let storage: any ObjectStorage
    let prefix: String
    let origin: DatabaseOrigin
    let key: EncryptionKey
    let compression: CompressionAlgorithm
    let level: Int
    /// The block size asked for; rounded up to a multiple of the snapshot's page size.
    let blockSize: Int
    let work: WorkDirectory
    let console: Console
    /// Mark the manifest `keep=forever` (`backup --keep-forever`).
    var keepForever = false
    var workers = ProcessInfo.processInfo.activeProcessorCount
    /// When the snapshot's quick_check may be skipped.
    var checkRule = SnapshotCheckRule()

    /// Writes the backup of the snapshot `source`, read once in order. `onChange` is called
    /// once, as soon as the snapshot is known to differ from the previous backup's (at once
    /// when there is none), unless `checkRule` may let its check be skipped: the snapshot's
    /// check starts there. `beforeCommit` runs before the pack is completed, with the rule's
    /// decision (`.run` when the check started); when it throws, nothing is stored.
    func write(source: any DatabaseSource, previous: consuming Manifest?, createdAt: Int64,
               onChange: () -> Void = {}, beforeCommit: (SnapshotCheckRule.Decision) throws -> Void = { _ in }) throws -> IncrementalOutcome {
        let pageSize = source.pageSize
        let blockSize = max(pageSize, (self.blockSize + pageSize - 1) / pageSize * pageSize)
        let date = Date(timeIntervalSince1970: Double(createdAt) / 1000)
        // The previous snapshot's entries in order, when they are comparable (same key, same blocks).
        let previousBlocks: [Manifest.Block]? = previous.flatMap { manifest in
            manifest.header.keyID == self.key.id && manifest.header.blockSize == blockSize ? manifest.blocks : nil
        }
        let previousSize = previous?.header.snapshotSize
        // The manifest this one may be a delta of: the previous one, of the same format throughout.
        let parent: (header: Manifest.Header, ancestors: [String])? = previous.flatMap { manifest in
            let h = manifest.header
            guard previousBlocks != nil, h.compression == self.compression, h.pageSize == pageSize, h.objectKey != nil, h.createdAt != nil,
                  (h.chainLength ?? 0) < ManifestChain.maximumLength else { return nil }
            return (h, manifest.ancestors)
        }
        let previousHeader = previousBlocks == nil ? nil : previous?.header
        // A chain keeps its block id scheme (its blocks stay reusable); a new one uses keyed BLAKE3.
        let idScheme = previousHeader?.idScheme ?? (Failpoint.earlierBlockIDs.isSelected ? .hmacSHA256 : .blake3)
        // The check starts at the first change, unless the rule may skip it (then it runs after the pass if it must).
        let checkMaySkip = checkRule.maySkip(previous: previousHeader, createdAt: createdAt)
        var checkStarted = false
        var differs = previousBlocks == nil
        if differs && !checkMaySkip {
            checkStarted = true
            onChange()
        }
        var blockNumber = 0
        let reusable = reusableBlocks(consume previous, blockSize: blockSize)
        let packKey = ObjectKey.makePack(prefix: prefix, databaseName: origin.name, date: date)
        let manifestKey = ObjectKey.makeManifest(prefix: prefix, databaseName: origin.name, date: date)
        let seal = MetadataSeal(key: key)
        let packMetadata = seal.seal(ObjectMetadata.pack(compression: compression, createdAt: createdAt, origin: origin, keyID: key.id),
                                     objectKey: packKey)
        let newPack = UInt32(reusable.packs.count)

        let blocksPerChunk = max(1, Self.chunkBytes / blockSize)
        let frameBlocks = max(1, min(Manifest.Block.largestFrame, Self.frameBytes / blockSize))
        // A fixed set of chunk buffers circulates: free → reader → workers → caller (in order) → free. Nothing is allocated per chunk of the snapshot.
        let inFlight = workers + 2
        let free = BoundedQueue<[UInt8]>(capacity: inFlight)
        for _ in 0..<inFlight { try free.push([UInt8](repeating: 0, count: blocksPerChunk * blockSize)) }
        // Buffers for a chunk's sealed blocks circulate too (worker → caller → pool), so no
        // chunk grows a fresh megabyte array page by page.
        let freeSealed = BoundedQueue<[UInt8]>(capacity: inFlight + workers)
        for _ in 0..<(inFlight + workers) {
            var sealed: [UInt8] = []
            sealed.reserveCapacity(blocksPerChunk * (blockSize + 64))
            try freeSealed.push(sealed)
        }
        let chunks = BoundedQueue<Chunk>(capacity: inFlight)
        let results = ReorderBuffer<SealedChunk>(window: inFlight)
        let readBytes = Counter()
        let queues: [any Failable] = [free, freeSealed, chunks, results]
        @Sendable func failAll(_ error: Error) { for queue in queues { queue.fail(error) } }
        let (key, compression, level) = (self.key, self.compression, self.level)

        var clock = StageClock()
        var tasks = [BackgroundTask(name: "incremental-reader") {
            do {
                var index = 0
                while var bytes = try free.pop() {
                    let count = try bytes.withUnsafeMutableBytes { try source.fill($0) }
                    if count == 0 { break }
                    readBytes.add(Int64(count))
                    try chunks.push(Chunk(index: index, bytes: bytes, count: count))
                    index += 1
                    if count < bytes.count { break }
                }
                results.setCount(index)
                chunks.close()
            } catch {
                failAll(error)
            }
        }]
        tasks += (0..<workers).map { n in
            BackgroundTask(name: "incremental-worker-\(n)") {
                do {
                    let identity = BlockIdentity(key: key, scheme: idScheme)
                    let compressor = try compression.makeBlockCompressor(level: level)
                    let sealer = try BlockSealer(key: key)
                    while let chunk = try chunks.pop() {
                        guard var sealed = try freeSealed.pop() else { break }
                        sealed.removeAll(keepingCapacity: true)
                        try results.put(chunk.index, try chunk.seal(blockSize: blockSize, firstBlock: chunk.index * blocksPerChunk, frameBlocks: frameBlocks, identity: identity, reusable: reusable,
                                                                     compressor: compressor, sealer: sealer, sealed: sealed))
                    }
                } catch {
                    failAll(error)
                }
            }
        }

        var upload: (any ObjectUpload)?
        let manifest: ManifestWriter
        var stored = 0
        // Each stored frame counts once in the manifest's bytes per pack.
        var reusedOnce = [Bool](repeating: false, count: reusable.count)
        var packSize: Int64 = 0
        var packChecksum = ""
        var newVersion: String?
        let md5 = Digest(.md5)
        var reused = 0, rewritten = 0
        var delta: (header: Manifest.Header, ancestors: [String])?
        var checkDecision = SnapshotCheckRule.Decision.run
        do {
            manifest = try ManifestWriter(scratchPath: work.file("manifest-entries"),
                                          deltaScratchPath: parent == nil ? nil : work.file("manifest-delta-entries"))
            var index = 0
            while var chunk = try results.take(index) {
                index += 1
                var buffer: [UInt8] = []
                swap(&buffer, &chunk.buffer)
                try free.push(consume buffer)
                var at = 0, frame = -1
                var frameStart: UInt64 = 0
                for (number, id) in chunk.ids.enumerated() {
                    if !differs, let previousBlocks, blockNumber >= previousBlocks.count || previousBlocks[blockNumber].id != id {
                        differs = true
                        if !checkMaySkip {
                            checkStarted = true
                            onChange()
                        }
                    }
                    let index = UInt64(blockNumber)
                    let parentEntry = blockNumber < (previousBlocks?.count ?? 0) ? previousBlocks![blockNumber] : nil
                    blockNumber += 1
                    switch chunk.verdicts[number] {
                    case .reuse(let block, let reuse):
                        reused += 1
                        try manifest.append(block, index: index, firstUse: !reusedOnce[reuse], sameAsParent: parentEntry == block)
                        reusedOnce[reuse] = true
                        continue
                    case .storeAgain:
                        rewritten += 1
                    case .new:
                        break
                    }
                    stored += 1
                    let member = Int(chunk.members[number]) - 1
                    if member == 0 {
                        // The first block of a frame: the frame goes into the pack now.
                        if frame >= 0 { at += chunk.frames[frame] }
                        frame += 1
                        if upload == nil { upload = try storage.beginUpload(objectKey: packKey, spoolDirectory: work.path, metadata: packMetadata) }
                        let length = chunk.frames[frame]
                        try chunk.sealed.withUnsafeBytes { all in
                            let sealed = UnsafeRawBufferPointer(rebasing: all[at..<(at + length)])
                            md5.update(sealed)
                            try upload!.write(sealed)
                        }
                        frameStart = UInt64(packSize)
                        packSize += Int64(length)
                    }
                    try manifest.append(Manifest.Block(id: id, pack: newPack, offset: frameStart, length: UInt32(chunk.frames[frame]), frame: member),
                                        index: index, firstUse: member == 0)
                }
                var sealed: [UInt8] = []
                swap(&sealed, &chunk.sealed)
                try freeSealed.push(consume sealed)
            }
            for task in tasks { try task.join() }
            clock.lap("pass")
            let unchanged = !differs && previousSize == readBytes.value
            delta = deltaParent(parent, changedBlocks: manifest.changedBlocks, snapshotSize: readBytes.value, blockSize: blockSize, createdAt: createdAt)
            checkDecision = checkStarted ? .run : checkRule.decide(unchanged: unchanged, previous: previousHeader,
                                                                   deltaParent: delta?.header, createdAt: createdAt)
            try beforeCommit(checkDecision)
            clock.lap("check_wait")
            if let upload {
                packChecksum = md5.finish().hexString
                try upload.complete(metadata: packMetadata)
                newVersion = try storage.head(objectKey: packKey).object.version
            }
            clock.lap("pack_upload")
        } catch {
            failAll(error)
            for task in tasks { try? task.join() }
            upload?.abort()
            throw error
        }
        Failpoint.afterPacks.reach()

        let allPacks = reusable.packs + (upload == nil ? [] : [Manifest.Pack(objectKey: packKey, size: packSize, version: newVersion)])
        let manifestPath = work.file("manifest")
        let snapshotSize = readBytes.value
        let used = try manifest.finish(header: { packs in
            var header = Manifest.Header(database: origin.name, objectKey: manifestKey, createdAt: createdAt, pageSize: pageSize, blockSize: blockSize,
                                         snapshotSize: snapshotSize, pageCount: snapshotSize / Int64(pageSize), compression: compression,
                                         keyID: key.id, packs: packs)
            header.format = idScheme == .hmacSHA256 ? 4 : 5
            header.blockIDs = idScheme == .hmacSHA256 ? nil : idScheme
            header.frameBytes = frameBlocks * blockSize
            header.checkedAt = checkDecision.checkedAt(createdAt: createdAt)
            if let delta {
                header.parent = delta.header.objectKey
                header.parentCreatedAt = delta.header.createdAt
                header.chainLength = (delta.header.chainLength ?? 0) + 1
                header.chainEntries = (delta.header.chainEntries ?? 0).addingReportingOverflow(manifest.changedBlocks).partialValue
                header.changedBlocks = manifest.changedBlocks
            }
            return header
        }, packs: allPacks, asDelta: delta != nil, to: manifestPath)
        // A clean elsewhere may have deleted a reused pack (or this backup's own, unnamed yet)
        // while this backup ran: a manifest naming it would not restore, so it is never stored.
        for entry in used {
            let stored = try? storage.head(objectKey: entry.pack.objectKey)
            guard stored?.object.isUnchanged(size: entry.pack.size, version: entry.pack.version) == true else {
                throw BackupError.reusedPackVanished(packKey: entry.pack.objectKey)
            }
        }
        let (encoded, sealed) = try storeManifest(manifestPath, objectKey: manifestKey, createdAt: createdAt, snapshotSize: snapshotSize)
        // Under Object Lock, every pack the manifest names, and every manifest it builds on,
        // stays locked as long as it does.
        if let until = try storage.retainedUntil(objectKey: manifestKey) {
            for entry in used where entry.pack.objectKey != packKey {
                try storage.extendRetention(objectKey: entry.pack.objectKey, until: until)
            }
            for ancestor in delta.map({ [$0.header.objectKey!] + $0.ancestors }) ?? [] {
                try storage.extendRetention(objectKey: ancestor, until: until)
            }
        }
        return IncrementalOutcome(
            manifestKey: manifestKey, manifest: encoded, manifestMetadata: sealed,
            pack: upload == nil ? nil : (packKey, packSize, packChecksum),
            references: used.map { ($0.pack.objectKey, $0.usedBytes) },
            newBlocks: stored, reusedBlocks: reused, rewrittenBlocks: rewritten, snapshotSize: snapshotSize,
            parent: delta?.header.objectKey, manifestEntries: delta == nil ? Int64(blockNumber) : manifest.changedBlocks, check: checkDecision,
            stages: clock.lap("manifest"))
    }

    /// The parent to store this manifest as a delta of, or nil for a whole manifest: past the
    /// chain's bounds (`ManifestChain`), or when a manifest of the chain is gone (a clean
    /// elsewhere), a whole manifest is stored and the next backups build on it.
    private func deltaParent(_ parent: (header: Manifest.Header, ancestors: [String])?, changedBlocks: Int64,
                             snapshotSize: Int64, blockSize: Int, createdAt: Int64) -> (header: Manifest.Header, ancestors: [String])? {
        guard let parent else { return nil }
        // A clock stepped back would make the child no later than its parent, which no reader accepts.
        guard let parentTime = parent.header.createdAt, parentTime < createdAt else {
            console.info("the previous incremental backup is dated at or after this one (the clock went back?): storing a whole manifest")
            return nil
        }
        let blocks = (snapshotSize + Int64(blockSize) - 1) / Int64(blockSize)
        let (entries, overflow) = (parent.header.chainEntries ?? 0).addingReportingOverflow(changedBlocks)
        guard !overflow, Double(entries) <= ManifestChain.maximumChangedShare * Double(max(1, blocks)) else {
            console.detail("manifest: whole (the chain's deltas would list \(entries) of \(blocks) blocks)")
            return nil
        }
        for key in [parent.header.objectKey!] + parent.ancestors {
            do {
                _ = try storage.head(objectKey: key)
            } catch BackupError.backupNotFound {
                console.info("the manifest \(key) the previous backup builds on is gone: storing a whole manifest")
                return nil
            } catch {
                console.info("could not look at the manifest \(key) the previous backup builds on (\(error)): storing a whole manifest")
                return nil
            }
        }
        console.detail("manifest: delta of \(changedBlocks) block(s) on \(parent.header.objectKey!) (chain of \((parent.header.chainLength ?? 0) + 1))")
        return parent
    }

    /// The previous manifest's blocks, when this backup can reuse them.
    private func reusableBlocks(_ previous: consuming Manifest?, blockSize: Int) -> ReusableBlocks {
        guard let previous = consume previous else { return ReusableBlocks() }
        var changed: [String] = []
        if previous.header.keyID != key.id { changed.append("key \(previous.header.keyID) (now \(key.id))") }
        if previous.header.blockSize != blockSize { changed.append("block size \(previous.header.blockSize) (now \(blockSize))") }
        if previous.header.compression != compression { changed.append("compression \(previous.header.compression.rawValue) (now \(compression.rawValue))") }
        guard changed.isEmpty else {
            console.info("the previous incremental backup used another \(changed.joined(separator: ", ")): this one starts a new base and stores every block")
            return ReusableBlocks()
        }
        // A pack that is gone or changed size (lost, damaged, deleted by hand) is never reused.
        var unusable = Set<Int>()
        for (number, pack) in previous.header.packs.enumerated() {
            if (try? storage.head(objectKey: pack.objectKey))?.object.isUnchanged(size: pack.size, version: pack.version) != true {
                console.warning("the pack \(pack.objectKey) of the previous incremental backup is missing, resized or rewritten; storing its blocks again ('clean-backup --check' lists the backups it breaks)")
                unusable.insert(number)
            }
        }
        let reusable = ReusableBlocks(previous: consume previous, unusablePacks: unusable)
        if reusable.thinPacks > unusable.count {
            console.detail("where the database changed, storing again the blocks of \(reusable.thinPacks - unusable.count) pack(s) the previous backup used less than half of")
        }
        if reusable.sparseFrames + reusable.thinSegments > 0 {
            console.detail("where the database changed, storing again the spans of \(reusable.sparseFrames) frame(s) and the frames of \(reusable.thinSegments) MiB of packs the previous backup used less than \(Int(ReusableBlocks.minimumFrameUse * 100))% of")
        }
        return reusable
    }

    /// Compresses and encrypts the manifest like a full backup object and stores it under
    /// `manifestKey` with its sealed metadata.
    private func storeManifest(_ path: String, objectKey manifestKey: String, createdAt: Int64,
                               snapshotSize: Int64) throws -> (EncodedObject, ObjectMetadata) {
        let upload = try storage.beginUpload(objectKey: manifestKey, spoolDirectory: work.path)
        do {
            let encoded = try BackupEncoder(key: key, algorithm: compression, level: level).encode(file: path) { bytes in
                try upload.write(bytes)
            }
            var metadata = ObjectMetadata(encoded: encoded, compression: compression, createdAt: createdAt,
                                          origin: origin, keyID: key.id)
            metadata[ObjectMetadata.Field.kind] = "incremental"
            // What it restores: the snapshot's bytes, not the manifest's.
            metadata[ObjectMetadata.Field.sourceSize] = String(snapshotSize)
            if keepForever { metadata[ObjectMetadata.Field.keep] = "forever" }
            let sealed = MetadataSeal(key: key).seal(metadata, objectKey: manifestKey)
            try upload.complete(metadata: sealed)
            return (encoded, sealed)
        } catch {
            upload.abort()
            throw error
        }
    }

}
