/// What `PRAGMA integrity_check(T)` adds to `quick_check` for a rowid table, written as plain
/// queries that can be split by rowid range over several connections. SQLite documents
/// quick_check as integrity_check without two checks, and its bytecode for a table is the
/// same row loop plus, per index, two checks (a third, for UNIQUE indexes, is not written
/// here):
///   - each row's entry is in the index (`OP_Found` on the key columns and the rowid, under
///     the index's collations): "row R missing from index I";
///   - after the loop, the index holds as many entries as the table rows: "wrong # of entries
///     in index I".
/// Here the first is a correlated lookup (`SEARCH … USING COVERING INDEX I (k1=? AND … AND
/// rowid=?)`, the same seek under the same collations), the second two counts; each query's
/// plan is checked to read the index it names. Only the plainest tables qualify, the ones
/// where the lookup compares exactly what `OP_Found` compares; any other is left to
/// integrity_check(T):
///   - no UNIQUE index (its check compares neighbouring entries as stored, which reading them
///     back as values does not: a NaN reads as NULL);
///   - no REAL column in a key (reading one rounds an integer stored in it to a double, past
///     2^53 another number than the one integrity_check's key keeps);
///   - key columns only, no expression, no partial index, no generated column;
///   - names, types and collations in printable ASCII, looked at as stored (a name that is not
///     UTF-8 reaches Swift repaired, maybe as another table's or index's name).
struct IndexContentCheck {
    let table: String
    let indexes: [Index]
    /// The name that means the rowid in this table (`rowid`, unless a column took it).
    let rowid: String

    struct Index {
        let name: String
        /// Key columns with the collation the index compares them under.
        let columns: [(name: String, collation: String)]
    }

    /// The index checks of `table` (a rowid table whose name was checked as stored) as
    /// queries, or nil when it does not qualify or SQLite would not run a lookup as the index
    /// seek it must be.
    static func make(table: String, on connection: SQLiteConnection) throws -> IndexContentCheck? {
        // Not printable ASCII, as SQLite stores it (GLOB reads the raw text).
        let unusual = "GLOB '*[^ -~]*'"
        let info = try connection.query("SELECT name, type, hidden, name \(unusual) OR type \(unusual) FROM pragma_table_xinfo(?1)", [.text(table)])
        guard !info.isEmpty, info.allSatisfy({ $0.count == 4 && $0[2].integer == 0 && $0[3].integer == 0 }) else { return nil }
        let columnNames = Set(info.compactMap { $0[0].text?.lowercased() })
        let real = Set(info.filter { row in ["REAL", "FLOA", "DOUB"].contains { (row[1].text ?? "").uppercased().contains($0) } }
            .compactMap { $0[0].text?.lowercased() })
        guard let rowid = ["rowid", "_rowid_", "oid"].first(where: { !columnNames.contains($0) }) else { return nil }
        var indexes: [Index] = []
        for row in try connection.query("SELECT name, \"unique\", partial, name \(unusual) FROM pragma_index_list(?1)", [.text(table)]) {
            guard row.count == 4, let name = row[0].text, row[1].integer == 0, row[2].integer == 0, row[3].integer == 0 else { return nil }
            var columns: [(name: String, collation: String)] = []
            let keys = try connection.query("SELECT cid, name, coll, coll \(unusual) FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno", [.text(name)])
            for key in keys {
                guard key.count == 4, let cid = key[0].integer, cid >= 0, let column = key[1].text, let collation = key[2].text,
                      key[3].integer == 0, !real.contains(column.lowercased()) else { return nil }
                columns.append((column, collation))
            }
            guard !columns.isEmpty else { return nil }
            indexes.append(Index(name: name, columns: columns))
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

    /// Whether SQLite plans each query on `index` itself, the lookup as a seek on every key
    /// column and the rowid (anything else would not be the check integrity_check makes).
    private func readsIndex(_ index: Index, on connection: SQLiteConnection) throws -> Bool {
        func plan(_ sql: String) throws -> [String] { try connection.query("EXPLAIN QUERY PLAN " + sql).compactMap { $0.last?.text } }
        let covering = "USING COVERING INDEX \(index.name)"
        guard let search = try plan(missingRows(index)).first(where: { $0.hasPrefix("SEARCH i \(covering) (") }),
              search.components(separatedBy: "=?").count - 1 == index.columns.count + 1, search.hasSuffix("rowid=?)"),
              try plan(entryCount(index)).contains(where: { $0.hasSuffix(covering) })
        else { return false }
        return true
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
