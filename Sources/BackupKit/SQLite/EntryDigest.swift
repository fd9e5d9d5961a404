import CBlake3
import Foundation
import CSQLite

/// A keyed digest of a multiset of index entries, as the SQL aggregate
/// `backup_entry_digest(order, k1, …, kn, rowid)`. Run over a table's rows (the entries its
/// index should hold) and over the index itself (the entries it holds, in b-tree order), equal
/// digests mean equal multisets of values read, with a forgery chance of 2^-128 for anyone who
/// does not know the key (a random one per check). It lets the split integrity check compare
/// an index with its table by two sequential scans instead of a seek per row.
///
/// An entry is hashed from its values exactly as read: type and bytes. Equal bytes compare
/// equal; but reading an index entry shows its first n fields and its last (the rowid), not
/// what may lie between, so the aggregate also sums the size of the smallest record that holds
/// each entry's values (`bytes`), which the caller compares with the index's stored payload
/// (dbstat): every record is at least that size, and only a record of exactly the n + 1 fields
/// read is no larger. With `order` the aggregate checks the entries come in strictly ascending
/// order under BINARY (a b-tree seek finds every entry of an index whose in-order sequence is
/// sorted), and with `order` 2 that no two entries share their key (a UNIQUE index).
///
/// A row is only counted, not hashed, when a key reads NULL (a NaN stored in a record reads as
/// NULL yet compares unlike one), or when its last key is an integer equal to its rowid (a
/// record one field short reads back the same way): a table with such rows is left to
/// `integrity_check(T)`.
struct EntryDigest: Equatable {
    /// Rows (or index entries) the aggregate saw.
    var rows: Int64 = 0
    /// Those without a NULL in a key, hashed into `high` and `low`.
    var hashed: Int64 = 0
    var high: UInt64 = 0
    var low: UInt64 = 0
    /// Whether an entry hashed (with `order`) did not follow the previous one as it must.
    var disordered = false
    /// The sum of the smallest record sizes of the entries hashed.
    var bytes: Int64 = 0

    static let function = "backup_entry_digest"

    enum Order: Int64 {
        /// Table rows: any order.
        case none = 0
        /// Index entries: strictly ascending.
        case ascending = 1
        /// UNIQUE index entries: strictly ascending, and their keys (without the rowid) too.
        case uniqueKeys = 2
    }

    /// Adds another range's digest (the sums are modulo 2^64, so ranges combine in any order).
    mutating func add(_ other: EntryDigest) {
        rows &+= other.rows
        hashed &+= other.hashed
        high &+= other.high
        low &+= other.low
        disordered = disordered || other.disordered
        bytes &+= other.bytes
    }

    /// Whether every entry was hashed (none had a NULL key) and none was out of order.
    var plain: Bool { hashed == rows && !disordered }

