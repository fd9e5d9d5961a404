import Foundation

/// The index side of an `EntryDigest`: an index's records as stored, fed in b-tree order.
struct IndexRecordDigest {
    /// The counts so far (the sums are the hasher's).
    private var counts = EntryDigest()
    /// Key fields a record holds before its rowid.
    let keys: Int
    /// Whether no two records may share their key fields (a UNIQUE index).
    let unique: Bool
    private let hasher: EntryHasher
    private var entry: [UInt8] = []
    private var previous: [UInt8] = []

    init(keys: Int, unique: Bool, key: [UInt8]) {
        self.keys = keys
        self.unique = unique
        hasher = key.withUnsafeBytes { EntryHasher(key: $0) }
    }

    /// The digest of every record added.
    var digest: EntryDigest {
        var digest = counts
        (digest.high, digest.low) = hasher.sums()
        return digest
    }

    /// Counts a record, and hashes it when it is plain: exactly `keys` fields and an integer
    /// rowid, filling its payload, without NULL or NaN. A plain record must follow the previous
    /// one in strictly ascending order (and with another key in a UNIQUE index).
    mutating func add(record: UnsafeRawBufferPointer) {
        counts.rows += 1
        guard Self.encode(record, fields: keys + 1, into: &entry) else { return }
        entry.withUnsafeBytes { hasher.add($0) }
        counts.hashed += 1
        if !previous.isEmpty {
            let (sign, sameKeys) = Self.compare(previous, entry, keys: keys)
            if sign >= 0 || (unique && sameKeys) { counts.disordered = true }
        }
        swap(&previous, &entry)
    }

    /// A record's fields in `EntryDigest`'s encoding, or false when it is not plain. Plain also
    /// means written as SQLite writes it, which its comparisons assume: every varint of the
    /// header in its fewest bytes, and the header's size in one byte up to 63
    /// (`vdbeRecordCompareInt` reads it as the first byte's low six bits).
    static func encode(_ record: UnsafeRawBufferPointer, fields: Int, into entry: inout [UInt8]) -> Bool {
        entry.removeAll(keepingCapacity: true)
        guard let (headerSize, first) = RecordFormat.minimalVarint(record, 0, end: record.count), first == 1, headerSize <= 63, headerSize <= UInt64(record.count) else {
            return false
        }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: fields) { types in
            var (at, count) = (first, 0)
            while at < Int(headerSize) {
                guard count < fields, let (type, length) = RecordFormat.minimalVarint(record, at, end: Int(headerSize)) else { return false }
                types[count] = type
                (at, count) = (at + length, count + 1)
            }
            guard at == Int(headerSize), count == fields else { return false }
            return encodeBody(record, types: UnsafeBufferPointer(types), from: Int(headerSize), into: &entry)
        }
    }

    /// The fields of the types `types` that a record's body holds from `start`, encoded (by
    /// `EntryDigest.EntryWriter`, as the table side encodes them); false when they are not plain.
    private static func encodeBody(_ record: UnsafeRawBufferPointer, types: UnsafeBufferPointer<UInt64>, from start: Int,
                                   into entry: inout [UInt8]) -> Bool {
        let fields = types.count
        // At most 9 bytes a field and the body's bytes: written in place, then cut to what was written.
        entry.append(contentsOf: repeatElement(0, count: 9 * fields + record.count - start))
        let written: Int? = entry.withUnsafeMutableBytes { buffer in
            var writer = EntryDigest.EntryWriter(buffer)
            var body = start
            for (k, type) in types.enumerated() {
                let size = RecordFormat.fieldSize(type)
                guard size <= record.count - body else { return nil }
                let bytes = UnsafeRawBufferPointer(rebasing: record[body..<(body + size)])
                body += size
                guard writer.putField(type, bytes) else { return nil }  // a NULL, a NaN, a reserved type: not plain
                if k == fields - 1, !(1...6).contains(type), type != 8, type != 9 { return nil }  // the rowid: an integer
            }
            return body == record.count && !writer.overflowed ? writer.count : nil
        }
        guard let written else { return false }
        entry.removeLast(entry.count - written)
        return true
    }

    /// How encoded entry `a` compares with `b` field by field, as SQLite compares records under
    /// BINARY (neither holds a NULL or a NaN): the sign, and whether their first `keys` fields
    /// are equal.
    static func compare(_ a: [UInt8], _ b: [UInt8], keys: Int) -> (sign: Int, sameKeys: Bool) {
        a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                var (i, j, field) = (0, 0, 0)
                while i < a.count && j < b.count {
                    let sign = compareField(a, &i, b, &j)
                    if sign != 0 { return (sign, field >= keys) }
                    field += 1
                }
                return (Self.sign(a.count - i, b.count - j), field >= keys)
            }
        }
    }

    /// Compares the fields at `i` in `a` and `j` in `b`, and moves both past them.
    private static func compareField(_ a: UnsafeRawBufferPointer, _ i: inout Int, _ b: UnsafeRawBufferPointer, _ j: inout Int) -> Int {
        typealias Tag = EntryDigest.Tag
        let (tagA, tagB) = (Tag(rawValue: a[i])!, Tag(rawValue: b[j])!)
        let wordA = UInt64(littleEndian: a.loadUnaligned(fromByteOffset: i + 1, as: UInt64.self))
        let wordB = UInt64(littleEndian: b.loadUnaligned(fromByteOffset: j + 1, as: UInt64.self))
        let (bytesA, bytesB) = (a.baseAddress! + i + 9, b.baseAddress! + j + 9)
        i += 9 + (tagA == .text || tagA == .blob ? Int(wordA) : 0)
        j += 9 + (tagB == .text || tagB == .blob ? Int(wordB) : 0)
        switch (tagA, tagB) {
        case (.integer, .integer): return sign(Int64(bitPattern: wordA), Int64(bitPattern: wordB))
        case (.real, .real): return sign(Double(bitPattern: wordA), Double(bitPattern: wordB))
        case (.integer, .real): return compare(Int64(bitPattern: wordA), Double(bitPattern: wordB))
        case (.real, .integer): return -compare(Int64(bitPattern: wordB), Double(bitPattern: wordA))
        case (.text, .text), (.blob, .blob):
            let common = Int(min(wordA, wordB))
            let bytes = common == 0 ? 0 : memcmp(bytesA, bytesB, common)
            return bytes != 0 ? sign(bytes, 0) : sign(wordA, wordB)
        default:
            // Numbers before text before blobs.
            func rank(_ tag: Tag) -> Int { tag == .text ? 1 : tag == .blob ? 2 : 0 }
            return sign(rank(tagA), rank(tagB))
        }
    }

    private static func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a > b ? 1 : 0 }

    /// An integer against a double (not NaN), exactly, as `sqlite3IntFloatCompare` does.
    static func compare(_ i: Int64, _ r: Double) -> Int {
        if r < -9223372036854775808.0 { return 1 }
        if r >= 9223372036854775808.0 { return -1 }
        let y = Int64(r)  // toward zero; in range after the two tests above
        if i < y { return -1 }
        if i > y { return 1 }
        let s = Double(i)
        return s < r ? -1 : s > r ? 1 : 0
    }
}
