/// When an incremental backup runs `PRAGMA quick_check` on its snapshot. Measured on the
/// 1 GiB bench database, the check takes 1.07 s of one core whatever changed, more than the
/// whole pass after a 1% change, so it runs:
/// - on every snapshot that starts a manifest chain (a base, or a whole manifest after the
///   chain's bounds: a quarter of the blocks changed, or 32 links);
/// - on a delta when the chain's newest checked snapshot is `interval` old or more
///   (`BACKUP_CHECK_INTERVAL`, default 1 h; 0 checks every backup);
/// and it is skipped for a snapshot equal block for block to a checked one. A skipped check
/// is said (`-v`, `--json`'s `snapshot_check`); restore's `integrity_check` always runs.
///
/// The time of the chain's newest check (`checked_at`) lives in each authenticated manifest,
/// never in a label anyone could write. A manifest of an earlier version has none: every
/// snapshot those stored was checked, so its own time stands for it.
struct SnapshotCheckRule: Sendable {
    /// Milliseconds a delta may go unchecked after the chain's newest check.
    let intervalMillis: Int64

    static let defaultInterval: Double = 3600

    enum Decision: Equatable {
        /// Check this snapshot.
        case run
        /// Equal block for block to the previous snapshot, which passed the check.
        case skipUnchanged
        /// A delta within the interval of the chain's check at `checkedAt` (milliseconds).
        case skipRecent(checkedAt: Int64)

        /// The `checked_at` the new manifest records.
        func checkedAt(createdAt: Int64) -> Int64 {
            if case .skipRecent(let checkedAt) = self { return checkedAt }
            return createdAt
        }

        /// `--json`'s `snapshot_check`.
        var label: String {
            switch self {
            case .run: "ok"
            case .skipUnchanged: "skipped_unchanged"
            case .skipRecent: "skipped_recent"
            }
        }
    }

    init(intervalSeconds: Double = Self.defaultInterval) {
        intervalMillis = Int64(max(0, min(intervalSeconds, 100 * 365 * 86400)) * 1000)
    }

    /// The time of the newest check a manifest records, when it is plausible: at or before the
    /// manifest's own time (an earlier version's manifest: its own time).
    static func checkedAt(of header: Manifest.Header) -> Int64? {
        guard let createdAt = header.createdAt else { return nil }
        let checked = header.checkedAt ?? createdAt
        return checked >= 0 && checked <= createdAt ? checked : nil
    }

    /// Whether a snapshot taken at `createdAt`, compared with `previous`, may skip its check as
    /// far as can be told before the pass: when not, the check starts at the first change.
    func maySkip(previous: Manifest.Header?, createdAt: Int64) -> Bool {
        guard let previous, let checked = Self.checkedAt(of: previous) else { return false }
        return isRecent(checked, at: createdAt)
    }

    /// The decision once the pass is done: `unchanged` against `previous`, and stored as a
    /// delta of `deltaParent` (nil: a whole manifest).
    func decide(unchanged: Bool, previous: Manifest.Header?, deltaParent: Manifest.Header?, createdAt: Int64) -> Decision {
        if unchanged, let previous, let checked = Self.checkedAt(of: previous), checked == previous.createdAt {
            return .skipUnchanged
        }
        if let deltaParent, let checked = Self.checkedAt(of: deltaParent), isRecent(checked, at: createdAt) {
            return .skipRecent(checkedAt: checked)
        }
        return .run
    }

    private func isRecent(_ checked: Int64, at createdAt: Int64) -> Bool {
        intervalMillis > 0 && checked <= createdAt && createdAt - checked < intervalMillis
    }
}
