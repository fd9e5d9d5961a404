import Foundation

/// Rebuilds the whole block list of a delta manifest from its parents, as restore, the next
/// backup, clean and `--check` need it. A delta lists only the blocks whose entry differs from
/// its parent's; following parents back to a whole manifest and applying each delta in turn
/// gives the snapshot. Every link is read authenticated (`load`) and must agree with its child:
/// the parent the child names (key and time), one database, key, page and block size and
/// compression, and a chain length and entry count one link shorter. So a chain cannot loop,
/// and no parent can be swapped for another backup's manifest.
struct ManifestChain {
    /// The most links a backup builds on one whole manifest before writing a whole one again.
    static let maximumLength = 32
    /// The share of a snapshot's blocks a chain's deltas may list in all before a whole
    /// manifest is written again (restore reads every link; past this a whole one is cheaper).
    static let maximumChangedShare = 0.25
    /// Longer chains than this are refused on reading (a writer never makes one).
    static let longestReadable = 1024

    /// Reads and authenticates one stored manifest, as stored (a delta is not applied).
    let load: (String) throws -> Manifest
    /// Each database's manifest resolved last, taken as the base when the next one builds on
    /// it (clean and `--check` go oldest first, so a chain is read once).
    private var last: [String: Manifest] = [:]

    init(load: @escaping (String) throws -> Manifest) {
        self.load = load
    }

    /// `manifest` with every block of its snapshot, and its `ancestors`; a whole one as it is.
    /// `objectKey` is the manifest's own key, for messages.
    mutating func resolve(_ manifest: Manifest, objectKey: String) throws -> Manifest {
        guard manifest.isDelta else {
            last[manifest.header.database] = manifest
            return manifest
        }
        guard let length = manifest.header.chainLength, length <= Self.longestReadable else {
            throw BackupError.corruptBackup(objectKey: objectKey, detail: "its chain of parent manifests is longer than \(Self.longestReadable)")
        }
        // The deltas from this one back to the base (a whole manifest, or the one resolved last).
        var deltas = [manifest]
        var base: Manifest
        while true {
            let child = deltas.last!
            let parentKey = child.header.parent!
            let parent: Manifest
            if let resolved = last[child.header.database], resolved.header.objectKey == parentKey {
                parent = resolved
            } else {
                do {
                    parent = try load(parentKey)
                } catch BackupError.backupNotFound {
                    throw BackupError.corruptBackup(objectKey: objectKey, detail: "its parent manifest \(parentKey) is missing from storage")
                } catch {
                    throw BackupError.corruptBackup(objectKey: objectKey, detail: "its parent manifest \(parentKey) cannot be read: \(error)")
                }
            }
            if let problem = Self.linkProblem(child: child, parent: parent) {
                throw BackupError.corruptBackup(objectKey: objectKey, detail: "its parent manifest \(parentKey) \(problem)")
            }
            if !parent.isDelta {
                base = parent
                break
            }
            deltas.append(parent)
        }
        for delta in deltas.reversed() {
            base = try Self.apply(delta, onto: consume base, objectKey: objectKey)
        }
        last[base.header.database] = base
        return base
    }

    /// The parents `manifest` names, newest first, as far as they can be read (clean keeps
    /// them even when the chain is broken further back).
    func ancestors(of manifest: Manifest) -> [String] {
        var keys: [String] = []
        var next = manifest.header.parent
        while let key = next, keys.count < Self.longestReadable, !keys.contains(key) {
            keys.append(key)
            next = (try? load(key))?.header.parent
        }
        return keys
    }

    /// What is wrong with `parent` as `child`'s parent, or nil.
    static func linkProblem(child: Manifest, parent: Manifest) -> String? {
        let c = child.header, p = parent.header
        guard p.objectKey == c.parent else { return "names itself \(p.objectKey ?? "nothing")" }
        guard let parentTime = p.createdAt, parentTime == c.parentCreatedAt, let childTime = c.createdAt, parentTime < childTime else {
            return "was made at another time than its child records"
        }
        guard p.database == c.database, p.keyID == c.keyID, p.pageSize == c.pageSize, p.blockSize == c.blockSize,
              p.compression == c.compression, p.idScheme == c.idScheme else {
            return "is of another database, key, page size, block size, compression or block id scheme"
        }
        let (entries, overflow) = (p.chainEntries ?? 0).addingReportingOverflow(c.changedBlocks ?? 0)
        guard let length = c.chainLength, length == (p.chainLength ?? 0) + 1, !overflow, c.chainEntries == entries else {
            return "does not continue the chain its child records"
        }
        return nil
    }

    /// The whole manifest of `delta`: its parent's blocks (renumbered into the delta's pack
    /// list), the changed ones replaced, cut or grown to the delta's size.
    static func apply(_ delta: Manifest, onto parent: consuming Manifest, objectKey: String) throws -> Manifest {
        let count = delta.header.blockCount
        let changes = delta.changes ?? []
        var numbers: [String: UInt32] = [:]
        for (number, pack) in delta.header.packs.enumerated() where numbers[pack.objectKey] == nil { numbers[pack.objectKey] = UInt32(number) }
        let remap: [UInt32?] = parent.header.packs.map { pack in
            numbers[pack.objectKey].flatMap { number in
                let own = delta.header.packs[Int(number)]
                return own.size == pack.size && (own.version == nil || pack.version == nil || own.version == pack.version) ? number : nil
            }
        }
        let ancestors = [parent.header.objectKey ?? ""] + parent.ancestors
        var blocks = parent.blocks
        parent.blocks = []
        if blocks.count > count { blocks.removeLast(blocks.count - count) }
        // Never sized by the header alone: the blocks it can have are the parent's and its own.
        blocks.reserveCapacity(min(count, blocks.count + changes.count))
        var next = 0
        for index in 0..<count {
            if next < changes.count && changes[next] == UInt64(index) {
                if index < blocks.count { blocks[index] = delta.blocks[next] } else { blocks.append(delta.blocks[next]) }
                next += 1
                continue
            }
            guard index < blocks.count else {
                throw BackupError.corruptBackup(objectKey: objectKey, detail: "block \(index) is in neither a delta manifest nor its parent")
            }
            guard let pack = remap[Int(blocks[index].pack)] else {
                throw BackupError.corruptBackup(objectKey: objectKey, detail: "a delta manifest does not list the pack \(parent.header.packs[Int(blocks[index].pack)].objectKey) (or its size) its parent's blocks use")
            }
            blocks[index].pack = pack
        }
        var whole = Manifest(header: delta.header, blocks: blocks)
        whole.ancestors = ancestors
        return whole
    }
}
