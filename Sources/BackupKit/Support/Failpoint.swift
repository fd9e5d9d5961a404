import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Named points where a run can be frozen for fault-injection tests, as databases use
/// failpoints: with `BACKUP_FAILPOINT=<name>` set, a run that reaches `<name>` prints
/// `failpoint <name> reached` on stderr and stops there until it is killed. Unset (always, in
/// normal use), each point costs one comparison.
///
/// Points: `mid-snapshot` (the snapshot file partly written), `after-snapshot`, `mid-upload` (after the first 6 MiB of the object are written),
/// `before-complete` (all bytes written, object not yet completed), `after-upload` (object
/// stored, catalog row not yet written), `mid-restore` (restore temp file partly written),
/// `before-place` (restore verified, before the rename or the copy into the target), `mid-put`
/// (an S3 PUT request, a whole object or a part, with half its body sent), `parts-uploaded`
/// (every part of an S3 multipart upload sent, the upload not yet completed).
public enum Failpoint {
    static let selected: String? = ProcessInfo.processInfo.environment["BACKUP_FAILPOINT"]

    /// Freezes the process if `name` is the selected failpoint.
    static func reach(_ name: String) {
        guard let selected, selected == name else { return }
        FileHandle.standardError.write(Data("failpoint \(name) reached\n".utf8))
        while true { pause() }
    }

    static var isActive: Bool { selected != nil }
}