    /// The aggregate's result: six numbers, 8 bytes each, big-endian.
    init?(_ value: SQLiteValue) {
        guard case .blob(let result) = value, result.count == 48 else { return nil }
        func word(_ k: Int) -> UInt64 { result[k * 8..<k * 8 + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        (rows, hashed, high, low) = (Int64(bitPattern: word(0)), Int64(bitPattern: word(1)), word(2), word(3))
        disordered = word(4) != 0
        bytes = Int64(bitPattern: word(5))
    }

    init() {}

    /// Makes `backup_entry_digest` callable on `connection`, keyed with `key` (32 bytes).
    static func register(on connection: SQLiteConnection, key: [UInt8]) throws {
        precondition(key.count == 32)
        let state = UnsafeMutableRawPointer.allocate(byteCount: 32, alignment: 8)
        key.withUnsafeBytes { state.copyMemory(from: $0.baseAddress!, byteCount: 32) }
        let rc = sqlite3_create_function_v2(
            connection.handle, function, -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, state, nil,
            { context, count, arguments in EntryDigest.step(context!, Int(count), arguments!) },
            { context in EntryDigest.final(context!) },
            { state in state?.deallocate() })
        guard rc == SQLITE_OK else {
            state.deallocate()
            try connection.check(rc, context: "registering \(function)")
            return
        }
    }

    /// The running state, in SQLite's per-aggregate memory (zeroed when first asked for). The
    /// previous entry, encoded, lives in SQLite's heap and is freed by `final`.
    private struct State {
        var rows: Int64
        var hashed: Int64
        var high: UInt64
        var low: UInt64
        var disordered: Int64
        var bytes: Int64
        var previous: UnsafeMutableRawPointer?
        var previousLength: Int
        var previousCapacity: Int
    }

    /// Type tags, in SQLite's order of types (numbers, then text, then blobs).
    private enum Tag: UInt8 { case integer = 1, real = 2, text = 3, blob = 4 }

    private static func step(_ context: OpaquePointer, _ count: Int, _ arguments: UnsafeMutablePointer<OpaquePointer?>) {
        guard count >= 3, let memory = sqlite3_aggregate_context(context, Int32(MemoryLayout<State>.size)),
              sqlite3_value_type(arguments[0]) == SQLITE_INTEGER, let order = Order(rawValue: sqlite3_value_int64(arguments[0])) else {
            return sqlite3_result_error(context, "\(function) takes an order, key values, then a rowid", -1)
        }
        let state = memory.bindMemory(to: State.self, capacity: 1)
        state.pointee.rows &+= 1
        let fields = count - 1
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: fields) { types in
            // Each field: a type tag, then 8 bytes (a number, or the length of the bytes that
            // follow). Types are read once: asking for a text's bytes marks it a blob as well.
            var size = 0
            for k in 0..<fields {
                let value = arguments[1 + k]
                types[k] = sqlite3_value_type(value)
                switch types[k] {
                case SQLITE_NULL:
                    if k == fields - 1 { sqlite3_result_error(context, "\(function): a rowid is NULL", -1) }
                    return
                case SQLITE_TEXT, SQLITE_BLOB:
                    _ = sqlite3_value_blob(value)  // the bytes as stored, before asking their length
                    size += 9 + Int(sqlite3_value_bytes(value))
                default:
                    size += 9
                }
            }
            guard types[fields - 1] == SQLITE_INTEGER else {
                return sqlite3_result_error(context, "\(function): a rowid is not an integer", -1)
            }
            if types[fields - 2] == SQLITE_INTEGER && sqlite3_value_int64(arguments[fields - 1]) == sqlite3_value_int64(arguments[fields]) {
                return
            }
            var record = 0, header = 0
            for k in 0..<fields {
                let (type, length) = serialType(arguments[1 + k], types[k])
                header += varintLength(type)
                record += length
            }
            // The header's own size comes first, as a varint counting itself.
            var headerSize = header + 1
            while varintLength(UInt64(headerSize)) + header != headerSize { headerSize = varintLength(UInt64(headerSize)) + header }
            state.pointee.bytes &+= Int64(headerSize + record)
            withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
                var at = 0
                func put(_ tag: Tag, _ word: UInt64) {
                    buffer[at] = tag.rawValue
                    buffer.storeBytes(of: word.littleEndian, toByteOffset: at + 1, as: UInt64.self)
                    at += 9
                }
                for k in 0..<fields {
                    let value = arguments[1 + k]
                    switch types[k] {
                    case SQLITE_INTEGER: put(.integer, UInt64(bitPattern: sqlite3_value_int64(value)))
                    case SQLITE_FLOAT: put(.real, sqlite3_value_double(value).bitPattern)
                    default:
                        let length = Int(sqlite3_value_bytes(value))
                        put(types[k] == SQLITE_TEXT ? .text : .blob, UInt64(length))
                        if length > 0, let bytes = sqlite3_value_blob(value) {
                            buffer.baseAddress!.advanced(by: at).copyMemory(from: bytes, byteCount: length)
                        }
                        at += length
                    }
                }
                let entry = UnsafeRawBufferPointer(start: buffer.baseAddress, count: at)
                var out = (UInt64(0), UInt64(0))
                withUnsafeMutableBytes(of: &out) { digest in
                    sqlite_backup_blake3_keyed16(sqlite3_user_data(context).assumingMemoryBound(to: UInt8.self),
                                                 entry.baseAddress!.assumingMemoryBound(to: UInt8.self), at,
                                                 digest.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
                state.pointee.hashed &+= 1
                state.pointee.high &+= out.0
                state.pointee.low &+= out.1
                guard order != .none else { return }
                if let previous = state.pointee.previous {
                    let before = UnsafeRawBufferPointer(start: previous, count: state.pointee.previousLength)
                    let (sign, sameKeys) = compare(before, entry, keys: fields - 1)
                    if sign >= 0 || (order == .uniqueKeys && sameKeys) { state.pointee.disordered = 1 }
                }
                if state.pointee.previousCapacity < at {
                    let capacity = max(at, 64, state.pointee.previousCapacity * 2)
                    guard let grown = sqlite3_realloc64(state.pointee.previous, sqlite3_uint64(capacity)) else {
                        return sqlite3_result_error_nomem(context)
                    }
                    (state.pointee.previous, state.pointee.previousCapacity) = (grown, capacity)
                }
                state.pointee.previous!.copyMemory(from: entry.baseAddress!, byteCount: at)
                state.pointee.previousLength = at
            }
        }
    }

    /// How entry `a` compares with entry `b` field by field, as SQLite compares records under
    /// BINARY (neither holds a NULL or a NaN): the sign, and whether their first `keys` fields
    /// are equal.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, keys: Int) -> (sign: Int, sameKeys: Bool) {
        var (i, j, field) = (0, 0, 0)
        while i < a.count && j < b.count {
            let sign = compareField(a, &i, b, &j)
            if sign != 0 { return (sign, field >= keys) }
            field += 1
        }
        return (Self.sign(a.count - i, b.count - j), field >= keys)
    }

    /// Compares the fields at `i` in `a` and `j` in `b`, and moves both past them.
    private static func compareField(_ a: UnsafeRawBufferPointer, _ i: inout Int, _ b: UnsafeRawBufferPointer, _ j: inout Int) -> Int {
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

    /// The serial type SQLite's smallest record gives a value (`sqlite3VdbeSerialType`, with
    /// 0 and 1 in no bytes), and its size in the record's body.
    private static func serialType(_ value: OpaquePointer?, _ type: Int32) -> (type: UInt64, size: Int) {
        switch type {
        case SQLITE_INTEGER:
            let i = sqlite3_value_int64(value)
            if i == 0 || i == 1 { return (UInt64(8 + i), 0) }
            let u = i < 0 ? ~i : i
            if u <= 127 { return (1, 1) }
            if u <= 32767 { return (2, 2) }
            if u <= 8_388_607 { return (3, 3) }
            if u <= 2_147_483_647 { return (4, 4) }
            if u <= (Int64(1) << 47) - 1 { return (5, 6) }
            return (6, 8)
        case SQLITE_FLOAT: return (7, 8)
        default:
            let n = Int(sqlite3_value_bytes(value))
            return (UInt64(2 * n + (type == SQLITE_TEXT ? 13 : 12)), n)
        }
    }

    /// Bytes of SQLite's varint of `value`: 7 bits a byte, the ninth byte 8.
    private static func varintLength(_ value: UInt64) -> Int {
        var (v, n) = (value, 1)
        while v > 0x7F && n < 9 { v >>= 7; n += 1 }
        return n
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

    private static func final(_ context: OpaquePointer) {
        var state = State(rows: 0, hashed: 0, high: 0, low: 0, disordered: 0, bytes: 0, previous: nil, previousLength: 0, previousCapacity: 0)
        if let memory = sqlite3_aggregate_context(context, 0) {
            state = memory.bindMemory(to: State.self, capacity: 1).pointee
            sqlite3_free(state.previous)
            memory.bindMemory(to: State.self, capacity: 1).pointee.previous = nil
        }
        var result = [UInt8]()
        result.reserveCapacity(48)
        for word in [UInt64(bitPattern: state.rows), UInt64(bitPattern: state.hashed), state.high, state.low, UInt64(state.disordered),
                     UInt64(bitPattern: state.bytes)] {
            result += (0..<8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * $0)) }
        }
        sqlite3_result_blob(context, result, 48, CSQLite_transient())
    }
}
