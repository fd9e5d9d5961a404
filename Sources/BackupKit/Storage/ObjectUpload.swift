/// An upload in progress. Nothing is visible under the final key until `complete`
/// returns; `abort` (or the process dying) leaves no listed object behind.
package protocol ObjectUpload: AnyObject {
    /// Appends bytes to the object, in order.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Makes the object and its metadata visible under the key, atomically.
    func complete(metadata: ObjectMetadata) throws
    /// Discards everything written. Safe to call more than once or after a failure.
    func abort()
}
