import Foundation
import Synchronization

/// `PRAGMA integrity_check` of a file nothing else uses (a restore before it is placed), run on
/// several connections at once with the verdict of one whole check. One connection runs
/// `quick_check`: every b-tree's structure, the free list, every page used exactly once. The
/// others run `integrity_check(T)` for each table: its b-trees again and what quick_check leaves
/// out, its indexes' content and UNIQUE constraints. Together they check what one
/// `integrity_check` checks; on two cores the time is the slowest table's, not the sum. When a
/// per-table check cannot run (a name SQLite cannot look up, a schema it cannot read), one
/// whole `integrity_check` decides instead.
struct IntegrityCheck {
    let path: String
    var workers = ProcessInfo.processInfo.activeProcessorCount

    /// Up to three lines of problems, or nil when the file is sound.
    func problems() throws -> String? {
        let tables: [String]
        do {
            tables = try Self.largestFirst(SQLiteConnection(path: path, mode: .immutable))
        } catch {
            return try SQLiteConnection(path: path, mode: .immutable).integrityProblems(quick: false)
        }
        // The largest table's check first, quick_check (about as long as reading the file) beside
        // it, then the rest, largest first: the longest tasks never start last.
        var planned = tables.map { "PRAGMA integrity_check('\($0.replacingOccurrences(of: "'", with: "''"))')" }
        planned.insert("PRAGMA quick_check", at: min(1, planned.count))
        let checks = planned
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
                        let lines = try connection.query(checks[index]).compactMap { $0.first?.text }
                        if lines != ["ok"] { found.withLock { $0 += lines } }
                    }
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        for task in tasks { try task.join() }
        if failure.withLock({ $0 }) != nil {
            // The split could not run as planned: the one whole check gives the verdict.
            return try SQLiteConnection(path: path, mode: .immutable).integrityProblems(quick: false)
        }
        let lines = found.withLock { $0 }
        return lines.isEmpty ? nil : lines.prefix(3).joined(separator: "; ")
    }

    /// The tables (not virtual ones: their shadow tables are checked), by the work their check
    /// costs, largest first: rows (the largest rowid, found in one descent) times one plus their
    /// indexes. A table without rowid counts as the largest.
    static func largestFirst(_ connection: SQLiteConnection) throws -> [String] {
        let tables = try connection.query("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'")
            .compactMap { row in row.first?.text.map { ($0, row.last?.text ?? "") } }
        var indexes: [String: Int] = [:]
        for row in try connection.query("SELECT tbl_name, count(*) FROM sqlite_schema WHERE type = 'index' GROUP BY tbl_name") {
            if let name = row.first?.text, case .integer(let count)? = row.last { indexes[name] = Int(count) }
        }
        let costs = try tables.map { name, sql -> (String, Double) in
            guard !sql.uppercased().contains("WITHOUT ROWID") else { return (name, .infinity) }
            let quoted = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            guard case .integer(let rows)? = try connection.query("SELECT max(rowid) FROM \(quoted)").first?.first else { return (name, 0) }
            return (name, Double(rows) * Double(1 + (indexes[name] ?? 0)))
        }
        return costs.sorted { $0.1 > $1.1 }.map(\.0)
    }
}
