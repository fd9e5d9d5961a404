/// What `PRAGMA integrity_check(T)` adds to `quick_check` for a rowid table, written as plain
/// queries that can be split by rowid range over several connections. SQLite documents
/// quick_check as integrity_check without two checks, and its bytecode for a table is the
/// same row loop plus, per index and per row, these three:
///   - the row's entry is in the index (`OP_Found` on the key columns and the rowid, under the
///     index's collations): "row R missing from index I";
///   - for a UNIQUE index, the next entry does not repeat a key without NULLs: "non-unique
///     entry in index I";
///   - after the loop, the index holds as many entries as the table rows: "wrong # of entries
///     in index I".
/// Here the first is a correlated lookup (`SEARCH … USING COVERING INDEX I (k1=? AND … AND
/// rowid=?)`, the same seek under the same collations), the second a GROUP BY over the index's
/// order, the third two counts. Each query's plan is checked to read the index it names. Only
/// indexes of plain columns qualify: an expression, a partial index, a generated column, a
/// REAL column in a key or a table without rowid leaves the table to integrity_check(T).
struct IndexContentCheck {
    let table: String
    let indexes: [Index]
    /// The name that means the rowid in this table (`rowid`, unless a column took it).
    let rowid: String

    struct Index {
        let name: String
        let unique: Bool
        /// Key columns with the collation the index compares them under.
        let columns: [(name: String, collation: String)]
    }

    /// The index checks of `table` (a rowid table) as queries, or nil when one of its indexes
    /// (or the table) does not qualify, or SQLite would not run a lookup as the index seek it must be.
    static func make(table: String, on connection: SQLiteConnection) throws -> IndexContentCheck? {
        let info = try connection.query("SELECT name, type, hidden FROM pragma_table_xinfo(?1)", [.text(table)])
        guard !info.isEmpty, info.allSatisfy({ $0.last?.integer == 0 }) else { return nil }
        let columnNames = Set(info.compactMap { $0.first?.text?.lowercased() })
        // Reading a REAL column rounds an integer stored in it to a double (OP_RealAffinity), and
        // integrity_check's key keeps the integer: past 2^53 the two seeks differ.
        let real = Set(info.filter { row in ["REAL", "FLOA", "DOUB"].contains { (row[1].text ?? "").uppercased().contains($0) } }
            .compactMap { $0.first?.text?.lowercased() })
        guard let rowid = ["rowid", "_rowid_", "oid"].first(where: { !columnNames.contains($0) }) else { return nil }
        var indexes: [Index] = []
        for row in try connection.query("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)", [.text(table)]) {
            guard row.count == 4, let name = row[0].text, row[3].integer == 0 else { return nil }
            var columns: [(name: String, collation: String)] = []
            for key in try connection.query("SELECT cid, name, coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno", [.text(name)]) {
                guard let cid = key[0].integer, cid >= 0, let column = key[1].text, let collation = key[2].text,
                      !real.contains(column.lowercased()) else { return nil }
                columns.append((column, collation))
            }
            guard !columns.isEmpty else { return nil }
            indexes.append(Index(name: name, unique: row[1].integer == 1, columns: columns))
        }
        guard !indexes.isEmpty else { return nil }
        let check = IndexContentCheck(table: table, indexes: indexes, rowid: rowid)
        for index in indexes where !(try check.readsIndex(index, on: connection)) { return nil }
        return check
    }

    /// Rows of `[lower, upper]` (rowids) whose entry `index` lacks: each result row is a rowid.
    func missingRows(_ index: Index) -> String {
        let t = Self.quoted(table), r = rowid
        let keys = index.columns.map { "i.\(Self.quoted($0.name)) IS o.\(Self.quoted($0.name)) COLLATE \(Self.quoted($0.collation))" }
        return "SELECT o.\(r) FROM \(t) AS o NOT INDEXED WHERE o.\(r) BETWEEN ?1 AND ?2 AND NOT EXISTS "
            + "(SELECT 1 FROM \(t) AS i INDEXED BY \(Self.quoted(index.name)) WHERE \(keys.joined(separator: " AND ")) AND i.\(r) = o.\(r)) LIMIT 3"
    }

    /// One row, 1 when the index holds as many entries as the table has rows. (Not `count(*)`
    /// on the index side: SQLite counts a table's smallest index for it, whatever INDEXED BY says.)
    func entryCount(_ index: Index) -> String {
        let t = Self.quoted(table)
        return "SELECT (SELECT count(*) FROM \(t) NOT INDEXED) = (SELECT coalesce(sum(1), 0) FROM \(t) INDEXED BY \(Self.quoted(index.name)))"
    }

    /// A row when two entries of a UNIQUE index share a key without NULLs.
    func repeatedKeys(_ index: Index) -> String {
        let notNull = index.columns.map { "\(Self.quoted($0.name)) IS NOT NULL" }
        let keys = index.columns.map { "\(Self.quoted($0.name)) COLLATE \(Self.quoted($0.collation))" }
        return "SELECT 1 FROM \(Self.quoted(table)) INDEXED BY \(Self.quoted(index.name)) WHERE \(notNull.joined(separator: " AND ")) "
            + "GROUP BY \(keys.joined(separator: ", ")) HAVING count(*) > 1 LIMIT 1"
    }

    /// Whether SQLite plans each query on `index` itself, the lookup as a seek on every key
    /// column and the rowid (anything else would not be the check integrity_check makes).
    private func readsIndex(_ index: Index, on connection: SQLiteConnection) throws -> Bool {
        func plan(_ sql: String) throws -> [String] { try connection.query("EXPLAIN QUERY PLAN " + sql).compactMap { $0.last?.text } }
        let covering = "USING COVERING INDEX \(index.name)"
        guard let search = try plan(missingRows(index)).first(where: { $0.hasPrefix("SEARCH i \(covering) (") }),
              search.components(separatedBy: "=?").count - 1 == index.columns.count + 1, search.hasSuffix("rowid=?)"),
              try plan(entryCount(index)).contains(where: { $0.hasSuffix(covering) }),
              try !index.unique || plan(repeatedKeys(index)).contains(where: { $0.contains(covering) })
        else { return false }
        return true
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
