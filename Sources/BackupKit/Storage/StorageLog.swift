/// Where a storage reports what it does on the side: retries and detours (`detail`, shown
/// with `--verbose`) and surprises a user should see (`warning`).
package struct StorageLog: Sendable {
    package var detail: @Sendable (String) -> Void
    package var warning: @Sendable (String) -> Void

    package init(detail: @escaping @Sendable (String) -> Void, warning: @escaping @Sendable (String) -> Void) {
        self.detail = detail
        self.warning = warning
    }

    package static let silent = StorageLog(detail: { _ in }, warning: { _ in })
}

extension StorageLog {
    /// Details under `--verbose`, warnings always, on `console`.
    init(console: Console) {
        self.init(detail: { [console] in console.detail($0) }, warning: { [console] in console.warning($0) })
    }
}
