import Foundation

/// How `IntegrityCheck` splits: the pieces, what each costs, and the lists SQLite's own programs
/// give to check them against.
extension IntegrityCheck {
    struct Plan {
        var tasks: [Task]
        /// Tables whose indexes are compared by digest (the tasks refer to them by position).
        var compared: [IndexContentCheck] = []
        /// A page held twice or never, which the page accounting found (SQLite's whole check may
        /// not say it; see `PageAccounting`).
        var pageProblem: String? = nil
    }

    /// The pieces: quick_check (whole, or per table with the page accounting), then per table
    /// with indexes either its index checks as digests or `integrity_check(T)`. Costs are from a
    /// 1 GiB database: quick_check about 5 µs a page, integrity_check(T) about 1.4 µs a row and
    /// index, a digest about 0.2 µs a row and index.
    func plan(_ connection: SQLiteConnection) throws -> Plan {
        let pageCount = try connection.query("PRAGMA page_count").first?.first?.integer ?? 0
        let pages = Double(pageCount)
        var plan = Plan(tasks: [])
        let wholeQuickCheck = Task(sql: "PRAGMA quick_check", reading: .pragma, cost: pages * 5)
        // quick_check splits only where every page is held once, counted from SQLite's own list of roots.
        var held: [UInt32: Int]? = nil
        var wholeRoots: [UInt32]? = nil
        // The tables as SQLite loaded them (not the raw schema rows, whose type and name it reads
        // loosely), with their shadow tables; virtual tables have no b-tree of their own.
        // Every name is looked up in main: a name a lookup without a schema finds in temp first (a
        // main table called sqlite_temp_master) would check temp's table instead.
        let tables = try connection.query("SELECT name, hex(name), wr FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow')")
        if let map = self.pages, pageCount > 0, pageCount <= Int64(Int32.max),
           let roots = try Self.roots(of: "PRAGMA main.quick_check", on: connection) {
            wholeRoots = roots
            switch try PageAccounting.verdict(map: map, roots: roots, pageCount: Int(pageCount), path: path) {
            // Each piece's program walks every table: past a few hundred, the pieces cost more than they save.
            case .sound(let pages): held = tables.count <= 500 ? pages : nil
            case .problem(let problem): plan.pageProblem = problem
            case .undecided: break
            }
        }
        var quickChecks: [(table: String, task: Task)] = []
        var checkedRoots: [UInt32]? = []
        var wholeTables: Set<String> = []
        func checkWhole(_ name: String, cost: Double) {
            plan.tasks.append(Task(sql: Self.pragma(name), reading: .pragma, cost: cost))
            wholeTables.insert(name)
        }
        // Digests hash text as stored; only a UTF-8 file has no conversion in between.
        let utf8 = try connection.query("PRAGMA encoding").first?.first?.text == "UTF-8"
        for row in tables {
            // A name that is not UTF-8 reaches Swift repaired (maybe as another table's name): the whole check decides.
            guard row.count == 3, let name = row[0].text, row[1].text == name.utf8.map({ String(format: "%02X", $0) }).joined() else {
                throw BackupError.unexpected("a table name in the restored database is not UTF-8")
            }
            // SQLite names only its own tables sqlite_…: one made by writing the schema is not looked up as itself.
            let reserved = ["sqlite_schema", "sqlite_sequence", "sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4"]
            guard !name.lowercased().hasPrefix("sqlite_") || reserved.contains(name.lowercased()) else {
                throw BackupError.unexpected("the restored database has a table named \(name)")
            }
            var tableRoots: [UInt32]? = nil
            if let held {
                // Each table's quick_check(T), unless integrity_check(T) covers it (below).
                let roots = try Self.roots(of: Self.pragma(name, quick: true), on: connection)
                tableRoots = roots
                if let roots { checkedRoots?.append(contentsOf: roots) } else { checkedRoots = nil }
                quickChecks.append((name, Task(sql: Self.pragma(name, quick: true), reading: .pragma,
                                               cost: Double((roots ?? []).reduce(0) { $0 + (held[$1] ?? 0) }) * 4.5)))
            }
            let indexes = try connection.query("SELECT count(*) FROM pragma_index_list(?1, 'main')", [.text(name)]).first?.first?.integer ?? 0
            // quick_check already checks everything integrity_check(T) would of a table without indexes.
            guard indexes > 0 else { continue }
            guard row[2].integer == 0 else {  // WITHOUT ROWID
                checkWhole(name, cost: .infinity)
                continue
            }
            let split = utf8 ? try IndexContentCheck.make(table: name, on: connection) : nil
            // From the table's own b-tree (one descent each): a query free to choose would read an index.
            let (table, rowid) = ("main." + IndexContentCheck.quoted(name), split?.rowid ?? "rowid")
            guard let low = try connection.query("SELECT min(\(rowid)) FROM \(table) NOT INDEXED").first?.first?.integer,
                  let high = try connection.query("SELECT max(\(rowid)) FROM \(table) NOT INDEXED").first?.first?.integer else {
                // No rows: integrity_check(T) still counts its indexes' entries.
                checkWhole(name, cost: 0)
                continue
            }
            let rows = Double(high) - Double(low) + 1
            guard rows >= Double(splitRows), low <= high, let split else {
                checkWhole(name, cost: rows * Double(1 + indexes) * 1.4)
                continue
            }
            let t = plan.compared.count
            plan.compared.append(split)
            if held != nil, let map = self.pages, let root = tableRoots?.first,
               let (records, leaves) = try Self.tableRecords(split, root: root, map: map, path: path, on: connection) {
                // Straight from the leaves, in runs of them (the page count vouched for the map, and
                // quick_check(T) or the whole one for the b-tree it describes), in groups in key
                // order. Each group is also a rowid range, from its first row on (the first and
                // last open), which SQL reads where a record is not read from the leaf.
                let groups = max(1, min(workers * 2, leaves.count / 2000))
                let parts = (0..<groups).map { leaves[(leaves.count * $0 / groups)..<(leaves.count * ($0 + 1) / groups)] }
                let starts = try parts.dropFirst().map { try records.firstRowid(leaf: $0.first!) }.compactMap { $0 }
                if starts.count == groups - 1, zip(starts, starts.dropFirst()).allSatisfy({ $0 < $1 }), starts.first.map({ $0 > Int64.min }) ?? true {
                    let lows = [Int64.min] + starts
                    for (g, part) in parts.enumerated() {
                        let high = g + 1 < groups ? lows[g + 1] - 1 : Int64.max
                        plan.tasks.append(Task(sql: split.tableDigests(), bindings: [.integer(lows[g]), .integer(high)],
                                               reading: .tableRecords(table: t, records, part), cost: Double(part.count) * 2))
                    }
                    for (k, index) in split.indexes.enumerated() {
                        plan.tasks.append(Task(sql: split.rootProgram(index), reading: .index(table: t, index: k, index), cost: rows * 0.1))
                    }
                    continue
                }
            }
            // The first and last ranges are open: every row is counted, whatever the b-tree says its ends are.
            var ranges = Self.ranges(low...high, count: max(1, min(workers * 2, Int(rows / 100_000))))
            ranges[0] = Int64.min...ranges[0].upperBound
            ranges[ranges.count - 1] = ranges[ranges.count - 1].lowerBound...Int64.max
            let sql = split.tableDigests()
            for range in ranges {
                plan.tasks.append(Task(sql: sql, bindings: [.integer(range.lowerBound), .integer(range.upperBound)],
                                       reading: .tableDigests(table: t), cost: rows / Double(ranges.count) * (0.2 + 0.2 * Double(indexes))))
            }
            for (k, index) in split.indexes.enumerated() {
                plan.tasks.append(Task(sql: split.rootProgram(index), reading: .index(table: t, index: k, index), cost: rows * 0.1))
            }
        }
        // The pieces must check exactly the b-trees the whole check does, by SQLite's own lists.
        if held != nil, let wholeRoots, let checkedRoots, checkedRoots.sorted() == wholeRoots.sorted() {
            plan.tasks += quickChecks.filter { !wholeTables.contains($0.table) }.map(\.task)
        } else {
            plan.tasks.append(wholeQuickCheck)
        }
        return plan
    }

