/// Transport settings shared by every request of a client.
struct HTTPOptions: Sendable {
    var connectTimeoutSeconds = 10
    /// A transfer slower than 1 byte/s for this long is cut (and retried).
    var stallTimeoutSeconds = 30
    /// A bound on the whole request, nil for none (metadata services answer at once or never).
    var totalTimeoutSeconds: Int?
    var caBundle: String?
}
