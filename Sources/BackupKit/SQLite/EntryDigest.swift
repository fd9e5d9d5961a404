import CBlake3
import CSQLite
import Foundation

/// A keyed digest of a multiset of index entries. The table side is the SQL aggregate
/// `backup_entry_digest(k1, …, kn, rowid)` over a table's rows (the entries an index should
/// hold, as `integrity_check` builds them: the columns as read, then the rowid); the index side
/// is `add(record:)` over the index's records as stored, in b-tree order (`IndexPages`). Equal
/// digests mean equal multisets of entries, with a forgery chance of 2^-128 for anyone who does
/// not know the key (a random one per check), so the split integrity check compares an index
/// with its table by two sequential reads instead of a seek per row.
///
/// An entry is hashed from its values: type and bytes. Equal bytes compare equal under any
/// collation, so equal digests mean every entry `OP_Found` looks for is in the index. The index
/// side also checks its records are plain (exactly the key fields and a rowid, filling the
/// payload, no NULL, no NaN) and come in strictly ascending order under BINARY (a b-tree seek
/// finds every record of an index whose in-order sequence is sorted), and for a UNIQUE index
/// that no two share their key. A row with a NULL key is only counted, not hashed: a NaN stored
/// in a record reads as NULL yet compares unlike one, so such a table is left to
/// `integrity_check(T)`, as is any index whose digest does not come out plainly equal.
struct EntryDigest: Equatable {
    /// Rows (or records) seen.
    var rows: Int64 = 0
    /// Those hashed: on the table side, rows without a NULL key; on the index side, plain records.
    var hashed: Int64 = 0
    var high: UInt64 = 0
    var low: UInt64 = 0
    /// Whether a record (index side) did not follow the previous one as it must.
    var disordered = false

    static let function = "backup_entry_digest"

    /// Adds another range's digest (the sums are modulo 2^64, so ranges combine in any order).
    mutating func add(_ other: EntryDigest) {
        rows &+= other.rows
        hashed &+= other.hashed
        high &+= other.high
        low &+= other.low
        disordered = disordered || other.disordered
    }

    /// Whether every row or record was hashed and none was out of order.
    var plain: Bool { hashed == rows && !disordered }

    init() {}

    /// The aggregate's result: four numbers, 8 bytes each, big-endian.
    init?(_ value: SQLiteValue) {
        guard case .blob(let result) = value, result.count == 32 else { return nil }
        func word(_ k: Int) -> UInt64 { result[k * 8..<k * 8 + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        (rows, hashed, high, low) = (Int64(bitPattern: word(0)), Int64(bitPattern: word(1)), word(2), word(3))
    }

    // MARK: Entries

    /// Type tags of an encoded entry's fields, in SQLite's order of types (numbers, then text,
    /// then blobs). Each field is a tag, then 8 bytes little-endian (the number, or the length
    /// of the bytes that follow).
    enum Tag: UInt8 { case integer = 1, real = 2, text = 3, blob = 4 }

    /// Puts an entry together, in memory at least the size its fields need: each field's tag,
    /// then 8 bytes little-endian, then a text's or blob's bytes. Both sides of a digest encode
    /// with it.
    struct EntryWriter {
        private let buffer: UnsafeMutableRawBufferPointer
        private(set) var count = 0
        /// Whether a field did not fit (and was left out).
        private(set) var overflowed = false

        init(_ buffer: UnsafeMutableRawBufferPointer) {
            self.buffer = buffer
        }

        mutating func put(_ tag: Tag, _ word: UInt64, _ bytes: UnsafeRawBufferPointer? = nil) {
            guard buffer.count - count >= 9 + (bytes?.count ?? 0) else {
                overflowed = true
                return
            }
            buffer[count] = tag.rawValue
            buffer.storeBytes(of: word.littleEndian, toByteOffset: count + 1, as: UInt64.self)
            count += 9
            if let bytes, let start = bytes.baseAddress {
                (buffer.baseAddress! + count).copyMemory(from: start, byteCount: bytes.count)
                count += bytes.count
            }
        }
    }

    // MARK: The table side, in SQL

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

    /// The running counts and the hasher (retained, released by `final`), in SQLite's
    /// per-aggregate memory (zeroed when first asked for). SQLite calls `final` for every
    /// aggregate `step` began, even when the statement ends early.
    private struct Sums { var rows: Int64; var hashed: Int64; var hasher: UnsafeMutableRawPointer? }

    private static func step(_ context: OpaquePointer, _ count: Int, _ arguments: UnsafeMutablePointer<OpaquePointer?>) {
        guard count >= 2, let memory = sqlite3_aggregate_context(context, Int32(MemoryLayout<Sums>.size)) else {
            return sqlite3_result_error(context, "\(function) takes key values then a rowid", -1)
        }
        let sums = memory.bindMemory(to: Sums.self, capacity: 1)
        sums.pointee.rows &+= 1
        // The entry's size first, so it is put together in place (on the stack when small).
        var size = 0
        for k in 0..<count {
            switch sqlite3_value_type(arguments[k]) {
            case SQLITE_NULL:
                if k == count - 1 { sqlite3_result_error(context, "\(function): a rowid is NULL", -1) }
                return
            case SQLITE_INTEGER, SQLITE_FLOAT: size += 9
            default: size += 9 + Int(sqlite3_value_bytes(arguments[k]))
            }
        }
        guard sqlite3_value_type(arguments[count - 1]) == SQLITE_INTEGER else {
            return sqlite3_result_error(context, "\(function): a rowid is not an integer", -1)
        }
        if sums.pointee.hasher == nil {
            let key = UnsafeRawBufferPointer(start: sqlite3_user_data(context), count: 32)
            sums.pointee.hasher = Unmanaged.passRetained(EntryHasher(key: key)).toOpaque()
        }
        let hasher = Unmanaged<EntryHasher>.fromOpaque(sums.pointee.hasher!).takeUnretainedValue()
        withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
            var entry = EntryWriter(buffer)
            for k in 0..<count {
                let value = arguments[k]
                switch sqlite3_value_type(value) {
                case SQLITE_INTEGER: entry.put(.integer, UInt64(bitPattern: sqlite3_value_int64(value)))
                case SQLITE_FLOAT: entry.put(.real, sqlite3_value_double(value).bitPattern)
                case let type:
                    // The bytes as stored (a text's in the database's encoding, UTF-8 here).
                    let start = sqlite3_value_blob(value)
                    let length = Int(sqlite3_value_bytes(value))
                    entry.put(type == SQLITE_TEXT ? .text : .blob, UInt64(length), UnsafeRawBufferPointer(start: length > 0 ? start : nil, count: length))
                }
            }
            guard !entry.overflowed else {
                return sqlite3_result_error(context, "\(function): a value changed size while read", -1)
            }
            hasher.add(UnsafeRawBufferPointer(rebasing: buffer[0..<entry.count]))
            sums.pointee.hashed &+= 1
        }
    }

    private static func final(_ context: OpaquePointer) {
        let sums = sqlite3_aggregate_context(context, 0)?.bindMemory(to: Sums.self, capacity: 1).pointee
            ?? Sums(rows: 0, hashed: 0, hasher: nil)
        let (high, low) = sums.hasher.map { Unmanaged<EntryHasher>.fromOpaque($0).takeRetainedValue().sums() } ?? (0, 0)
        var result = [UInt8]()
        result.reserveCapacity(32)
        for word in [UInt64(bitPattern: sums.rows), UInt64(bitPattern: sums.hashed), high, low] {
            result += (0..<8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * $0)) }
        }
        sqlite3_result_blob(context, result, 32, CSQLite_transient())
    }
}