    /// How compared table `check`'s rows are read from its leaves: its columns, each index's key
    /// fields, and the leaves in key order from `root` (as the tree is built: what it holds is
    /// quick_check's to say); nil when a key is the rowid's alias
    /// (not in the record) or the b-tree is not all table pages.
    static func tableRecords(_ check: IndexContentCheck, root: UInt32, map: PageMap, path: String,
                             on connection: SQLiteConnection) throws -> (TableRecordDigest, [UInt32])? {
        let name = SQLiteValue.text(check.table)
        guard let columns = try connection.query("SELECT count(*) FROM pragma_table_xinfo(?1, 'main')", [name]).first?.first?.integer else { return nil }
        // An INTEGER PRIMARY KEY is the rowid, not a field (its declared type decides, as SQLite's
        // does; a DESC one that is a field anyway is only left to SQL).
        let primary = try connection.query("SELECT cid, upper(type) FROM pragma_table_info(?1, 'main') WHERE pk > 0", [name])
        let aliases = Set(primary.count == 1 && primary[0].count == 2 && primary[0][1].text == "INTEGER" ? [primary[0][0].integer ?? -1] : [])
        var keys: [[Int]] = []
        for index in check.indexes {
            let fields = try connection.query("SELECT cid FROM pragma_index_xinfo(?1, 'main') WHERE key = 1 ORDER BY seqno", [.text(index.name)])
                .compactMap { $0.first?.integer }
            guard fields.count == index.columns.count, fields.allSatisfy({ $0 >= 0 && $0 < columns && !aliases.contains($0) }) else { return nil }
            keys.append(fields.map { Int($0) })
        }
        var leaves: [UInt32] = []
        var stack = [root]
        while let page = stack.popLast() {
            guard page >= 1, Int(page) <= map.pages else { return nil }
            switch map.kind(Int(page)) {
            case 0x0D: leaves.append(page)
            case 0x05: stack += map.references(Int(page)).reversed()
            default: return nil
            }
        }
        return (TableRecordDigest(path: path, pageSize: map.pageSize, usableSize: map.usableSize, columns: Int(columns), keys: keys), leaves)
    }

