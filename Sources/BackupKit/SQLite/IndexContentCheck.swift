/// What `PRAGMA integrity_check(T)` adds to `quick_check` for a rowid table, as sequential
/// scans that can be split by rowid range over several connections. SQLite documents
/// quick_check as integrity_check without two checks, and its bytecode for a table is the
/// same row loop plus, per index:
///   - each row's entry is in the index (`OP_Found`, a seek on the key columns and the rowid):
///     "row R missing from index I";
///   - for a UNIQUE index, the entry after it has another key: "non-unique entry in index I";
///   - after the loop, the index holds as many entries as the table rows: "wrong # of entries
///     in index I".
/// Here the table's rows are read once (split by rowid range) into an `EntryDigest`, and each
/// index's records straight from its pages (`IndexPages`, the b-tree SQLite names for it, with
/// dbstat's count of its cells, payload and pages to agree) into an `IndexRecordDigest`: equal
/// digests of plain records mean the index holds exactly the records its rows make, and
/// records in strictly ascending order mean a seek finds each one (and, keys included, that a
/// UNIQUE index has no two records with one key). Whatever does not come out that way (a NULL
/// or a NaN in a key, another collation's equal text, a record of other fields) is left to
/// integrity_check(T), so the verdict is always its verdict. Only the plainest tables qualify:
///   - no REAL column in a key (reading one rounds an integer stored in it to a double, past
///     2^53 another number than the one integrity_check's key keeps);
///   - key columns only, ascending, under BINARY; no expression, no partial index, no
///     generated column;
///   - names, types and collations in printable ASCII, looked at as stored (a name that is not
///     UTF-8 reaches Swift repaired, maybe as another table's or index's name).
struct IndexContentCheck {
    let table: String
    let indexes: [Index]
    /// The name that means the rowid in this table (`rowid`, unless a column took it).
    let rowid: String

    struct Index {
        let name: String
        /// Key columns, in the index's order.
        let columns: [String]
        let unique: Bool
    }

    /// The index checks of `table` (a rowid table whose name was checked as stored), or nil
    /// when it does not qualify.
    static func make(table: String, on connection: SQLiteConnection) throws -> IndexContentCheck? {
        // Not printable ASCII, as SQLite stores it (GLOB reads the raw text).
        let unusual = "GLOB '*[^ -~]*'"
        let info = try connection.query("SELECT name, type, hidden, name \(unusual) OR type \(unusual) FROM pragma_table_xinfo(?1, 'main')", [.text(table)])
        guard !info.isEmpty, info.allSatisfy({ $0.count == 4 && $0[2].integer == 0 && $0[3].integer == 0 }) else { return nil }
        let columnNames = Set(info.compactMap { $0[0].text?.lowercased() })
        let real = Set(info.filter { row in ["REAL", "FLOA", "DOUB"].contains { (row[1].text ?? "").uppercased().contains($0) } }
            .compactMap { $0[0].text?.lowercased() })
        guard let rowid = ["rowid", "_rowid_", "oid"].first(where: { !columnNames.contains($0) }) else { return nil }
        var indexes: [Index] = []
        for row in try connection.query("SELECT name, \"unique\", partial, name \(unusual) FROM pragma_index_list(?1, 'main')", [.text(table)]) {
            guard row.count == 4, let name = row[0].text, let unique = row[1].integer, row[2].integer == 0, row[3].integer == 0 else { return nil }
            var columns: [String] = []
            let keys = try connection.query("SELECT cid, name, coll, \"desc\", coll \(unusual) FROM pragma_index_xinfo(?1, 'main') WHERE key = 1 ORDER BY seqno", [.text(name)])
            for key in keys {
                guard key.count == 5, let cid = key[0].integer, cid >= 0, let column = key[1].text, key[2].text?.uppercased() == "BINARY",
                      key[3].integer == 0, key[4].integer == 0, !real.contains(column.lowercased()) else { return nil }
                columns.append(column)
            }
            guard !columns.isEmpty else { return nil }
            indexes.append(Index(name: name, columns: columns, unique: unique != 0))
        }
        guard !indexes.isEmpty else { return nil }
        do {
            _ = try connection.prepare(Self.size)
        } catch {
            return nil  // a SQLite built without dbstat: integrity_check(T) decides
        }
        return IndexContentCheck(table: table, indexes: indexes, rowid: rowid)
    }

    /// One row for the rows of `[?1, ?2]` (rowids): per index, the digest of the entries it
    /// should hold.
    func tableDigests() -> String {
        let digests = indexes.map { index in
            "\(EntryDigest.function)(\((index.columns.map { "o.\(Self.quoted($0))" } + ["o.\(rowid)"]).joined(separator: ", ")))"
        }
        return "SELECT \(digests.joined(separator: ", ")) FROM main.\(Self.quoted(table)) AS o NOT INDEXED WHERE o.\(rowid) BETWEEN ?1 AND ?2"
    }

    /// The program of a scan of `index` alone: its one `OpenRead` of an index cursor (p4 a key
    /// description, `k(…)`) names the root page SQLite itself reads the index from. (dbstat and
    /// sqlite_schema go by name, which a trigger's row may share.)
    func rootProgram(_ index: Index) -> String {
        "EXPLAIN SELECT 1 FROM main.\(Self.quoted(table)) INDEXED BY \(Self.quoted(index.name))"
    }

    /// One row for b-trees named `?1`, by dbstat's walk of them: how many roots, the root page,
    /// then the cells, payload bytes and pages they hold.
    static let size = "SELECT count(*) FILTER (WHERE path = '/'), max(pageno) FILTER (WHERE path = '/'), sum(ncell), sum(payload), count(*) FROM dbstat WHERE name = ?1"

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
