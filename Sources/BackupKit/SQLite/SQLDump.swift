import Foundation

/// Writes a database as plain SQL, as the sqlite3 shell's `.dump` does: the schema, every
/// row as an INSERT, then indexes, triggers and views, in one transaction. The result loads
/// into a fresh database with `sqlite3 new.db < dump.sql`.
package struct SQLDump {
    private let connection: SQLiteConnection

    package init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Streams the dump to `sink` in chunks of about 1 MiB.
    package func write(to sink: ([UInt8]) throws -> Void) throws {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        func emit(_ text: String) throws {
            out.append(contentsOf: text.utf8)
            out.append(10)
            if out.count >= 1 << 20 { try sink(out); out.removeAll(keepingCapacity: true) }
        }
        try emit("PRAGMA foreign_keys=OFF;")
        try emit("BEGIN TRANSACTION;")
        let tables = try connection.query("""
            SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL
            ORDER BY name = 'sqlite_sequence', rowid
            """)
        var wroteSchema = false
        var analyzed = false
        for table in tables {
            let name = table[0].text ?? "", sql = table[1].text ?? ""
            if name == "sqlite_sequence" {
                try emit("DELETE FROM sqlite_sequence;")
            } else if name.hasPrefix("sqlite_stat") {
                if !analyzed { try emit("ANALYZE sqlite_schema;"); analyzed = true }
            } else if name.hasPrefix("sqlite_") {
                continue
            } else if sql.uppercased().hasPrefix("CREATE VIRTUAL TABLE") {
                // A virtual table's rows live in its shadow tables, which are dumped as tables.
                if !wroteSchema { try emit("PRAGMA writable_schema=ON;"); wroteSchema = true }
                try emit("INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql) VALUES('table',\(Self.quoted(name)),\(Self.quoted(name)),0,\(Self.quoted(sql)));")
                continue
            } else {
                try emit(sql + ";")
            }
            try dumpRows(of: name, into: &out, sink: sink)
        }
        for row in try connection.query("""
            SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND type IN ('index', 'trigger', 'view')
            ORDER BY rowid
            """) {
            try emit((row[0].text ?? "") + ";")
        }
        if wroteSchema { try emit("PRAGMA writable_schema=OFF;") }
        try emit("COMMIT;")
        try sink(out)
    }

    /// One INSERT per row, naming the stored columns (generated columns are left out).
    private func dumpRows(of table: String, into out: inout [UInt8], sink: ([UInt8]) throws -> Void) throws {
        let columns = try connection.query("SELECT name, hidden FROM pragma_table_xinfo(?)", [.text(table)])
            .filter { ($0[1].integer ?? 0) == 0 }
            .map { Self.identifier($0[0].text ?? "") }
        guard !columns.isEmpty else { return }
        let prefix = Array("INSERT INTO \(Self.identifier(table))(\(columns.joined(separator: ","))) VALUES(".utf8)
        let statement = try connection.prepare("SELECT \(columns.joined(separator: ",")) FROM \(Self.identifier(table))")
        while try statement.step() {
            out.append(contentsOf: prefix)
            for column in 0..<statement.columnCount {
                if column > 0 { out.append(44) }
                statement.appendLiteral(column: column, to: &out)
            }
            out.append(contentsOf: ");\n".utf8)
            if out.count >= 1 << 20 { try sink(out); out.removeAll(keepingCapacity: true) }
        }
    }

    /// `"name"`, with embedded quotes doubled.
    static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `'text'`, with embedded quotes doubled.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