    static func pragma(_ table: String, quick: Bool = false) -> String {
        "PRAGMA main.\(quick ? "quick_check" : "integrity_check")('\(table.replacingOccurrences(of: "'", with: "''"))')"
    }

    /// The b-tree roots (zeros left out) the program of pragma `sql` checks in main, as its
    /// `IntegrityCk` instruction lists them; nil when the program is not as expected (or checks
    /// virtual tables too, as SQLite 3.44's whole check does and no per-table piece would).
    static func roots(of sql: String, on connection: SQLiteConnection) throws -> [UInt32]? {
        // EXPLAIN's columns: addr, opcode, p1, p2, p3, p4, p5, comment. P5 is the database (0: main).
        let program = try connection.query("EXPLAIN " + sql)
        guard !program.contains(where: { $0.count >= 2 && $0[1].text == "VCheck" }) else { return nil }
        let checks = program.filter { $0.count >= 7 && $0[1].text == "IntegrityCk" && $0[6].integer == 0 }
        guard checks.count == 1, let list = checks[0][5].text, list.hasPrefix("["), list.hasSuffix("]") else { return nil }
        var roots: [UInt32] = []
        for item in list.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false) {
            guard let root = UInt32(item) else { return nil }
            if root != 0 { roots.append(root) }
        }
        return roots
    }

    /// `count` consecutive ranges that cover `span` exactly once (some may be empty).
    static func ranges(_ span: ClosedRange<Int64>, count: Int) -> [ClosedRange<Int64>] {
        let width = (Double(span.upperBound) - Double(span.lowerBound) + 1) / Double(count)
        var starts = [span.lowerBound]
        for k in 1..<max(1, count) {
            let point = (Double(span.lowerBound) + width * Double(k)).rounded(.down)
            let start = point >= Double(Int64.max) ? span.upperBound : Int64(point)
            starts.append(min(span.upperBound, max(starts[k - 1], start)))
        }
        var result: [ClosedRange<Int64>] = []
        for (k, start) in starts.enumerated() {
            let end = k + 1 < starts.count ? starts[k + 1] : nil
            if let end {
                guard end > start else { continue }
                result.append(start...(end - 1))
            } else {
                result.append(start...span.upperBound)
            }
        }
        return result
    }
}
