/// Arithmetic on numbers read from storage, the catalog or settings, which may be absurd
/// (a 4 EiB sparse file, `uploaded_at` = 1e300): it saturates or says no, never traps.
extension Int64 {
    /// `self + other`, held at `Int64.max` (or `.min`) instead of overflowing.
    func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// The whole part of `value` when it is finite and fits; nil otherwise.
    init?(clamping value: Double) {
        guard value.isFinite, value > -9.2e18, value < 9.2e18 else { return nil }
        self.init(value.rounded(.towardZero))
    }
}

extension Sequence {
    /// The saturating sum of `value` over the elements.
    func saturatingSum(_ value: (Element) -> Int64) -> Int64 {
        reduce(Int64(0)) { $0.saturatingAdd(value($1)) }
    }
}
