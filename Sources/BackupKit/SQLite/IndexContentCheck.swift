/// What `PRAGMA integrity_check(T)` adds to `quick_check` for a rowid table, as sequential
/// scans that can be split by rowid range over several connections. SQLite documents
/// quick_check as integrity_check without two checks, and its bytecode for a table is the
/// same row loop plus, per index:
///   - each row's entry is in the index (`OP_Found`, a seek on the key columns and the rowid):
///     "row R missing from index I";
///   - for a UNIQUE index, the entry after it has another key: "non-unique entry in index I";
///   - after the loop, the index holds as many entries as the table rows: "wrong # of entries
///     in index I".
/// Here the table's rows and the index's entries are each read once into an `EntryDigest`, and
/// the index's stored payload is summed by `dbstat`: equal digests and a payload no larger than
/// the smallest records of those entries mean the index holds exactly the records its rows
/// make, and records in strictly ascending order mean a seek finds each one (and, keys
/// included, that a UNIQUE index has no two entries with one key). Whatever does not come out
/// that way (a NULL or a NaN in a key, another collation's equal text, a record with a field
/// more) is left to integrity_check(T), so the verdict is always its verdict. Only the plainest
/// tables qualify:
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

    /// The index checks of `table` (a rowid table whose name was checked as stored) as
    /// queries, or nil when it does not qualify or SQLite would not read an index alone.
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
            guard row.count == 4, let name = row[0].text, let unique = row[1].integer, row[2].integer == 0, row[3].integer == 0 else { return nil }
            var columns: [String] = []
            let keys = try connection.query("SELECT cid, name, coll, \"desc\", coll \(unusual) FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno", [.text(name)])
            for key in keys {
                guard key.count == 5, let cid = key[0].integer, cid >= 0, let column = key[1].text, key[2].text?.uppercased() == "BINARY",
                      key[3].integer == 0, key[4].integer == 0, !real.contains(column.lowercased()) else { return nil }
                columns.append(column)
            }
            guard !columns.isEmpty else { return nil }
            indexes.append(Index(name: name, columns: columns, unique: unique != 0))
        }
        guard !indexes.isEmpty else { return nil }
        let check = IndexContentCheck(table: table, indexes: indexes, rowid: rowid)
        return try check.scansIndexes(on: connection) ? check : nil
    }

    /// One row for the rows of `[?1, ?2]` (rowids): per index, the digest of the entries it
    /// should hold.
    func tableDigests() -> String {
        let digests = indexes.map { index in
            let keys = index.columns.map { "o.\(Self.quoted($0))" } + ["o.\(rowid)"]
            return "\(EntryDigest.function)(\(EntryDigest.Order.none.rawValue), \(keys.joined(separator: ", ")))"
        }
        return "SELECT \(digests.joined(separator: ", ")) FROM \(Self.quoted(table)) AS o NOT INDEXED WHERE o.\(rowid) BETWEEN ?1 AND ?2"
    }

    /// One row: the digest of the entries `index` holds, read from the index alone in its order.
    func indexDigest(_ index: Index) -> String {
        let keys = index.columns.map { "i.\(Self.quoted($0))" } + ["i.\(rowid)"]
        let order = index.unique ? EntryDigest.Order.uniqueKeys : .ascending
        return "SELECT \(EntryDigest.function)(\(order.rawValue), \(keys.joined(separator: ", "))) FROM \(Self.quoted(table)) AS i INDEXED BY \(Self.quoted(index.name))"
    }

    /// One row: the payload bytes `index`'s b-tree stores (its records', headers included).
    static let payload = "SELECT payload FROM dbstat('main', 1) WHERE name = ?1"

    /// Whether SQLite plans each index's digest as a scan of that index alone, and can sum
    /// its payload (a SQLite built without dbstat cannot).
    private func scansIndexes(on connection: SQLiteConnection) throws -> Bool {
        for index in indexes {
            let plan = try connection.query("EXPLAIN QUERY PLAN " + indexDigest(index)).compactMap { $0.last?.text }
            guard plan == ["SCAN i USING COVERING INDEX \(index.name)"] else { return false }
        }
        do {
            _ = try connection.prepare(Self.payload)
        } catch {
            return false  // no dbstat: integrity_check(T) decides
        }
        return true
    }

    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
