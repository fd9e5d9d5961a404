import CSQLite

/// A prepared statement owned by Swift; finalized on release.
package final class SQLiteStatement {
    private let statement: OpaquePointer
    private let connection: SQLiteConnection

    init(_ statement: OpaquePointer, connection: SQLiteConnection) {
        self.statement = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(statement) }

    /// Binds values to `?` parameters in order.
    package func bind(_ values: [SQLiteValue]) throws {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let i): rc = sqlite3_bind_int64(statement, index, i)
            case .real(let d): rc = sqlite3_bind_double(statement, index, d)
            case .text(let s): rc = sqlite3_bind_text(statement, index, s, -1, CSQLite_transient())
            case .blob(let b): rc = sqlite3_bind_blob(statement, index, b, Int32(b.count), CSQLite_transient())
            }
            try connection.check(rc, context: "binding a value")
        }
    }

    /// Steps once: true when a row is ready.
    package func step() throws -> Bool {
        let rc = sqlite3_step(statement)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        try connection.check(rc, context: "running a statement")
        return false
    }

    /// Makes the statement ready to run again with new bindings.
    package func reset() throws {
        sqlite3_reset(statement)
        try connection.check(sqlite3_clear_bindings(statement), context: "resetting a statement")
    }

    /// The current row's values.
    package func row() -> [SQLiteValue] {
        (0..<sqlite3_column_count(statement)).map { column in
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
            case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
            case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(statement, column))
                guard count > 0, let base = sqlite3_column_blob(statement, column) else { return .blob([]) }
                return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
            default: return .null
            }
        }
    }
}

extension SQLiteStatement {
    /// The number of columns of a result row.
    var columnCount: Int { Int(sqlite3_column_count(statement)) }

    /// Appends the current row's `column` as an SQL literal that reads back to the same
    /// value: integers and blobs exactly, reals with 17 significant digits (infinities as
    /// ±1e999), text quoted (as a cast blob when it holds a NUL byte).
    func appendLiteral(column: Int, to out: inout [UInt8]) {
        let index = Int32(column)
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            out.append(contentsOf: String(sqlite3_column_int64(statement, index)).utf8)
        case SQLITE_FLOAT:
            let value = sqlite3_column_double(statement, index)
            if value.isNaN { out.append(contentsOf: "NULL".utf8) }
            else if value.isInfinite { out.append(contentsOf: (value < 0 ? "-1e999" : "1e999").utf8) }
            else {
                // Keep it a REAL when read back: "1" would load as an INTEGER.
                let text = String(format: "%.17g", value)
                out.append(contentsOf: text.utf8)
                if !text.contains(where: { $0 == "." || $0 == "e" }) { out.append(contentsOf: ".0".utf8) }
            }
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, index))
            let bytes = UnsafeRawBufferPointer(start: sqlite3_column_text(statement, index), count: count)
            if bytes.contains(0) {
                out.append(contentsOf: "CAST(".utf8)
                Self.appendHex(bytes, to: &out)
                out.append(contentsOf: " AS TEXT)".utf8)
            } else {
                out.append(39)
                for byte in bytes {
                    out.append(byte)
                    if byte == 39 { out.append(39) }
                }
                out.append(39)
            }
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            Self.appendHex(UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, index), count: count), to: &out)
        default:
            out.append(contentsOf: "NULL".utf8)
        }
    }

    private static func appendHex(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        out.append(contentsOf: "X'".utf8)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        out.append(39)
    }
}
