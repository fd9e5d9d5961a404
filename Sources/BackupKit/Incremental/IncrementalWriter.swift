import Foundation

/// What an incremental backup wrote.
struct IncrementalOutcome {
    let manifestKey: String
    let manifest: EncodedObject
    /// The new pack, when any block was new.
    let pack: (objectKey: String, size: Int64, checksum: String)?
    /// Every pack the manifest uses, with the stored bytes it uses in each.
    let references: [(objectKey: String, bytes: Int64)]
    let newBlocks: Int
    let reusedBlocks: Int
    /// Blocks stored again because their old pack was mostly unused (see `minimumPackUse`).
    let rewrittenBlocks: Int
    let snapshotSize: Int64
}

/// Writes an incremental backup of a snapshot file: cuts it into page-aligned blocks, names
/// each by its keyed hash (`BlockIdentity`), reuses the blocks the previous manifest already
/// stores, seals every new block on its own (compressed, then AES-256-GCM with its id as
/// associated data) into one new pack, and stores the manifest last. A backup therefore
/// writes at most two objects, and no manifest ever names a block that is not stored yet.
///
/// Space stays bounded by rewriting: a block is reused only from a pack this backup still
/// uses at least `minimumPackUse` of; the blocks of emptier packs are stored again in the new
/// pack, so once retention drops the older manifests, clean deletes those packs whole.
struct IncrementalWriter {
    /// The share of an old pack's bytes a backup must still use to keep reusing it.
    static let minimumPackUse = 0.5

    let storage: any ObjectStorage
    let prefix: String
    let databaseName: String
    let key: EncryptionKey
    let compression: CompressionAlgorithm
    let level: Int
    /// The block size asked for; rounded up to a multiple of the snapshot's page size.
    let blockSize: Int
    let work: WorkDirectory
    let console: Console

