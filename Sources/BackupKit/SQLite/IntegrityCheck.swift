import Foundation
import Synchronization

/// `PRAGMA integrity_check` of a file nothing else uses (a restore before it is placed), run on
/// several connections at once with the verdict of one whole check. SQLite documents
/// `quick_check` as integrity_check without two checks: index content and UNIQUE constraints.
/// So quick_check (every b-tree's structure, the free list, every page used exactly once, every
/// row's types and NOT NULL and CHECK constraints) runs beside what it leaves out, table by
/// table: nothing for a table without indexes; for a large rowid table, digests of its rows
/// (split by rowid range) and of each index's entries (`IndexContentCheck`), and
/// `integrity_check(T)` for the rest and for any table whose digests do not come out plainly
/// equal. Given a `PageMap` of the file, quick_check itself is split too: `quick_check(T)` for
/// each table `integrity_check(T)` does not cover (`sqlite_schema`'s also checks the free list),
/// and `PageAccounting` for the one thing they leave out, every page held exactly once. On two
/// cores the time is about half the sum. When a piece cannot run (a name SQLite cannot look up,
/// a schema it cannot read), one whole `integrity_check` decides instead.
struct IntegrityCheck {
    let path: String
    /// What each page points to, noted as the file was written (a full restore's); without one,
    /// the file is read once more for it. Lets quick_check split.
    var pages: PageMap? = nil
    var workers = ProcessInfo.processInfo.activeProcessorCount
    /// Tables spanning at least this many rowids have their indexes compared by digest;
    /// smaller ones run `integrity_check(T)`.
    var splitRows: Int64 = 20_000

