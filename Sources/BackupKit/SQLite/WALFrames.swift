import Foundation

/// The frames of a SQLite WAL file that make one committed state: those up to the last frame
/// the wal-index publishes (`WALIndexHeader`), checked as SQLite's own recovery checks them
/// (https://sqlite.org/fileformat2.html#walformat): a valid header, then frames whose salts
/// match it and whose cumulative checksums hold. Frames after it (a transaction being written,
/// one written but not yet published, or frames left by a rollback) are never read.
struct WALFrames: Equatable {
    /// Bytes of the WAL header and of each frame's header.
    static let headerSize = 32
    static let frameHeaderSize = 24

    let pageSize: Int
    let salt1: UInt32
    let salt2: UInt32
    /// Committed frames (1-based count): frames 1...count make the newest committed state.
    let count: Int
    /// The database's size in pages after the last commit (nil: no committed frame).
    let pageCount: Int64?
    /// For each page, the number of its newest committed frame.
    let newest: [UInt32: Int]

    /// No WAL, or a WAL with no committed frame: the database file alone is the state.
    static let empty = WALFrames(pageSize: 0, salt1: 0, salt2: 0, count: 0, pageCount: nil, newest: [:])

    /// Where frame `number`'s page data starts in the WAL file.
    func dataOffset(ofFrame number: Int) -> Int64 {
        Int64(Self.headerSize) + Int64(number - 1) * Int64(Self.frameHeaderSize + pageSize) + Int64(Self.frameHeaderSize)
    }

    /// Frames 1...`index.mxFrame` of the WAL at `path`: the state the wal-index header `index`
    /// publishes, checked as SQLite's recovery would check it (salts, cumulative checksums,
    /// the last frame a commit of `index.pageCount` pages whose checksum is the one published).
    /// Frames after it are not read. Returns nil when the WAL was restarted since `index` was
    /// taken (its salts are others now; see `FrameState.restarted`). Throws `what` when the WAL
    /// does not hold what its index publishes, or is of another page size than the database.
    static func read(_ path: String, databasePageSize: Int, index: WALIndexHeader,
                     what: (String) -> BackupError) throws -> WALFrames? {
        guard index.mxFrame > 0 else { return .empty }
        guard index.pageSize == databasePageSize else {
            throw what("its wal-index is of page size \(index.pageSize), the database's \(databasePageSize)")
        }
        let file = try FileDescriptor.openForReading(path)
        func readHeader() throws -> [UInt8]? {
            var header = [UInt8](repeating: 0, count: headerSize)
            return try header.withUnsafeMutableBytes({ try file.read(into: $0, at: 0) }) == headerSize ? header : nil
        }
        guard let header = try readHeader() else {
            throw what("its WAL is shorter than its header, where the wal-index publishes \(index.mxFrame) frames")
        }
        guard header[16..<24] == index.salts else { return nil }
        let magic = u32(header, 0)
        guard magic == 0x377f_0682 || magic == 0x377f_0683 else { throw what("its WAL has no WAL header") }
        guard Int(u32(header, 8)) == databasePageSize else {
            throw what("its WAL is of page size \(u32(header, 8)), the database's \(databasePageSize)")
        }
        var sums = Checksum(bigEndian: magic & 1 == 1)
        sums.add(header[0..<24])
        guard u32(header, 24) == sums.s0, u32(header, 28) == sums.s1 else { throw what("its WAL header's checksum does not hold") }
        let salt1 = u32(header, 16), salt2 = u32(header, 20)

        var newest: [UInt32: Int] = [:]
        var frame = [UInt8](repeating: 0, count: frameHeaderSize + databasePageSize)
        var lastTruncate: UInt32 = 0
        for number in 1...index.mxFrame {
            let at = Int64(headerSize) + Int64(number - 1) * Int64(frame.count)
            let complete = try frame.withUnsafeMutableBytes({ try file.read(into: $0, at: at) }) == frame.count
            var next = sums
            if complete {
                next.add(frame[0..<8])
                next.add(frame[frameHeaderSize...])
            }
            guard complete, u32(frame, 8) == salt1, u32(frame, 12) == salt2, u32(frame, 16) == next.s0, u32(frame, 20) == next.s1,
                  u32(frame, 0) > 0 else {
                // Restarted meanwhile (frames overwritten under new salts), or not what was published.
                if try readHeader().map({ $0[16..<24] != index.salts }) ?? true { return nil }
                throw what("its WAL does not hold frame \(number) of the \(index.mxFrame) its wal-index publishes")
            }
            sums = next
            newest[u32(frame, 0)] = number
            lastTruncate = u32(frame, 4)
        }
        guard (sums.s0, sums.s1) == index.frameChecksum, lastTruncate > 0, Int64(lastTruncate) == index.pageCount else {
            throw what("its WAL's frame \(index.mxFrame) is not the commit its wal-index publishes")
        }
        newest = newest.filter { Int64($0.key) <= index.pageCount }
        return WALFrames(pageSize: databasePageSize, salt1: salt1, salt2: salt2, count: index.mxFrame,
                         pageCount: index.pageCount, newest: newest)
    }

    /// What a frame's header, read again after its data, says of that data.
    enum FrameState {
        /// Still `page` under these salts: the data read is the frame's.
        case intact
        /// Under other salts (or gone): the WAL was restarted meanwhile. SQLite restarts it only
        /// while no reader uses its frames, so this reader holds READ_LOCK(0), under which no
        /// checkpoint writes the database file: the page is read from the file instead.
        case restarted
        /// The same salts but another page: not a state SQLite makes.
        case changed
    }

    /// Frame `number`'s header, read after its data (SQLite writes a frame's header before its data).
    func state(ofFrame number: Int, page: UInt32, in file: FileDescriptor) throws -> FrameState {
        var header = [UInt8](repeating: 0, count: Self.frameHeaderSize)
        let at = dataOffset(ofFrame: number) - Int64(Self.frameHeaderSize)
        guard try header.withUnsafeMutableBytes({ try file.read(into: $0, at: at) }) == Self.frameHeaderSize else { return .restarted }
        guard Self.u32(header, 8) == salt1 && Self.u32(header, 12) == salt2 else { return .restarted }
        return Self.u32(header, 0) == page ? .intact : .changed
    }

    static func u32<C: RandomAccessCollection>(_ bytes: C, _ at: Int) -> UInt32 where C.Element == UInt8, C.Index == Int {
        let base = bytes.startIndex + at
        return UInt32(bytes[base]) << 24 | UInt32(bytes[base + 1]) << 16 | UInt32(bytes[base + 2]) << 8 | UInt32(bytes[base + 3])
    }

    /// The WAL checksum: two 32-bit sums over pairs of words, in the byte order the magic names.
    struct Checksum {
        let bigEndian: Bool
        var s0: UInt32 = 0
        var s1: UInt32 = 0

        mutating func add(_ bytes: ArraySlice<UInt8>) {
            bytes.withUnsafeBytes { raw in
                let words = raw.count / 8
                var (a, b) = (s0, s1)
                for i in 0..<words {
                    let w0 = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt32.self)
                    let w1 = raw.loadUnaligned(fromByteOffset: i * 8 + 4, as: UInt32.self)
                    let x0 = bigEndian ? UInt32(bigEndian: w0) : UInt32(littleEndian: w0)
                    let x1 = bigEndian ? UInt32(bigEndian: w1) : UInt32(littleEndian: w1)
                    a = a &+ x0 &+ b
                    b = b &+ x1 &+ a
                }
                (s0, s1) = (a, b)
            }
        }
    }
}
