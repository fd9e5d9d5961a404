/// What each page of a database file points to, noted while the file is written in order (a
/// full restore streams it), so the integrity check can account for every page without reading
/// the file once more: the part of `PRAGMA quick_check` that per-table checks
/// (`quick_check(T)`) leave out (`PageAccounting`).
///
/// A page is noted both ways it may be read: as a b-tree page (its children, and the first page
/// and length of each cell's overflow chain, exactly as SQLite's check parses a cell) and as an
/// overflow or free-list trunk page (its first four bytes, the next page). Only pages reached
/// from the roots are read as b-tree pages, so a page that merely looks like one (an overflow
/// page, a free page holding stale cells) adds nothing. A page laid out otherwise than SQLite's
/// check accepts is noted as unreadable. The bytes are not yet authenticated while noted: the
/// map is only believed once the whole file is.
///
/// About 13 bytes a page for a database as SQLite writes it; past `limit` pages, twice as many
/// references (a hostile page can point every cell at one spilling cell), or a page size it
/// cannot read, it stops noting and the check does not split. A file written otherwise (an incremental restore places blocks out
/// of order) is read once more, in stretches on two threads (`init(reading:)`). Used by one
/// thread at a time.
final class PageMap: @unchecked Sendable {
    /// The most pages noted (16 GiB of 4 KiB pages at the default; at most 68 MiB of notes).
    let limit: Int
    /// False once the map cannot describe the file: the check then runs whole.
    private(set) var usable = true
    private(set) var pageSize = 0
    /// Bytes of a page b-trees use (the page less its reserved bytes).
    private(set) var usableSize = 0
    /// The database header (the first 100 bytes), once written.
    private(set) var header: [UInt8] = []
    /// Pages noted so far.
    var pages: Int { kinds.count }

    /// Each page's flag byte when it reads as a b-tree page, `notBTree`, or `unreadable`.
    private var kinds: [UInt8] = []
    /// Each page's first four bytes, big-endian.
    private var next: [UInt32] = []
    /// Where each page's references start in `references` (one more entry than pages).
    private var starts: [UInt32] = [0]
    /// Children as page numbers; an overflow chain as `overflowMark`, its first page, its length.
    private var references: [UInt32] = []
    /// A page not yet whole.
    private var partial: [UInt8] = []
    /// The number of the first page noted (a stretch of the file may start past page 1).
    private var firstPage = 1

    static let notBTree: UInt8 = 0
    static let unreadable: UInt8 = 0xFF
    static let overflowMark = UInt32.max

    init(limit: Int = 4 << 20) {
        self.limit = limit
    }

    /// The map of the file at `path`, read in `parts` stretches of whole pages (of at least
    /// `stretch` pages) on as many threads, joined in order.
    convenience init(reading path: String, parts: Int = 2, stretch: Int = 4096, limit: Int = 4 << 20) throws {
        self.init(limit: limit)
        let file = try FileDescriptor.openForReading(path)
        var header = [UInt8](repeating: 0, count: 100)
        let got = try header.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        header.withUnsafeBytes { add(UnsafeRawBufferPointer(rebasing: $0.prefix(got))) }
        guard usable, pageSize > 0 else { return }
        let pages = (Files.size(path) ?? 0) / Int64(pageSize)
        let parts = max(1, min(parts, Int(pages / Int64(max(1, stretch)))))
        let bounds = (0...parts).map { Int64(pages) * Int64($0) / Int64(parts) }
        let stretches = (0..<parts).map { k in k == 0 ? self : PageMap(stretchOf: self, from: Int(bounds[k]) + 1) }
        let readers = (0..<parts).map { k in
            BackgroundTask(name: "page-map-\(k)") {
                // The last stretch runs to the end of the file (a part of a page there stays a part).
                try stretches[k].read(file, from: k == 0 ? 100 : bounds[k] * Int64(stretches[k].pageSize),
                                      to: k == parts - 1 ? Int64.max : bounds[k + 1] * Int64(stretches[k].pageSize))
            }
        }
        // Every reader ends before any failure is thrown.
        let failures = readers.compactMap { reader -> Error? in
            do { try reader.join() } catch { return error }
            return nil
        }
        if let failure = failures.first { throw failure }
        for stretch in stretches.dropFirst() { append(stretch) }
    }

    /// An empty map of the pages from `first` on, of the file whose header `map` read.
    private init(stretchOf map: PageMap, from first: Int) {
        limit = map.limit
        (pageSize, usableSize, header, firstPage) = (map.pageSize, map.usableSize, map.header, first)
    }

