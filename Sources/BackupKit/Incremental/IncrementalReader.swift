import Foundation
import Synchronization

/// Rebuilds the snapshot an incremental backup describes. It reads the manifest, plans the
/// downloads pack by pack (the blocks it needs, in pack order, merged into Range requests
/// that may span small unneeded gaps: after many backups a snapshot's blocks are spread over
/// several packs, and one request per scattered block would cost a round trip each), and
/// fetches the ranges on a few threads. Each sealed block is opened as the block its id
/// names, decompressed, checked against its id and written at every place the snapshot has
/// it. A delta manifest is rebuilt whole from its parents first (`ManifestChain`).
struct IncrementalReader {
    /// The most bytes one Range request asks for.
    static let maximumRange: Int64 = 8 << 20
    /// Unneeded bytes a request may span rather than start another (one round trip costs
    /// more than fetching this much on any link the suite targets).
    static let maximumGap: Int64 = 256 << 10
    /// Ranges downloaded at once.
    static let downloaders = 3

    let storage: any ObjectStorage
    /// Reads one stored manifest, authenticated (a delta's parents).
    let loadManifest: (String) throws -> Manifest

    /// A stored block and one place the snapshot has it.
    private struct Placement {
        let pack: UInt32
        /// The frame's sealed length and the block's place in it, as the manifest stores them
        /// (`Manifest.Block.stored`): 40 bytes a placement, however large the snapshot.
        let stored: UInt32
        let offset: UInt64
        let id: BlockID
        let number: Int

        var length: UInt32 { stored & Manifest.Block.lengthMask }
        /// The block's place in its frame; nil for a block sealed on its own.
        var frame: Int? { stored >> 24 == 0 ? nil : Int(stored >> 24) - 1 }
    }

    /// Bytes of one pack fetched by one request, and the placements they serve.
    private struct Range {
        let pack: Int
        let start: Int64
        let end: Int64
        let placements: Swift.Range<Int>
    }

