/// Where a storage reports what it does on the side: retries and detours (`detail`, shown
/// with `--verbose`) and surprises a user should see (`warning`).
public struct StorageLog: Sendable {
    public var detail: @Sendable (String) -> Void
    public var warning: @Sendable (String) -> Void

    public init(detail: @escaping @Sendable (String) -> Void, warning: @escaping @Sendable (String) -> Void) {
        self.detail = detail
        self.warning = warning
    }

    public static let silent = StorageLog(detail: { _ in }, warning: { _ in })
}
