/// Every page of a database file held exactly once, by a b-tree, an overflow chain or the free
/// list (the lock-byte page by nothing): what `PRAGMA quick_check` checks across the whole file
/// and `quick_check(T)` leaves out, counted from a `PageMap` the way SQLite's check counts it
/// (`checkTreePage`, `checkList`, then "never used" for every page no one held).
///
/// It also holds where SQLite's whole check does not: SQLite 3.40 skips this count when the
/// first root it lists is a view's or a virtual table's 0, which its schema's hash order decides.
struct PageAccounting {
    enum Verdict: Equatable {
        /// Every page is held once; `pages` counts those each root's b-tree holds (overflow included).
        case sound(pages: [UInt32: Int])
        /// A page held twice, never, or out of range: in SQLite's words.
        case problem(String)
        /// The map cannot say (a page it could not read was reached, auto-vacuum or incremental
        /// vacuum set, a count not as SQLite's): the whole check decides.
        case undecided(String)
    }

    /// The verdict for `roots` (SQLite's own list of b-tree roots, zeros left out) over
    /// `pageCount` pages. Free-list trunk pages are read from `path` (the file the map noted).
    static func verdict(map: PageMap, roots: [UInt32], pageCount: Int, path: String) throws -> Verdict {
        guard map.usable, map.pages == pageCount, pageCount >= 1 else {
            return .undecided("the page map does not cover the file's \(pageCount) pages")
        }
        let header = map.header
        guard RecordFormat.uint32(header, 52) == 0 else { return .undecided("an auto-vacuum database keeps pointer-map pages") }
        // The whole check's one more look at the header, which no per-table check takes.
        guard RecordFormat.uint32(header, 64) == 0 else { return .undecided("incremental vacuum is set without auto-vacuum") }
        var held = [UInt8](repeating: 0, count: pageCount + 1)
        // SQLite counts the lock-byte page as held before anything: a reference to it is a second one.
        let lockPage = 0x4000_0000 / map.pageSize + 1
        if lockPage <= pageCount { held[lockPage] = 1 }

        func hold(_ page: UInt32) -> Verdict? {
            guard page >= 1, Int(page) <= pageCount else { return .problem("invalid page number \(page)") }
            guard held[Int(page)] == 0 else { return .problem("2nd reference to page \(page)") }
            held[Int(page)] = 1
            return nil
        }

        // The free list: trunk pages, each listing leaves, as many pages as the header says.
        let file = try FileDescriptor.openForReading(path)
        var trunk = RecordFormat.uint32(header, 32)
        var freePages = 0
        var page = [UInt8](repeating: 0, count: map.pageSize)
        while trunk != 0 {
            if let problem = hold(trunk) { return problem }
            let read = try page.withUnsafeMutableBytes { try file.read(into: $0, at: (Int64(trunk) - 1) * Int64(map.pageSize)) }
            guard read == map.pageSize else { return .undecided("free-list page \(trunk) is short") }
            let leaves = Int(RecordFormat.uint32(page, 4))
            guard leaves <= map.usableSize / 4 - 2 else { return .undecided("free-list page \(trunk) lists too many leaves") }
            for n in 0..<leaves {
                if let problem = hold(RecordFormat.uint32(page, 8 + 4 * n)) { return problem }
            }
            freePages += 1 + leaves
            trunk = RecordFormat.uint32(page, 0)
        }
        guard freePages == Int(RecordFormat.uint32(header, 36)) else { return .undecided("the free list holds another count than the header's") }

        // Each b-tree from its root: children, and each cell's overflow chain to its end.
        var pages: [UInt32: Int] = [:]
        var stack: [UInt32] = []
        for root in roots {
            var count = 0
            stack.append(root)
            while let number = stack.popLast() {
                if let problem = hold(number) { return problem }
                count += 1
                let kind = map.kind(Int(number))
                guard kind != PageMap.notBTree, kind != PageMap.unreadable else {
                    return .undecided("page \(number) does not read as a b-tree page")
                }
                var references = map.references(Int(number))[...]
                while let reference = references.popFirst() {
                    guard reference == PageMap.overflowMark else {
                        stack.append(reference)
                        continue
                    }
                    guard let first = references.popFirst(), let length = references.popFirst() else {
                        return .undecided("page \(number)'s notes are cut")
                    }
                    var (next, chain) = (first, UInt32(0))
                    while next != 0 {
                        if let problem = hold(next) { return problem }
                        chain += 1
                        next = map.nextPage(Int(next))
                    }
                    guard chain == length else { return .undecided("an overflow chain on page \(number) has another length than its cell") }
                    count += Int(chain)
                }
            }
            pages[root, default: 0] += count
        }
        if let never = (1...pageCount).first(where: { held[$0] == 0 }) {
            return .problem("Page \(never) is never used")
        }
        return .sound(pages: pages)
    }
}
