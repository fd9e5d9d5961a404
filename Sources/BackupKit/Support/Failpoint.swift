#if FAILPOINTS
import Foundation
#endif

/// Named points where a run can be frozen for fault-injection tests, as databases use
/// failpoints. They exist only in test builds (debug, where the `FAILPOINTS` condition is
/// set): there, with `BACKUP_FAILPOINT=<name>` set, a run that reaches `<name>` prints
/// `failpoint <name> reached` on stderr and stops until it is killed. In a release build
/// `BACKUP_FAILPOINT_RESUME=<file>` makes the run go on once that file exists instead (a
/// test pauses a backup mid-way, runs something beside it, then lets it finish). In a release
/// build every point compiles to nothing, so a stray `BACKUP_FAILPOINT` in a cron environment can
/// never freeze a backup while it holds the lock.
package enum Failpoint: String, CaseIterable, Sendable {
    /// The snapshot's first bytes read into the pipeline, the read transaction open.
    case midSnapshot = "mid-snapshot"
    /// The snapshot's read transaction open, nothing read yet.
    case afterSnapshot = "after-snapshot"
    /// The first 6 MiB of the object written (to the spool or the local temp file).
    case midUpload = "mid-upload"
    /// Every byte written, the object not yet completed.
    case beforeComplete = "before-complete"
    /// An S3 PUT (a whole object or a part) with half its body sent.
    case midPut = "mid-put"
    /// Every part of an S3 multipart upload sent, the upload not yet completed.
    case partsUploaded = "parts-uploaded"
    /// An incremental backup's new pack stored, its manifest not yet.
    case afterPacks = "after-packs"
    /// The object stored, its catalog row not yet written.
    case afterUpload = "after-upload"
    /// The restore's temp file partly written.
    case midRestore = "mid-restore"
    /// The restore verified, before the rename or the copy into the target.
    case beforePlace = "before-place"
    /// Not a stop: a new chain of incremental backups names its blocks by HMAC-SHA256, as
    /// versions before keyed BLAKE3 did (the test of a repository those versions wrote).
    case earlierBlockIDs = "earlier-block-ids"

    #if FAILPOINTS
    private static let selected = ProcessInfo.processInfo.environment["BACKUP_FAILPOINT"].flatMap(Failpoint.init(rawValue:))
    #else
    private static let selected: Failpoint? = nil
    #endif

    /// Whether this point is the one selected (always false in a release build).
    @inline(__always)
    var isSelected: Bool { Failpoint.selected == self }

    /// Freezes the process here if this point is selected.
    @inline(__always)
    func reach() {
        #if FAILPOINTS
        guard isSelected else { return }
        FileHandle.standardError.write(Data("failpoint \(rawValue) reached\n".utf8))
        if let resume = ProcessInfo.processInfo.environment["BACKUP_FAILPOINT_RESUME"] {
            while !FileManager.default.fileExists(atPath: resume) { usleep(20_000) }
            return
        }
        while true { pause() }
        #endif
    }
}