    /// Notes the file's bytes from `start` up to `end` (or its end).
    private func read(_ file: FileDescriptor, from start: Int64, to end: Int64) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = start
        while usable, offset < end {
            let wanted = Int(min(Int64(buffer.count), end - offset))
            let read = try buffer.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(wanted)), at: offset) }
            guard read > 0 else { break }
            buffer.withUnsafeBytes { add(UnsafeRawBufferPointer(rebasing: $0.prefix(read))) }
            offset += Int64(read)
        }
    }

    /// Puts the next stretch's notes after these.
    private func append(_ stretch: PageMap) {
        guard usable, stretch.usable, partial.isEmpty, stretch.firstPage == firstPage + kinds.count,
              kinds.count + stretch.kinds.count <= limit, references.count + stretch.references.count <= 2 * limit else { return stop() }
        let base = UInt32(references.count)
        kinds += stretch.kinds
        next += stretch.next
        starts += stretch.starts.dropFirst().map { $0 + base }
        references += stretch.references
        partial = stretch.partial
    }

    /// Notes the next bytes of the file.
    func add(_ bytes: UnsafeRawBufferPointer) {
        guard usable, !bytes.isEmpty else { return }
        var rest = bytes
        if pageSize == 0 {
            // The page size is in the header: keep bytes until it is whole.
            let take = min(rest.count, 100 - partial.count)
            partial += rest.prefix(take)
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            guard partial.count == 100 else { return }
            guard readHeader(partial) else { return stop() }
        }
        if !partial.isEmpty {
            let take = min(rest.count, pageSize - partial.count)
            partial += rest.prefix(take)
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            guard partial.count == pageSize else { return }
            partial.withUnsafeBytes { note(page: $0) }
            partial.removeAll(keepingCapacity: true)
        }
        while rest.count >= pageSize, usable {
            note(page: UnsafeRawBufferPointer(rebasing: rest.prefix(pageSize)))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(pageSize))
        }
        if usable { partial += rest }
    }

    /// The flag byte of page `number` (1-based) read as a b-tree page, or `notBTree` / `unreadable`.
    func kind(_ number: Int) -> UInt8 { kinds[number - 1] }

    /// The first four bytes of page `number`: the next page of an overflow chain or trunk.
    func nextPage(_ number: Int) -> UInt32 { next[number - 1] }

    /// The references of page `number` read as a b-tree page.
    func references(_ number: Int) -> ArraySlice<UInt32> {
        references[Int(starts[number - 1])..<Int(starts[number])]
    }

    private func stop() {
        usable = false
        (kinds, next, starts, references, partial) = ([], [], [], [], [])
    }

    private func readHeader(_ bytes: [UInt8]) -> Bool {
        guard bytes.starts(with: Array("SQLite format 3\0".utf8)) else { return false }
        let stored = Int(bytes[16]) << 8 | Int(bytes[17])
        let size = stored == 1 ? 65536 : stored
        guard size >= 512, size <= 65536, size & (size - 1) == 0, size - Int(bytes[20]) >= 480 else { return false }
        (pageSize, usableSize, header) = (size, size - Int(bytes[20]), bytes)
        partial.reserveCapacity(size)
        return true
    }

    private func note(page: UnsafeRawBufferPointer) {
        guard kinds.count < limit else { return stop() }
        next.append(RecordFormat.uint32(page, 0))
        kinds.append(noteReferences(page, headerAt: kinds.isEmpty && firstPage == 1 ? 100 : 0))
        // A database SQLite wrote holds fewer: each child or overflow chain is a page of its own.
        guard references.count <= 2 * limit else { return stop() }
        starts.append(UInt32(references.count))
    }

    /// Appends the page's references read as a b-tree page, as SQLite's check parses each cell
    /// (`btreeParseCellPtr…`), and returns its kind.
    private func noteReferences(_ page: UnsafeRawBufferPointer, headerAt at: Int) -> UInt8 {
        let flag = page[at]
        guard flag == 0x02 || flag == 0x05 || flag == 0x0A || flag == 0x0D else { return Self.notBTree }
        let mark = references.count
        func unreadable() -> UInt8 {
            references.removeSubrange(mark...)
            return Self.unreadable
        }
        let interior = flag == 0x02 || flag == 0x05
        let cells = Int(page[at + 3]) << 8 | Int(page[at + 4])
        let pointers = at + (interior ? 12 : 8)
        guard pointers + 2 * cells <= usableSize else { return unreadable() }
        let table = flag == 0x0D
        for n in 0..<cells {
            let cell = Int(page[pointers + 2 * n]) << 8 | Int(page[pointers + 2 * n + 1])
            guard cell >= pointers + 2 * cells, cell <= usableSize - 4 else { return unreadable() }
            if interior { references.append(RecordFormat.uint32(page, cell)) }
            guard flag != 0x05 else { continue }
            var offset = cell + (interior ? 4 : 0)
            // In its fewest bytes and under 2^32, SQLite's readings of a payload size all agree.
            guard let (payload, length) = RecordFormat.minimalVarint(page, offset, end: usableSize), payload <= UInt64(UInt32.max) else {
                return unreadable()
            }
            offset += length
            if table {
                // The rowid: only its length matters (at most nine bytes).
                var length = 1
                while length < 9, offset + length <= usableSize, page[offset + length - 1] & 0x80 != 0 { length += 1 }
                guard offset + length <= usableSize else { return unreadable() }
                offset += length
            }
            // A larger payload keeps part of itself on the page, the rest in an overflow chain.
            let total = Int(payload)
            let local = RecordFormat.localPayload(total, tableLeaf: table, usableSize: usableSize)
            guard local < total else {
                guard offset + total <= usableSize else { return unreadable() }
                continue
            }
            guard offset + local + 4 <= usableSize else { return unreadable() }
            let chain = (total - local + usableSize - 5) / (usableSize - 4)
            references.append(Self.overflowMark)
            references.append(RecordFormat.uint32(page, offset + local))
            references.append(UInt32(chain))
        }
        if interior {
            guard at + 12 <= usableSize else { return unreadable() }
            references.append(RecordFormat.uint32(page, at + 8))
        }
        return flag
    }
}
