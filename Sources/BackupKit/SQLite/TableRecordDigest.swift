/// The table side of the split integrity check's digests, read straight from a rowid table's
/// leaf pages (found through a `PageMap`, which `quick_check(T)` vouches for) instead of through
/// SQL: per index, the entries its rows make, digested as `EntryDigest`'s SQL aggregate digests
/// them (the key fields as stored, then the rowid; a row with a NULL key, or a NaN, which SQLite
/// reads as NULL, only counted). The leaves are read in runs of consecutive pages, a read each.
///
/// Only records written as SQLite writes them are read here: every varint in its fewest bytes,
/// the fields filling the payload, no more fields than the table has columns, and every key
/// field on the leaf (not spilled to overflow pages). Anything else makes the whole digest nil,
/// and `integrity_check(T)` decides for the table.
struct TableRecordDigest {
    let path: String
    let pageSize: Int
    let usableSize: Int
    /// Columns the table has (fields a whole record holds).
    let columns: Int
    /// Per index, the record fields (column positions) of its key, in its order.
    let keys: [[Int]]

    /// Per index, the digest of the entries the rows on `leaves` make; nil when a record or a
    /// page is not as SQLite writes it.
    func digests(leaves: ArraySlice<UInt32>, key: [UInt8]) throws -> [EntryDigest]? {
        let file = try FileDescriptor.openForReading(path)
        let hashers = keys.map { _ in key.withUnsafeBytes { EntryHasher(key: $0) } }
        var counts = keys.map { _ in EntryDigest() }
        let run = 64
        var buffer = [UInt8](repeating: 0, count: run * pageSize)
        let fields = (keys.flatMap { $0 }.max() ?? 0) + 1
        var offsets = [Int](repeating: 0, count: fields + 1)
        var types = [UInt64](repeating: 0, count: fields)
        var entry = [UInt8](repeating: 0, count: 64)
        var at = leaves.startIndex
        while at < leaves.endIndex {
            // A run of consecutive pages, one read.
            var end = at + 1
            while end < leaves.endIndex, end - at < run, leaves[end] == leaves[end - 1] &+ 1 { end += 1 }
            let first = Int64(leaves[at])
            let bytes = (end - at) * pageSize
            let read = try buffer.withUnsafeMutableBytes {
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(bytes)), at: (first - 1) * Int64(pageSize))
            }
            guard read == bytes else { return nil }
            for k in 0..<(end - at) {
                let plain = buffer.withUnsafeBytes { all -> Bool in
                    let page = UnsafeRawBufferPointer(rebasing: all[(k * pageSize)..<((k + 1) * pageSize)])
                    return readLeaf(page, headerAt: first + Int64(k) == 1 ? 100 : 0) { rowid, record, payload in
                        guard Self.fieldOffsets(record, payload: payload, columns: columns, types: &types, offsets: &offsets) else { return false }
                        for (n, fieldsOfKey) in keys.enumerated() {
                            counts[n].rows += 1
                            switch encode(record, fieldsOfKey, rowid, types, offsets, into: &entry) {
                            case nil: return false
                            case .some(0): continue  // a NULL key: counted only
                            case .some(let size): entry.withUnsafeBytes { hashers[n].add(UnsafeRawBufferPointer(rebasing: $0.prefix(size))) }
                            }
                            counts[n].hashed += 1
                        }
                        return true
                    }
                }
                guard plain else { return nil }
            }
            at = end
        }
        for n in counts.indices { (counts[n].high, counts[n].low) = hashers[n].sums() }
        return counts
    }

    /// The rowid of the first row on leaf `leaf`, or nil when the page is not a table leaf with one.
    func firstRowid(leaf: UInt32) throws -> Int64? {
        let file = try FileDescriptor.openForReading(path)
        var page = [UInt8](repeating: 0, count: pageSize)
        guard try page.withUnsafeMutableBytes({ try file.read(into: $0, at: (Int64(leaf) - 1) * Int64(pageSize)) }) == pageSize else { return nil }
        var first: Int64? = nil
        _ = page.withUnsafeBytes { page in
            readLeaf(page, headerAt: leaf == 1 ? 100 : 0) { rowid, _, _ in
                first = rowid
                return false  // the first is enough
            }
        }
        return first
    }

    /// Calls `row` with each cell's rowid, the record's bytes on the page and its whole payload
    /// size; false when the page or a cell is not as SQLite writes it, or `row` said so.
    private func readLeaf(_ page: UnsafeRawBufferPointer, headerAt at: Int,
                          _ row: (Int64, UnsafeRawBufferPointer, Int) -> Bool) -> Bool {
        guard page[at] == 0x0D else { return false }
        let cells = Int(page[at + 3]) << 8 | Int(page[at + 4])
        let pointers = at + 8
        guard pointers + 2 * cells <= usableSize else { return false }
        for n in 0..<cells {
            var offset = Int(page[pointers + 2 * n]) << 8 | Int(page[pointers + 2 * n + 1])
            guard offset >= pointers + 2 * cells, offset <= usableSize - 4,
                  let (payload, length) = RecordFormat.minimalVarint(page, offset, end: usableSize), payload <= UInt64(Int32.max) else { return false }
            offset += length
            // A rowid in any length, as SQLite reads it.
            guard let (rowid, rowidLength) = RecordFormat.varint(page, offset, end: usableSize) else { return false }
            offset += rowidLength
            let total = Int(payload)
            let local = RecordFormat.localPayload(total, tableLeaf: true, usableSize: usableSize)
            guard offset + local + (local < total ? 4 : 0) <= usableSize,
                  row(Int64(bitPattern: rowid), UnsafeRawBufferPointer(rebasing: page[offset..<(offset + local)]), total) else { return false }
        }
        return true
    }

    /// Reads a record's header into `types` (the first `types.count` fields) and `offsets`
    /// (where each of those fields starts, from the record's start); false unless it is as SQLite
    /// writes it: minimal varints, at most `columns` fields, the fields filling `payload` bytes.
    static func fieldOffsets(_ record: UnsafeRawBufferPointer, payload: Int, columns: Int,
                             types: inout [UInt64], offsets: inout [Int]) -> Bool {
        guard let (headerSize, first) = RecordFormat.minimalVarint(record, 0, end: record.count), headerSize <= UInt64(record.count) else { return false }
        var (at, field, body) = (first, 0, Int(headerSize))
        while at < Int(headerSize) {
            guard field < columns, let (type, length) = RecordFormat.minimalVarint(record, at, end: Int(headerSize)), type != 10, type != 11,
                  type <= UInt64(Int32.max) else { return false }
            if field < types.count {
                types[field] = type
                offsets[field] = body
            }
            body += RecordFormat.fieldSize(type)
            guard body <= payload else { return false }
            (at, field) = (at + length, field + 1)
        }
        // A field the header does not name (a record older than a column) is not read here.
        for missing in min(field, types.count)..<types.count { types[missing] = .max }
        return at == Int(headerSize) && body == payload
    }

    /// The entry of `keyFields` and the rowid, encoded into `entry` (grown as needed): its size,
    /// 0 for a NULL (or NaN) key, nil when a field is not on the leaf or not in the header.
    private func encode(_ record: UnsafeRawBufferPointer, _ keyFields: [Int], _ rowid: Int64,
                        _ types: [UInt64], _ offsets: [Int], into entry: inout [UInt8]) -> Int? {
        var needed = 9
        for field in keyFields {
            guard types[field] != .max else { return nil }
            let size = RecordFormat.fieldSize(types[field])
            guard offsets[field] + size <= record.count else { return nil }  // spilled: not read here
            needed += 9 + size
        }
        if entry.count < needed { entry = [UInt8](repeating: 0, count: needed * 2) }
        return entry.withUnsafeMutableBytes { buffer -> Int? in
            var writer = EntryDigest.EntryWriter(buffer)
            for field in keyFields {
                let type = types[field]
                let bytes = UnsafeRawBufferPointer(rebasing: record[offsets[field]..<(offsets[field] + RecordFormat.fieldSize(type))])
                // A NULL key, or a NaN, which SQLite reads as NULL (the header held no reserved type).
                guard writer.putField(type, bytes) else { return 0 }
            }
            writer.put(.integer, UInt64(bitPattern: rowid))
            return writer.overflowed ? nil : writer.count
        }
    }
}
