/// Where a backup's bytes come from: a consistent snapshot of one database, read once, in
/// order, straight into the pipeline (no copy on disk). SQLite's is `SQLiteSnapshotSource`;
/// a source may also be a stream of unknown length (a dump), so nothing here needs its size
/// before the end.
package protocol DatabaseSource: AnyObject, Sendable {
    /// The database, as messages name it.
    var path: String { get }
    /// The snapshot's page size; blocks of an incremental backup are whole pages (1 for a
    /// source without pages).
    var pageSize: Int { get }
    /// The snapshot's size in bytes when known before reading (progress, free space).
    var expectedSize: Int64? { get }
    /// Fills `buffer` with the snapshot's next bytes, in order; fewer only at the end, 0 past it.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Checks the snapshot (SQLite: `PRAGMA quick_check` on the very state being read). It
    /// runs on its own thread beside `read`; a backup is completed only if it passes.
    func verify() throws
    /// Ends the snapshot: its locks are released. Idempotent; reading afterwards fails.
    func close()
}

extension DatabaseSource {
    /// Reads until `buffer` is full or the snapshot ends.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}