    /// Up to three lines of problems, or nil when the file is sound.
    func problems() throws -> String? {
        let key = try SecureRandom.bytes(32)
        var mapped = self
        if mapped.pages == nil { mapped.pages = try PageMap(reading: path) }
        let plan: Plan
        do {
            let connection = try SQLiteConnection(path: path, mode: .immutable)
            try EntryDigest.register(on: connection, key: key)
            plan = try mapped.plan(connection)
        } catch {
            return try whole()
        }
        let checks = plan.tasks.sorted { $0.cost > $1.cost }
        let next = Atomic<Int>(0)
        let results = Mutex<[Int: Outcome]>([:])
        let failure = Mutex<Error?>(nil)
        let path = self.path
        let tasks = (0..<max(1, min(workers, checks.count))).map { n in
            BackgroundTask(name: "integrity-check-\(n)") {
                do {
                    let connection = try SQLiteConnection(path: path, mode: .immutable)
                    try EntryDigest.register(on: connection, key: key)
                    while failure.withLock({ $0 == nil }) {
                        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < checks.count else { break }
                        let outcome = try checks[index].run(on: connection, key: key)
                        results.withLock { $0[index] = outcome }
                    }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        for task in tasks { try task.join() }
        do {
            if let error = failure.withLock({ $0 }) { throw error }
            let lines = try verdict(plan, checks, results.withLock { $0 })
            return lines.isEmpty ? nil : lines.prefix(3).joined(separator: "; ")
        } catch {
            // The split could not run as planned: the one whole check gives the verdict.
            return try whole()
        }
    }

    private func whole() throws -> String? {
        try SQLiteConnection(path: path, mode: .immutable).integrityProblems(quick: false)
    }

    /// The pragmas' problems, and for each compared table whose digests differ (a NULL key, a
    /// record not plain or out of order, an index SQLite counts otherwise), what
    /// `integrity_check(T)` says of it.
    private func verdict(_ plan: Plan, _ checks: [Task], _ results: [Int: Outcome]) throws -> [String] {
        var lines: [String] = []
        var table = plan.compared.map { Array(repeating: EntryDigest(), count: $0.indexes.count) }
        var index = table.map { $0.map { Optional($0) } }
        var pageProblem = plan.pageProblem
        for (n, check) in checks.enumerated() {
            guard let outcome = results[n] else { throw BackupError.unexpected("a piece of the integrity check did not run") }
            switch (check.reading, outcome) {
            case (.index(let t, let k, _), .index(let digest)):
                index[t][k] = digest
            case (.tableRecords(let t, _, _), .digests(let digests)):
                guard let digests, digests.count == table[t].count else {
                    // Rows read otherwise than SQLite writes them: integrity_check(T) decides.
                    var unread = EntryDigest()
                    unread.rows = 1
                    for k in table[t].indices { table[t][k].add(unread) }
                    continue
                }
                for (k, digest) in digests.enumerated() { table[t][k].add(digest) }
            case (.pragma, .rows(let rows)):
                let said = rows.compactMap { $0.first?.text }
                if said != ["ok"] { lines += said.isEmpty ? ["\(check.sql) returned nothing"] : said }
            case (.tableDigests(let t), .rows(let rows)):
                guard rows.count == 1, rows[0].count == table[t].count else { throw BackupError.unexpected("a table digest is malformed") }
                for (k, value) in rows[0].enumerated() {
                    guard let digest = EntryDigest(value) else { throw BackupError.unexpected("a table digest is malformed") }
                    table[t][k].add(digest)
                }
            default:
                throw BackupError.unexpected("a piece of the integrity check answered another piece's question")
            }
        }
        for (t, compared) in plan.compared.enumerated() where index[t] != table[t] || !table[t].allSatisfy(\.plain) {
            let said = try SQLiteConnection(path: path, mode: .immutable).query(Self.pragma(compared.table)).compactMap { $0.first?.text }
            if said != ["ok"] { lines += said }
        }
        if let pageProblem, !lines.contains(where: { $0.contains(pageProblem) }) { lines.append(pageProblem) }
        return lines
    }

    /// One statement of the split check, what its rows are, and what it costs (estimated
    /// microseconds, so the longest start first and none starts last).
    struct Task {
        enum Reading {
            case pragma
            /// Digests of the entries compared table T's indexes should hold, for a rowid range.
            case tableDigests(table: Int)
            /// The records of index K of compared table T, read from its pages (the statement
            /// names its root).
            case index(table: Int, index: Int, IndexContentCheck.Index)
            /// Digests of the entries compared table T's indexes should hold, from some of its leaves.
            /// The statement (`sql`, `bindings`) reads the same rows, by rowid range, where a leaf's
            /// records are not all as SQLite writes them (a row older than a column, a spilled key).
            case tableRecords(table: Int, TableRecordDigest, ArraySlice<UInt32>)
        }
        let sql: String
        var bindings: [SQLiteValue] = []
        let reading: Reading
        let cost: Double

        func run(on connection: SQLiteConnection, key: [UInt8]) throws -> Outcome {
            if case .tableRecords(_, let records, let leaves) = reading {
                if let digests = try records.digests(leaves: leaves, key: key) { return .digests(digests) }
                let row = try connection.query(sql, bindings).first ?? []
                return .digests(row.count == records.keys.count ? row.compactMap(EntryDigest.init) : nil)
            }
            guard case .index(_, _, let index) = reading else {
                return .rows(try connection.query(sql, bindings))
            }
            let opened = try connection.query(sql).filter { $0.count >= 6 && $0[1].text == "OpenRead" && $0[5].text?.hasPrefix("k(") == true }
            guard opened.count == 1, let root = opened[0][3].integer,
                  let size = try connection.query(IndexContentCheck.size, [.text(index.name)]).first, size.count == 5,
                  size[0].integer == 1, size[1].integer == root else {
                return .index(digest: nil)
            }
            var records = IndexRecordDigest(keys: index.columns.count, unique: index.unique, key: key)
            let walk: IndexPages.Walk
            do {
                walk = try IndexPages(path: connection.path).walk(root: root) { records.add(record: $0) }
            } catch is IndexPages.Anomaly {
                return .index(digest: nil)  // not as SQLite writes it: integrity_check(T) decides
            }
            let counted = IndexPages.Walk(cells: size[2].integer ?? -1, payload: size[3].integer ?? -1, pages: size[4].integer ?? -1)
            return .index(digest: walk == counted ? records.digest : nil)
        }
    }

    /// What a task found: a statement's rows, or an index's records digested (nil when its
    /// pages are not as SQLite counts them).
    enum Outcome {
        case rows([[SQLiteValue]])
        case index(digest: EntryDigest?)
        /// Per index, a table side's digests read from leaves (nil: not as SQLite writes them).
        case digests([EntryDigest]?)
    }
}
