import Foundation
import Synchronization

/// `PRAGMA integrity_check` of a file nothing else uses (a restore before it is placed), run on
/// several connections at once with the verdict of one whole check. SQLite documents
/// `quick_check` as integrity_check without two checks: index content and UNIQUE constraints.
/// So one connection runs quick_check (every b-tree's structure, the free list, every page used
/// exactly once, every row's types and NOT NULL and CHECK constraints), and the others check
/// what it leaves out, table by table: nothing for a table without indexes, the index checks
/// as queries split by rowid range for a large rowid table (`IndexContentCheck`), and
/// `integrity_check(T)` for the rest. On two cores the time is about half the sum. When a
/// piece cannot run (a name SQLite cannot look up, a schema it cannot read), one whole
/// `integrity_check` decides instead.
struct IntegrityCheck {
    let path: String
    var workers = ProcessInfo.processInfo.activeProcessorCount
    /// Tables spanning at least this many rowids have their index checks split into queries;
    /// smaller ones run `integrity_check(T)`.
    var splitRows: Int64 = 20_000

    /// Up to three lines of problems, or nil when the file is sound.
    func problems() throws -> String? {
        let checks: [Task]
        do {
            checks = try plan(SQLiteConnection(path: path, mode: .immutable)).sorted { $0.cost > $1.cost }
        } catch {
            return try whole()
        }
        let next = Atomic<Int>(0)
        let found = Mutex<[String]>([])
        let failure = Mutex<Error?>(nil)
        let path = self.path
        let tasks = (0..<max(1, min(workers, checks.count))).map { n in
            BackgroundTask(name: "integrity-check-\(n)") {
                do {
                    let connection = try SQLiteConnection(path: path, mode: .immutable)
                    // An index's check looks up every row of its table: a 16 MiB page cache per
                    // connection (instead of 2,000 pages) halves the reads it repeats.
                    try connection.execute("PRAGMA cache_size = -16384")
                    while failure.withLock({ $0 == nil }) {
                        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < checks.count else { break }
                        let lines = checks[index].problems(try connection.query(checks[index].sql, checks[index].bindings))
                        if !lines.isEmpty { found.withLock { $0 += lines } }
                    }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        for task in tasks { try task.join() }
        if failure.withLock({ $0 }) != nil {
            // The split could not run as planned: the one whole check gives the verdict.
            return try whole()
        }
        let lines = found.withLock { $0 }
        return lines.isEmpty ? nil : lines.prefix(3).joined(separator: "; ")
    }

    private func whole() throws -> String? {
        try SQLiteConnection(path: path, mode: .immutable).integrityProblems(quick: false)
    }

    /// One statement of the split check, how its rows read as problems, and what it costs
    /// (estimated microseconds, so the longest start first and none starts last).
    struct Task {
        enum Reading { case pragma, missingRows(index: String), entryCount(index: String) }
        let sql: String
        var bindings: [SQLiteValue] = []
        let reading: Reading
        let cost: Double

        func problems(_ rows: [[SQLiteValue]]) -> [String] {
            switch reading {
            case .pragma:
                let lines = rows.compactMap { $0.first?.text }
                return lines == ["ok"] ? [] : lines.isEmpty ? ["\(sql) returned nothing"] : lines
            case .missingRows(let index):
                return rows.map { "row \($0.first?.text ?? "?") missing from index \(index)" }
            case .entryCount(let index):
                return rows.first?.first?.integer == 1 ? [] : ["wrong # of entries in index \(index)"]
            }
        }
    }

    /// The pieces: quick_check, then per table with indexes either its index checks as
    /// queries or `integrity_check(T)`. Costs are from a 1 GiB database: quick_check about
    /// 5 µs a page, an index lookup about 1.4 µs a row.
    func plan(_ connection: SQLiteConnection) throws -> [Task] {
        let pages = Double(try connection.query("PRAGMA page_count").first?.first?.integer ?? 0)
        var tasks = [Task(sql: "PRAGMA quick_check", reading: .pragma, cost: pages * 5)]
        // The tables as SQLite loaded them (not the raw schema rows, whose type and name it reads
        // loosely), with their shadow tables; virtual tables have no b-tree of their own.
        let tables = try connection.query("SELECT name, hex(name), wr FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow')")
        for row in tables {
            // A name that is not UTF-8 reaches Swift repaired (maybe as another table's name): the whole check decides.
            guard row.count == 3, let name = row[0].text, row[1].text == name.utf8.map({ String(format: "%02X", $0) }).joined() else {
                throw BackupError.unexpected("a table name in the restored database is not UTF-8")
            }
            let indexes = try connection.query("SELECT count(*) FROM pragma_index_list(?1)", [.text(name)]).first?.first?.integer ?? 0
            // quick_check already checks everything integrity_check(T) would of a table without indexes.
            guard indexes > 0 else { continue }
            let pragma = "PRAGMA integrity_check('\(name.replacingOccurrences(of: "'", with: "''"))')"
            guard row[2].integer == 0 else {  // WITHOUT ROWID
                tasks.append(Task(sql: pragma, reading: .pragma, cost: .infinity))
                continue
            }
            let split = try IndexContentCheck.make(table: name, on: connection)
            // From the table's own b-tree (one descent each): a query free to choose would read an index.
            let (table, rowid) = (IndexContentCheck.quoted(name), split?.rowid ?? "rowid")
            guard let low = try connection.query("SELECT min(\(rowid)) FROM \(table) NOT INDEXED").first?.first?.integer,
                  let high = try connection.query("SELECT max(\(rowid)) FROM \(table) NOT INDEXED").first?.first?.integer else {
                // No rows: integrity_check(T) still counts its indexes' entries.
                tasks.append(Task(sql: pragma, reading: .pragma, cost: 0))
                continue
            }
            let rows = Double(high) - Double(low) + 1
            guard rows >= Double(splitRows), low <= high, let split else {
                tasks.append(Task(sql: pragma, reading: .pragma, cost: rows * Double(1 + indexes) * 1.4))
                continue
            }
            // The first and last ranges are open: every row is looked up, whatever the b-tree says its ends are.
            var ranges = Self.ranges(low...high, count: max(1, min(workers * 4, Int(rows / 50_000))))
            ranges[0] = Int64.min...ranges[0].upperBound
            ranges[ranges.count - 1] = ranges[ranges.count - 1].lowerBound...Int64.max
            for index in split.indexes {
                let lookup = split.missingRows(index)
                for range in ranges {
                    tasks.append(Task(sql: lookup, bindings: [.integer(range.lowerBound), .integer(range.upperBound)],
                                      reading: .missingRows(index: index.name), cost: rows / Double(ranges.count) * 1.4))
                }
                tasks.append(Task(sql: split.entryCount(index), reading: .entryCount(index: index.name), cost: rows * 0.05))
            }
        }
        return tasks
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
