import Foundation

/// When a failed S3 request is tried again: at most `retries` more times and within
/// `budget` seconds in all, each wait drawn with full jitter from 0 to `baseDelay·2ⁿ⁻¹`
/// (capped at `maxDelay`), or the server's `Retry-After` (capped too) when it gives one.
package struct S3RetryPolicy: Sendable {
    /// Retries after the first attempt (`BACKUP_S3_RETRIES`, default 5).
    package var retries: Int
    /// Seconds from the first attempt after which no retry starts (`BACKUP_S3_RETRY_SECONDS`, default 120).
    package var budget: TimeInterval
    package var baseDelay: TimeInterval = 1
    package var maxDelay: TimeInterval = 20

    package init(retries: Int, budget: TimeInterval) {
        self.retries = retries
        self.budget = budget
    }

    /// The wait before retry number `retry` (1-based).
    package func delay(retry: Int, retryAfter: TimeInterval?) -> TimeInterval {
        if let retryAfter { return min(max(0, retryAfter), maxDelay) }
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(max(0, retry - 1))))
        return Double.random(in: 0...ceiling)
    }

    /// Whether retry number `retry`, waiting `delay`, may start `elapsed` seconds after the first attempt.
    package func allows(retry: Int, delay: TimeInterval, elapsed: TimeInterval) -> Bool {
        retry <= retries && elapsed + delay <= budget
    }
}