    func write(snapshot path: String, previous: Manifest?, createdAt: Int64) throws -> IncrementalOutcome {
        let input = try FileDescriptor.openForReading(path)
        let snapshotSize = Files.size(path) ?? 0
        let pageSize = try Self.pageSize(of: input)
        let blockSize = max(pageSize, (self.blockSize + pageSize - 1) / pageSize * pageSize)
        let identity = BlockIdentity(key: key)
        let date = Date(timeIntervalSince1970: Double(createdAt) / 1000)

        // Pass 1: every block's id, and the snapshot's SHA-256.
        let count = Int((snapshotSize + Int64(blockSize) - 1) / Int64(blockSize))
        var ids: [[UInt8]] = []
        ids.reserveCapacity(count)
        let sha = Digest(.sha256)
        var buffer = [UInt8](repeating: 0, count: blockSize)
        for index in 0..<count {
            let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0, at: Int64(index) * Int64(blockSize)) }
            try buffer.withUnsafeBytes { bytes in
                let block = UnsafeRawBufferPointer(rebasing: bytes[0..<n])
                sha.update(block)
                ids.append(identity.id(of: block))
            }
        }

        // Which stored blocks to reuse: those of the previous manifest, made with this key,
        // block size and compression, in packs this backup still uses enough of.
        var stored: [[UInt8]: Manifest.Block] = [:]
        var oldPacks: [Manifest.Pack] = []
        var previouslyStored = Set<[UInt8]>()
        if let previous, previous.header.keyID == key.id, previous.header.blockSize == blockSize,
           previous.header.compression == compression {
            oldPacks = previous.header.packs
            for block in previous.blocks where stored[block.id] == nil { stored[block.id] = block }
            previouslyStored = Set(stored.keys)
            var used = [Int64](repeating: 0, count: oldPacks.count)
            var counted = Set<[UInt8]>()
            for id in ids {
                if let block = stored[id], counted.insert(id).inserted { used[Int(block.pack)] += Int64(block.length) }
            }
            let thin = Set(oldPacks.indices.filter { Double(used[$0]) < Self.minimumPackUse * Double(max(1, oldPacks[$0].size)) })
            if !thin.isEmpty {
                console.detail("storing again the blocks of \(thin.count) pack(s) this backup uses less than half of")
            }
            stored = stored.filter { !thin.contains(Int($0.value.pack)) }
        } else if previous != nil {
            console.detail("the previous incremental backup used another key, block size or compression: storing every block")
        }

        // Pass 2: seal the blocks no reusable pack holds into the new pack.
        let packKey = ObjectKey.makePack(prefix: prefix, databaseName: databaseName, date: date)
        var upload: (any ObjectUpload)?
        var written: [[UInt8]: Manifest.Block] = [:]
        var packSize: Int64 = 0
        var packChecksum = ""
        let md5 = Digest(.md5)
        let compressor = try compression.makeBlockCompressor(level: level)
        var box: [UInt8] = []
        var reused = 0, rewritten = 0
        let newPackIndex = UInt32(oldPacks.count)
        var entries: [Manifest.Block] = []
        entries.reserveCapacity(count)
        do {
            for (index, id) in ids.enumerated() {
                if let block = stored[id] {
                    entries.append(block)
                    reused += 1
                    continue
                }
                if let block = written[id] {
                    entries.append(block)
                    continue
                }
                if previouslyStored.contains(id) { rewritten += 1 }
                let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0, at: Int64(index) * Int64(blockSize)) }
                box.removeAll(keepingCapacity: true)
                try buffer.withUnsafeBytes { bytes in
                    try compressor.compress(UnsafeRawBufferPointer(rebasing: bytes[0..<n])) { compressed in
                        try AESGCM.SealedBox.seal(compressed, key: key, aad: id, into: &box)
                    }
                }
                if upload == nil { upload = try storage.beginUpload(objectKey: packKey, spoolDirectory: work.path) }
                try box.withUnsafeBytes { sealed in
                    md5.update(sealed)
                    try upload!.write(sealed)
                }
                let block = Manifest.Block(id: id, pack: newPackIndex, offset: UInt64(packSize), length: UInt32(box.count))
                packSize += Int64(box.count)
                written[id] = block
                entries.append(block)
            }
            if let upload {
                packChecksum = md5.finish().hexString
                try upload.complete(metadata: .pack(compression: compression, checksum: packChecksum, createdAt: createdAt,
                                                    databaseName: databaseName, keyID: key.id))
            }
        } catch {
            upload?.abort()
            throw error
        }
        Failpoint.afterPacks.reach()

        // The manifest names only the packs it uses, re-numbered.
        var usedPacks: [Int: Int64] = [:]
        for entry in entries { usedPacks[Int(entry.pack), default: 0] += Int64(entry.length) }
        let allPacks = oldPacks + (upload == nil ? [] : [Manifest.Pack(objectKey: packKey, size: packSize)])
        let kept = usedPacks.keys.sorted()
        let renumber = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($0.element, UInt32($0.offset)) })
        let manifest = Manifest(
            header: .init(database: databaseName, pageSize: pageSize, blockSize: blockSize, snapshotSize: snapshotSize,
                          sha256: sha.finish().hexString, compression: compression, keyID: key.id,
                          packs: kept.map { allPacks[$0] }),
            blocks: entries.map { Manifest.Block(id: $0.id, pack: renumber[Int($0.pack)]!, offset: $0.offset, length: $0.length) })

        let manifestPath = work.file("manifest")
        try Files.writeAtomically(try manifest.encoded(), to: manifestPath)
        let manifestKey = ObjectKey.makeManifest(prefix: prefix, databaseName: databaseName, date: date)
        let manifestUpload = try storage.beginUpload(objectKey: manifestKey, spoolDirectory: work.path)
        let encoded: EncodedObject
        do {
            encoded = try BackupEncoder(key: key, algorithm: compression, level: level).encode(file: manifestPath) { bytes in
                try manifestUpload.write(bytes)
            }
            var metadata = ObjectMetadata(encoded: encoded, compression: compression, createdAt: createdAt,
                                          databaseName: databaseName, keyID: key.id)
            metadata[ObjectMetadata.Field.kind] = "incremental"
            try manifestUpload.complete(metadata: metadata)
        } catch {
            manifestUpload.abort()
            throw error
        }
        return IncrementalOutcome(
            manifestKey: manifestKey, manifest: encoded,
            pack: upload == nil ? nil : (packKey, packSize, packChecksum),
            references: kept.map { (allPacks[$0].objectKey, usedPacks[$0]!) },
            newBlocks: written.count, reusedBlocks: reused, rewrittenBlocks: rewritten, snapshotSize: snapshotSize)
    }

    /// The page size a SQLite file's header records (bytes 16-17, big-endian; 1 means 65536).
    static func pageSize(of file: FileDescriptor) throws -> Int {
        var header = [UInt8](repeating: 0, count: 18)
        let n = try header.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        guard n == 18 else { return 4096 }
        let raw = Int(header[16]) << 8 | Int(header[17])
        return raw == 1 ? 65536 : max(512, raw)
    }
}
