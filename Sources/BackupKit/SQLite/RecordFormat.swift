/// Pieces of SQLite's file format (https://www.sqlite.org/fileformat2.html), read as its b-tree
/// and record code read them: one copy for every reader of raw pages here (`IndexPages`,
/// `IndexRecordDigest`, `PageMap`, `PageAccounting`, `TableRecordDigest`).
enum RecordFormat {
    /// The varint at `at` (7 bits a byte, the ninth byte 8) and its length; nil when it runs
    /// past `end`.
    @inline(__always)
    static func varint(_ bytes: UnsafeRawBufferPointer, _ at: Int, end: Int) -> (value: UInt64, length: Int)? {
        guard at < end else { return nil }
        if bytes[at] < 0x80 { return (UInt64(bytes[at]), 1) }
        var value: UInt64 = 0
        for k in 0..<8 {
            guard at + k < end else { return nil }
            value = value << 7 | UInt64(bytes[at + k] & 0x7F)
            if bytes[at + k] & 0x80 == 0 { return (value, k + 1) }
        }
        guard at + 8 < end else { return nil }
        return (value << 8 | UInt64(bytes[at + 8]), 9)
    }

    /// The same, only in its fewest bytes (no leading 0x80), as SQLite writes it: SQLite's own
    /// readings of a longer one differ (a 9-byte payload size, padded varints in comparisons).
    static func minimalVarint(_ bytes: UnsafeRawBufferPointer, _ at: Int, end: Int) -> (value: UInt64, length: Int)? {
        guard let read = varint(bytes, at, end: end), read.length == 1 || bytes[at] != 0x80 else { return nil }
        return read
    }

    /// The big-endian 4 bytes at `at`: a page number.
    static func uint32<Bytes: RandomAccessCollection>(_ bytes: Bytes, _ at: Int) -> UInt32 where Bytes.Element == UInt8, Bytes.Index == Int {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    /// Bytes of a cell's `total`-byte payload kept on its page, the rest spilling to overflow
    /// pages (`btreeParseCellAdjustSizeForOverflow`): on a table leaf, or an index page, with
    /// `usableSize` usable bytes.
    static func localPayload(_ total: Int, tableLeaf: Bool, usableSize: Int) -> Int {
        let most = tableLeaf ? usableSize - 35 : (usableSize - 12) * 64 / 255 - 23
        guard total > most else { return total }
        let least = (usableSize - 12) * 32 / 255 - 23
        let surplus = least + (total - least) % (usableSize - 4)
        return surplus <= most ? surplus : least
    }

    /// Bytes a record field of serial type `type` holds (none for NULL, the constants 0 and 1,
    /// and the reserved 10 and 11).
    static func fieldSize(_ type: UInt64) -> Int {
        switch type {
        case 0, 8, 9, 10, 11: return 0
        case 1, 2, 3, 4: return Int(type)
        case 5: return 6
        case 6, 7: return 8
        default: return Int((type - 12) / 2)
        }
    }
}

extension EntryDigest.EntryWriter {
    /// Puts a record field of serial type `type`, holding `bytes`, as SQLite reads it; false,
    /// putting nothing, for a NULL (a stored NaN reads as one) and the reserved types.
    mutating func putField(_ type: UInt64, _ bytes: UnsafeRawBufferPointer) -> Bool {
        switch type {
        case 1...6:
            // Big-endian two's complement, sign-extended.
            put(.integer, bytes.reduce(UInt64(bytes[0] & 0x80 != 0 ? UInt64.max : 0)) { $0 << 8 | UInt64($1) })
        case 7:
            let bits = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard !Double(bitPattern: bits).isNaN else { return false }
            put(.real, bits)
        case 8, 9: put(.integer, type - 8)
        case 12...: put(type % 2 == 1 ? .text : .blob, UInt64(bytes.count), bytes)
        default: return false  // NULL, or the reserved 10 and 11
        }
        return true
    }
}
