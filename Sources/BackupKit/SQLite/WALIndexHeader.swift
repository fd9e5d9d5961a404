/// The header of the wal-index (`-shm`) that SQLite publishes a WAL database's committed state
/// in (https://sqlite.org/walformat.html#the_wal_index_file_format): the last committed frame
/// `mxFrame`, the database's size in pages after it, the WAL's salts and the cumulative
/// checksum of that frame. A reader's transaction takes this header when it starts, so the
/// same header read just before and just after the transaction starts is the transaction's.
/// The frames a writer appended but has not published yet (they may sit in the WAL file a
/// whole fsync before) are past `mxFrame` and belong to no state SQLite has acknowledged.
///
/// SQLite writes two copies and a checksum in its native byte order; a torn, uninitialised or
/// damaged header reads as nil (the caller tries again), never as a state.
struct WALIndexHeader: Equatable {
    static let size = 48
    /// The 48 bytes of the first copy.
    let bytes: [UInt8]

    var mxFrame: Int { Int(word(16)) }
    /// The database's size in pages after frame `mxFrame`.
    var pageCount: Int64 { Int64(word(20)) }
    var frameChecksum: (UInt32, UInt32) { (word(24), word(28)) }
    /// The WAL header's salts, as its bytes 16..<24 hold them.
    var salts: ArraySlice<UInt8> { bytes[32..<40] }
    /// The page size (stored as (size & 0xff00) | (size >> 16), so 65536 fits 16 bits).
    var pageSize: Int {
        let stored = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 14, as: UInt16.self) })
        return (stored & 0xfe00) + ((stored & 1) << 16)
    }

    /// The header in the `-shm` file open as `file`, or nil when there is none usable now.
    /// The descriptor must stay open while this process has a connection to the database:
    /// SQLite's read locks are POSIX locks on this file, and closing any descriptor of it
    /// drops them all (`SQLiteSnapshotSource.keepOpen`).
    static func read(_ file: FileDescriptor?) -> WALIndexHeader? {
        guard let file else { return nil }
        var both = [UInt8](repeating: 0, count: 2 * size)
        guard (try? both.withUnsafeMutableBytes({ try file.read(into: $0, at: 0) })) == 2 * size,
              both[0..<size] == both[size...] else { return nil }
        let header = WALIndexHeader(bytes: Array(both[0..<size]))
        guard header.word(0) == 3_007_000, header.bytes[12] == 1 else { return nil }
        var sums = WALFrames.Checksum(bigEndian: 1.bigEndian == 1)
        sums.add(header.bytes[0..<40])
        guard sums.s0 == header.word(40), sums.s1 == header.word(44) else { return nil }
        return header
    }

    /// A native-order 32-bit field.
    private func word(_ offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }

    static func == (a: WALIndexHeader, b: WALIndexHeader) -> Bool { a.bytes == b.bytes }
}