    func restore(_ plan: ObjectDecryption, key: EncryptionKey, ring: KeyRing, into file: FileDescriptor,
                 progress: Counter) throws -> DecodedObject {
        var (manifest, manifestDecoded, _) = try ManifestReader.read(plan, storage: storage, keys: [key])
        if manifest.isDelta {
            var chain = ManifestChain(load: loadManifest)
            manifest = try chain.resolve(manifest, objectKey: plan.objectKey)
        }
        let header = manifest.header
        guard let blockKey = header.keyID == key.id ? key : ring.key(id: header.keyID) else {
            throw BackupError.keyNotAvailable(objectKey: plan.objectKey, keyID: header.keyID, configured: ring.all.map(\.id))
        }
        // The placements are all the blocks list holds, in download order: the list goes once
        // they are made, and they are sorted in place (a snapshot of 2 GiB has half a million).
        var inOrder = manifest.blocks.enumerated()
            .map { Placement(pack: $0.element.pack, stored: $0.element.stored, offset: $0.element.offset, id: $0.element.id, number: $0.offset) }
        manifest.blocks = []
        inOrder.sort { ($0.pack, $0.offset, $0.number) < ($1.pack, $1.offset, $1.number) }
        let placements = consume inOrder
        let ranges = Self.plan(placements)
        // Blocks arrive in pack order, scattered over the file: its space allocated at once keeps
        // the file system from placing it piece by piece (and a disk too small fails here).
        try file.reserve(header.snapshotSize)
        let fetched = Atomic<Int64>(0)
        let next = Atomic<Int>(0)
        let failure = Mutex<Error?>(nil)
        let storage = self.storage
        let objectKey = plan.objectKey

        let tasks = (0..<min(Self.downloaders, max(1, ranges.count))).map { n in
            BackgroundTask(name: "restore-range-\(n)") {
                do {
                    let identity = BlockIdentity(key: blockKey, scheme: header.idScheme)
                    let decompressor = try BlockDecompressor(header.compression)
                    // One range's bytes, the buffer kept from range to range (no fresh pages to fault in).
                    var bytes: [UInt8] = []
                    while failure.withLock({ $0 == nil }) {
                        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < ranges.count else { break }
                        let range = ranges[index]
                        let pack = header.packs[range.pack]
                        bytes.removeAll(keepingCapacity: true)
                        bytes.reserveCapacity(Int(range.end - range.start))
                        do {
                            try storage.download(objectKey: pack.objectKey, range: range.start..<range.end) { bytes += $0 }
                        } catch BackupError.backupNotFound {
                            throw BackupError.corruptBackup(objectKey: objectKey, detail: "its pack \(pack.objectKey) is missing from storage")
                        }
                        guard Int64(bytes.count) == range.end - range.start else {
                            throw BackupError.corruptBackup(objectKey: objectKey, detail: "its pack \(pack.objectKey) is shorter than the manifest says")
                        }
                        fetched.add(Int64(bytes.count), ordering: .relaxed)
                        progress.add(Int64(bytes.count))
                        var frame: [UInt8] = []
                        var opened: UInt64?
                        // The ids of the opened frame's blocks, hashed together (several in SIMD lanes)
                        // when this snapshot uses at least half of them, else one by one as used.
                        var frameIDs: [BlockID] = []
                        // Blocks that follow each other in a frame and in the snapshot go out in one write.
                        var run: (start: Int, end: Int, number: Int, next: Int)?
                        func flush() throws {
                            guard let pending = run else { return }
                            try frame.withUnsafeBytes { all in
                                try file.write(UnsafeRawBufferPointer(rebasing: all[pending.start..<pending.end]),
                                               at: Int64(pending.number) * Int64(header.blockSize))
                            }
                            run = nil
                        }
                        for p in range.placements {
                            let placement = placements[p]
                            if opened != placement.offset {
                                try flush()
                                frame = try Self.open(placement, in: bytes, from: range.start, header: header, key: blockKey,
                                                      decompressor: decompressor, packKey: pack.objectKey)
                                opened = placement.offset
                                frameIDs.removeAll(keepingCapacity: true)
                                let uses = placements[p..<range.placements.upperBound].prefix { $0.offset == placement.offset }.count
                                if uses * 2 * header.blockSize >= frame.count {
                                    frame.withUnsafeBytes { identity.ids(of: $0, blockSize: header.blockSize, into: &frameIDs) }
                                }
                            }
                            let block = try Self.block(placement, of: frame, ids: frameIDs, header: header, identity: identity, packKey: pack.objectKey)
                            if let current = run, current.end == block.lowerBound, current.next == placement.number {
                                run = (current.start, block.upperBound, current.number, placement.number + 1)
                            } else {
                                try flush()
                                run = (block.lowerBound, block.upperBound, placement.number, placement.number + 1)
                            }
                        }
                        try flush()
                    }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        for task in tasks { try task.join() }
        if let error = failure.withLock({ $0 }) { throw error }

        // Every block was authenticated and matched its id where the manifest puts it; a
        // manifest before format 3 also names the whole snapshot's SHA-256, checked here.
        var restored = Int64(Files.size(file.path) ?? -1)
        if let expected = header.sha256 {
            let reader = try FileDescriptor.openForReading(file.path)
            let sha = Digest(.sha256)
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            restored = 0
            while true {
                let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0, at: restored) }
                if n == 0 { break }
                buffer.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                restored += Int64(n)
            }
            guard sha.finish().hexString == expected else {
                throw BackupError.corruptBackup(objectKey: plan.objectKey, detail: "the rebuilt snapshot does not match the manifest's SHA-256")
            }
        }
        guard restored == header.snapshotSize else {
            throw BackupError.corruptBackup(objectKey: plan.objectKey, detail: "the rebuilt snapshot holds \(restored) bytes, not the manifest's \(header.snapshotSize)")
        }
        return DecodedObject(md5Hex: manifestDecoded.md5Hex, storedSize: manifestDecoded.storedSize + fetched.load(ordering: .relaxed),
                             restoredSize: restored, authenticated: true, decompressionFailure: nil)
    }

    /// The requests: placements in pack order, merged while the gap and the size allow.
    private static func plan(_ placements: [Placement]) -> [Range] {
        var ranges: [Range] = []
        var first = 0
        while first < placements.count {
            let pack = placements[first].pack
            let start = Int64(placements[first].offset)
            var end = start + Int64(placements[first].length)
            var last = first + 1
            while last < placements.count, placements[last].pack == pack {
                let offset = Int64(placements[last].offset), stop = offset + Int64(placements[last].length)
                guard offset - end <= maximumGap, max(end, stop) - start <= maximumRange else { break }
                end = max(end, stop)
                last += 1
            }
            ranges.append(Range(pack: Int(pack), start: start, end: end, placements: first..<last))
            first = last
        }
        return ranges
    }

    /// The snapshot bytes of the frame (or lone block) holding `placement`, out of a fetched
    /// range, authenticated: a frame under the frame label, a lone block under its id.
    private static func open(_ placement: Placement, in bytes: [UInt8], from rangeStart: Int64, header: Manifest.Header,
                             key: EncryptionKey, decompressor: BlockDecompressor, packKey: String) throws -> [UInt8] {
        let at = Int(Int64(placement.offset) - rangeStart)
        return try bytes.withUnsafeBytes { all in
            let box = UnsafeRawBufferPointer(rebasing: all[at..<(at + Int(placement.length))])
            guard let compressed = AESGCM.SealedBox.open(box, key: key, aad: placement.frame == nil ? placement.id.bytes : Chunk.frameLabel) else {
                throw BackupError.corruptBackup(objectKey: packKey, detail: "block \(placement.number) does not authenticate: the pack was altered or damaged")
            }
            return try compressed.withUnsafeBytes { compressed in
                guard placement.frame != nil else { return try decompressor.decompress(compressed, size: blockSize(placement, header)) }
                return try decompressor.decompressFrame(compressed, largest: max(header.frameBytes ?? 0, header.blockSize, 1 << 20))
            }
        }
    }

    /// Where in its opened `frame` the block `placement` names lies, checked against its id.
    /// `ids` are the frame's blocks' ids, a whole block each but for a short last one.
    private static func block(_ placement: Placement, of frame: [UInt8], ids: [BlockID], header: Manifest.Header, identity: BlockIdentity,
                              packKey: String) throws -> Swift.Range<Int> {
        let size = blockSize(placement, header)
        let index = placement.frame ?? 0
        let start = index * header.blockSize
        guard start + size <= frame.count else {
            throw BackupError.corruptBackup(objectKey: packKey, detail: "block \(placement.number) lies past the end of its frame")
        }
        let hashed = index < ids.count && min(header.blockSize, frame.count - start) == size
        let matches = hashed ? ids[index] == placement.id
            : frame.withUnsafeBytes { identity.id(of: UnsafeRawBufferPointer(rebasing: $0[start..<(start + size)])) == placement.id }
        guard matches else {
            throw BackupError.corruptBackup(objectKey: packKey, detail: "block \(placement.number) is not the block the manifest names")
        }
        return start..<(start + size)
    }

    /// Bytes of the snapshot's block `placement.number` (the last one may be short).
    private static func blockSize(_ placement: Placement, _ header: Manifest.Header) -> Int {
        Int(min(Int64(header.blockSize), header.snapshotSize - Int64(placement.number) * Int64(header.blockSize)))
    }
}
