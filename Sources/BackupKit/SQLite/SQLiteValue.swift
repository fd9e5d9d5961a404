/// A value bound to or read from a SQLite statement.
package enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    package var text: String? {
        switch self {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .real(let d): return String(d)
        default: return nil
        }
    }

    package var integer: Int64? {
        switch self {
        case .integer(let i): return i
        case .real(let d): return Int64(clamping: d)
        case .text(let s): return Int64(s)
        default: return nil
        }
    }
}
