import Foundation

/// An S3 error document: `<Error><Code>…</Code><Message>…</Message></Error>`.
struct S3ErrorDocument {
    let code: String
    let message: String

    init?(_ body: [UInt8]) {
        self.init(parsed: S3XMLElement.parse(body))
    }

    /// The error document `root` is, nil when it is not one.
    init?(parsed root: S3XMLElement?) {
        guard let root, root.name == "Error" else { return nil }
        code = root.value("Code") ?? ""
        message = root.value("Message") ?? ""
    }
}
