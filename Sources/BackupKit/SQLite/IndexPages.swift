/// An index b-tree's records read straight from the database file, in the b-tree's order, for
/// the split integrity check: the exact records `OP_Found` compares, which reading an index
/// through SQL does not show (it reads the first key fields and the last field, not what a
/// record's header says lies between or whether its fields fill its payload).
///
/// Only for a file nothing writes (a restore being checked) and after nothing: anything outside
/// the file format as SQLite writes it (a page number out of range or seen twice, a cell past
/// its page or over another, a payload size not in its fewest bytes, which SQLite's b-tree and
/// dbstat read apart, a b-tree deeper than SQLite builds, an overflow chain of the wrong length)
/// is an `Anomaly`, and the caller lets SQLite's own check decide. Records follow
/// https://www.sqlite.org/fileformat2.html.
struct IndexPages {
    struct Anomaly: Error, CustomStringConvertible {
        let description: String
    }

    /// What a walk saw: to set beside dbstat's count of the same b-tree.
    struct Walk: Equatable {
        var cells: Int64 = 0
        var payload: Int64 = 0
        var pages: Int64 = 0
    }

    private let file: FileDescriptor
    private let pageSize: Int
    /// Bytes of a page b-trees use (the page less its reserved bytes).
    private let usable: Int
    private let pageCount: Int64

    init(path: String) throws {
        let file = try FileDescriptor.openForReading(path)
        self.file = file
        var header = [UInt8](repeating: 0, count: 100)
        let read = try header.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        guard read == 100, header.starts(with: Array("SQLite format 3\0".utf8)) else { throw Anomaly(description: "no SQLite header") }
        let stored = Int(header[16]) << 8 | Int(header[17])
        let size = stored == 1 ? 65536 : stored
        guard size >= 512, size <= 65536, size & (size - 1) == 0 else { throw Anomaly(description: "page size \(stored)") }
        let usable = size - Int(header[20])
        guard usable >= 480 else { throw Anomaly(description: "usable page size \(usable)") }
        (pageSize, self.usable) = (size, usable)
        pageCount = (Files.size(path) ?? 0) / Int64(size)
    }

    /// Calls `record` with each record's payload (whole, overflow included), in order: an
    /// interior page's cells between its children's.
    func walk(root: Int64, _ record: (UnsafeRawBufferPointer) throws -> Void) throws -> Walk {
        var walk = Walk()
        var seen = Set<Int64>()
        var pages: [[UInt8]] = []  // one buffer a level: a parent's page stays while its children are read
        var payload: [UInt8] = []  // a record spilling to overflow pages, put together
        var overflow = [UInt8](repeating: 0, count: pageSize)

        func use(_ page: Int64) throws {
            guard page >= 2, page <= pageCount, seen.insert(page).inserted else { throw Anomaly(description: "page \(page) out of range or seen twice") }
            walk.pages += 1
        }

        func visit(_ number: Int64, depth: Int) throws {
            // SQLite's cursor stops at 20 levels (BTCURSOR_MAX_DEPTH).
            guard depth < 19 else { throw Anomaly(description: "a b-tree deeper than 19") }
            try use(number)
            if pages.count <= depth { pages.append([UInt8](repeating: 0, count: pageSize)) }
            let read = try pages[depth].withUnsafeMutableBytes { try file.read(into: $0, at: (number - 1) * Int64(pageSize)) }
            guard read == pageSize else { throw Anomaly(description: "page \(number) is short") }
            let kind = pages[depth][0]
            guard kind == 0x02 || kind == 0x0A else { throw Anomaly(description: "page \(number) is not an index page") }
            let interior = kind == 0x02
            let headerSize = interior ? 12 : 8
            let cells = Int(pages[depth][3]) << 8 | Int(pages[depth][4])
            guard headerSize + 2 * cells <= usable else { throw Anomaly(description: "page \(number) lists too many cells") }
            // Only an empty index's root leaf may hold no cell: a cursor stops on any other page without one.
            guard cells > 0 || (depth == 0 && !interior) else { throw Anomaly(description: "page \(number) holds no cell") }
            var extents: [(start: Int, end: Int)] = []
            extents.reserveCapacity(cells)
            for n in 0..<cells {
                let at = Int(pages[depth][headerSize + 2 * n]) << 8 | Int(pages[depth][headerSize + 2 * n + 1])
                guard at >= headerSize + 2 * cells, at < usable else { throw Anomaly(description: "a cell of page \(number) lies outside it") }
                var offset = at
                if interior {
                    guard offset + 4 <= usable else { throw Anomaly(description: "a cell of page \(number) is cut") }
                    try visit(Int64(RecordFormat.uint32(pages[depth], offset)), depth: depth + 1)
                    offset += 4
                }
                guard let (size, length) = pages[depth].withUnsafeBytes({ RecordFormat.varint($0, offset, end: usable) }) else {
                    throw Anomaly(description: "a varint runs past its bounds")
                }
                guard length == 1 || pages[depth][offset] != 0x80, size <= UInt64(Int32.max) else {
                    throw Anomaly(description: "a payload size of \(size) bytes in \(length) bytes")
                }
                offset += length
                let total = Int(size)
                let keep = RecordFormat.localPayload(total, tableLeaf: false, usableSize: usable)
                guard offset + keep + (keep < total ? 4 : 0) <= usable else { throw Anomaly(description: "a cell of page \(number) is cut") }
                extents.append((at, offset + keep + (keep < total ? 4 : 0)))
                walk.cells += 1
                walk.payload += Int64(total)
                if keep == total {
                    try pages[depth].withUnsafeBytes { try record(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + total)])) }
                    continue
                }
                payload.removeAll(keepingCapacity: true)
                payload += pages[depth][offset..<(offset + keep)]
                var next = Int64(RecordFormat.uint32(pages[depth], offset + keep))
                while payload.count < total {
                    try use(next)
                    let got = try overflow.withUnsafeMutableBytes { try file.read(into: $0, at: (next - 1) * Int64(pageSize)) }
                    guard got == pageSize else { throw Anomaly(description: "overflow page \(next) is short") }
                    payload += overflow[4..<(4 + min(usable - 4, total - payload.count))]
                    next = Int64(RecordFormat.uint32(overflow, 0))
                }
                guard next == 0 else { throw Anomaly(description: "an overflow chain runs on past its payload") }
                try payload.withUnsafeBytes { try record($0) }
            }
            // SQLite places cells from the page's end down in pointer order: sorted only when not so.
            if zip(extents, extents.dropFirst()).contains(where: { $0.start < $1.end }) {
                extents.sort { $0.start < $1.start }
                for (a, b) in zip(extents, extents.dropFirst()) where a.end > b.start {
                    throw Anomaly(description: "cells of page \(number) overlap")
                }
            }
            if interior { try visit(Int64(RecordFormat.uint32(pages[depth], 8)), depth: depth + 1) }
        }

        try visit(root, depth: 0)
        return walk
    }
}
