import Foundation

/// `BACKUP_PING_URL`: tells a dead man's switch (healthchecks.io, Uptime Kuma's push
/// monitors, cronitor) how each run went, in their push convention: `<url>/start` when a run
/// starts, `<url>` when it succeeded and `<url>/fail` with the error line as the body when it
/// failed. A query string stays at the end (`…/push/token/fail?status=down`). Each ping has
/// 10 seconds and two more attempts; one that still fails is a warning, never the run's
/// failure, and the warning names only the host (the URL itself is a credential).
package struct PingURL: Sendable {
    package enum Event: String, Sendable {
        case start = "/start"
        case success = ""
        case failure = "/fail"
    }

    static let options = HTTPOptions(connectTimeoutSeconds: 10, stallTimeoutSeconds: 10, totalTimeoutSeconds: 10)
    static let attempts = 3

    package let url: String

    package init(_ url: String) throws {
        guard let parts = URLComponents(string: url), ["http", "https"].contains(parts.scheme?.lowercased() ?? ""),
              parts.host?.isEmpty == false else {
            throw BackupError.configuration("BACKUP_PING_URL is not an http(s) URL: set it to your check's ping URL, e.g. https://hc-ping.com/<uuid>")
        }
        self.url = url
    }

    /// The URL of `event`: the suffix goes before the query, after a trailing slash is dropped.
    package func url(for event: Event) -> String {
        let query = url.firstIndex(of: "?")
        var base = String(url[..<(query ?? url.endIndex)])
        while base.hasSuffix("/") && event != .success { base.removeLast() }
        return base + event.rawValue + (query.map { String(url[$0...]) } ?? "")
    }

    /// Where pings go, for messages: the scheme and host only.
    var host: String {
        let parts = URLComponents(string: url)
        return "\(parts?.scheme ?? "http")://\(parts?.host ?? "?")"
    }

    /// Sends `event` (with `body` for a failure); says so on `console` when every attempt failed.
    package func send(_ event: Event, body: String? = nil, console: Console) {
        let http = CurlHandle()
        var problem = ""
        for attempt in 0..<Self.attempts {
            if attempt > 0 { Thread.sleep(forTimeInterval: Double(attempt)) }
            let request = HTTPRequest(method: body == nil ? "GET" : "POST", url: url(for: event),
                                      headers: body == nil ? [] : [("Content-Type", "text/plain; charset=utf-8")],
                                      body: body.map { HTTPBody.bytes(Array($0.utf8)) })
            do {
                let response = try http.perform(request, options: Self.options)
                if (200..<300).contains(response.status) { return }
                problem = "HTTP \(response.status)"
            } catch let failure as HTTPTransportError {
                problem = failure.message
            } catch {
                problem = "\(error)"
            }
        }
        let name = event == .success ? "success" : String(event.rawValue.dropFirst())
        console.warning("could not ping \(host) (\(name)) after \(Self.attempts) attempts: \(problem); the run itself is not affected, check BACKUP_PING_URL")
    }
}
