import Foundation

/// Rebuilds the snapshot an incremental backup describes: reads its manifest, fetches the
/// blocks from their packs with Range requests (neighbouring blocks in one request), opens
/// each sealed block as the block its id names, decompresses it, checks its id, and writes
/// the snapshot in order. The whole file must then match the manifest's SHA-256.
struct IncrementalReader {
    /// The most bytes one Range request asks for.
    static let maximumRange: Int64 = 8 << 20

    let storage: any ObjectStorage

    func restore(_ plan: RestorePlan, key: EncryptionKey, ring: KeyRing, into file: FileDescriptor,
                 progress: Counter) throws -> DecodedObject {
        let (manifest, manifestDecoded, _) = try ManifestReader.read(plan, storage: storage, keys: [key])
        let header = manifest.header
        guard let blockKey = header.keyID == key.id ? key : ring.key(id: header.keyID) else {
            throw BackupError.keyNotAvailable(objectKey: plan.objectKey, keyID: header.keyID, configured: ring.all.map(\.id))
        }
        let identity = BlockIdentity(key: blockKey)
        let decompressor = try BlockDecompressor(header.compression)
        let sha = Digest(.sha256)
        var fetched: Int64 = 0
        var restored: Int64 = 0
        // Blocks that occur more than once (empty pages, say) are kept once opened.
        var occurrences: [BlockID: Int] = [:]
        for block in manifest.blocks { occurrences[block.id, default: 0] += 1 }
        var repeated: [BlockID: [UInt8]] = [:]

        var index = 0
        let blocks = manifest.blocks
        while index < blocks.count {
            if let plain = repeated[blocks[index].id] {
                try write(plain)
                index += 1
                continue
            }
            // A run of blocks stored one after the other in the same pack: one request.
            var end = index + 1
            var length = Int64(blocks[index].length)
            while end < blocks.count, repeated[blocks[end].id] == nil, blocks[end].pack == blocks[index].pack,
                  blocks[end].offset == blocks[end - 1].offset + UInt64(blocks[end - 1].length),
                  length + Int64(blocks[end].length) <= Self.maximumRange {
                length += Int64(blocks[end].length)
                end += 1
            }
            let pack = header.packs[Int(blocks[index].pack)]
            let start = Int64(blocks[index].offset)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(length))
            do {
                try storage.download(objectKey: pack.objectKey, range: start..<(start + length)) { bytes += $0 }
            } catch BackupError.backupNotFound {
                throw BackupError.corruptBackup(objectKey: plan.objectKey, detail: "its pack \(pack.objectKey) is missing from storage")
            }
            fetched += length
            progress.add(length)
            var at = 0
            for number in index..<end {
                let block = blocks[number]
                let size = Int(min(Int64(header.blockSize), header.snapshotSize - Int64(number) * Int64(header.blockSize)))
                let plain = try bytes.withUnsafeBytes { all -> [UInt8] in
                    let box = UnsafeRawBufferPointer(rebasing: all[at..<(at + Int(block.length))])
                    guard let compressed = AESGCM.SealedBox.open(box, key: blockKey, aad: block.id.bytes) else {
                        throw BackupError.corruptBackup(objectKey: pack.objectKey, detail: "block \(number) does not authenticate: the pack was altered or damaged")
                    }
                    let plain = try compressed.withUnsafeBytes { try decompressor.decompress($0, size: size) }
                    guard plain.withUnsafeBytes({ identity.id(of: $0) }) == block.id else {
                        throw BackupError.corruptBackup(objectKey: pack.objectKey, detail: "block \(number) is not the block the manifest names")
                    }
                    return plain
                }
                at += Int(block.length)
                if occurrences[block.id, default: 0] > 1 && repeated.count < 4096 { repeated[block.id] = plain }
                try write(plain)
            }
            index = end
        }

        func write(_ plain: [UInt8]) throws {
            sha.update(plain)
            try file.write(plain)
            restored += Int64(plain.count)
        }

        guard restored == header.snapshotSize, sha.finish().hexString == header.sha256 else {
            throw BackupError.corruptBackup(objectKey: plan.objectKey, detail: "the rebuilt snapshot does not match the manifest's SHA-256")
        }
        return DecodedObject(md5Hex: manifestDecoded.md5Hex, storedSize: manifestDecoded.storedSize + fetched,
                             restoredSize: restored, authenticated: true, decompressionFailure: nil)
    }
}
