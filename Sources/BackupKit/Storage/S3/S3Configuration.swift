import Foundation

/// Where and how to reach an S3-compatible bucket. Each setting is read from the first
/// variable set among its names, in this order: the suite's `S3_*`, then AWS's, then
/// Laju's `WASABI_*`.
///
/// | setting | variables | default |
/// |---|---|---|
/// | bucket | `S3_BUCKET`, `WASABI_BUCKET` | none |
/// | endpoint | `S3_ENDPOINT`, `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `WASABI_ENDPOINT` | `https://s3.<region>.amazonaws.com` |
/// | region | `S3_REGION`, `AWS_REGION`, `AWS_DEFAULT_REGION`, `WASABI_REGION`, the profile's `region` | `us-east-1` |
/// | credentials | see `CredentialChain` | none |
package struct S3Configuration: Sendable, CustomStringConvertible {
    package var bucket: String
    /// `http` or `https`.
    package var scheme: String
    package var host: String
    package var port: Int?
    /// The region signatures start with; a bucket elsewhere is found on the first answer.
    package var region: String
    /// Whether the endpoint was derived from the region (AWS), so it follows the bucket's region.
    package var endpointFollowsRegion: Bool
    /// Where the credentials come from (`CredentialChain`).
    let credentials: any CredentialProvider
    /// Virtual-hosted addressing (`bucket.host/key`) instead of path-style (`host/bucket/key`).
    package var virtualHosted: Bool
    /// Why virtual-hosted addressing was turned off, for `--verbose`.
    package var addressingNote: String?
    package var caBundle: String?
    /// Adds `x-amz-server-side-encryption: AES256`.
    package var serverSideEncryption: Bool
    /// S3 Object Lock for every object uploaded (`BACKUP_S3_OBJECT_LOCK`, `_DAYS`).
    package var objectLock: ObjectLockSettings?
    /// When to try again, and for how long (`BACKUP_S3_RETRIES`, `BACKUP_S3_RETRY_SECONDS`).
    package var retryPolicy: S3RetryPolicy
    /// Bytes per multipart part (`BACKUP_S3_PART_SIZE_MB`, default 8, at least 5; S3 allows
    /// 10,000 parts, so 8 MiB parts carry objects up to about 78 GiB: raise it beyond that).
    package var partSize: Int
    /// Objects larger than this go multipart (`BACKUP_S3_MULTIPART_THRESHOLD_MB`, default 8).
    package var multipartThreshold: Int
    /// Parts uploading at once (`BACKUP_S3_PARALLEL_PARTS`, default 4).
    package var parallelParts: Int
    /// Seconds to wait for a connection (`BACKUP_S3_CONNECT_TIMEOUT`, default 10).
    package var connectTimeout: Int

    static let mebibyte = 1 << 20

    package init(environment env: Environment) throws {
        func first(_ names: String...) -> String? { env.first(names)?.value }
        guard let bucket = first("S3_BUCKET", "WASABI_BUCKET") else {
            throw BackupError.configuration("BACKUP_STORAGE=s3 needs a bucket: set S3_BUCKET")
        }
        self.bucket = bucket
        let files = SharedConfigFiles(environment: env)
        let profile = files.profile(first("AWS_PROFILE", "AWS_DEFAULT_PROFILE") ?? "default")
        region = first("S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION", "WASABI_REGION") ?? profile?["region"] ?? "us-east-1"
        credentials = try CredentialChain.provider(environment: env, files: files, region: region)

        let configured = first("S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "WASABI_ENDPOINT")
        endpointFollowsRegion = configured == nil
        let endpoint = configured ?? "https://s3.\(region).amazonaws.com"
        let withScheme = endpoint.contains("://") ? endpoint : "https://" + endpoint
        guard let url = URLComponents(string: withScheme), let host = url.host, !host.isEmpty,
              url.scheme == "http" || url.scheme == "https" else {
            throw BackupError.configuration("S3_ENDPOINT=\(endpoint) is not an http(s) URL: write it like https://s3.wasabisys.com or http://127.0.0.1:9000")
        }
        scheme = url.scheme!
        self.host = host
        port = url.port
        virtualHosted = (first("S3_ADDRESSING") ?? "path").lowercased() == "virtual"
        // A dotted bucket name as a host name does not match the endpoint's wildcard
        // certificate (*.s3.amazonaws.com covers one label): path style keeps TLS verified.
        if virtualHosted && scheme == "https" && bucket.contains(".") {
            virtualHosted = false
            addressingNote = "bucket \(bucket) has dots, which virtual-hosted https cannot verify: using path-style addressing"
        }
        caBundle = first("S3_CA_BUNDLE")
        serverSideEncryption = ["1", "true", "yes"].contains((first("BACKUP_SSE") ?? "").lowercased())
        objectLock = try ObjectLockSettings.resolve(environment: env)
        retryPolicy = S3RetryPolicy(retries: try env.integer("BACKUP_S3_RETRIES", in: 0...20) ?? 5,
                                    budget: TimeInterval(try env.integer("BACKUP_S3_RETRY_SECONDS", in: 0...86_400) ?? 120))
        partSize = (try env.integer("BACKUP_S3_PART_SIZE_MB", in: 5...5120) ?? 8) * Self.mebibyte
        multipartThreshold = (try env.integer("BACKUP_S3_MULTIPART_THRESHOLD_MB", in: 5...5120) ?? 8) * Self.mebibyte
        connectTimeout = try env.integer("BACKUP_S3_CONNECT_TIMEOUT", in: 1...600) ?? 10
        parallelParts = try env.integer("BACKUP_S3_PARALLEL_PARTS", in: 1...16) ?? 4
    }

    /// `host[:port]` as the Host header and the signature carry it, for `host`.
    func authority(host: String) -> String {
        let base = virtualHosted ? "\(bucket).\(host)" : host
        return port.map { "\(base):\($0)" } ?? base
    }

    /// The configured endpoint's authority.
    var authority: String { authority(host: host) }

    /// The AWS endpoint of `region`, when the endpoint follows the region.
    func host(forRegion region: String) -> String {
        endpointFollowsRegion ? "s3.\(region).amazonaws.com" : host
    }

    /// The raw (unencoded) request path for `key`, or for the bucket when nil.
    func path(for key: String?) -> String {
        let keyPart = key.map { "/" + $0 } ?? "/"
        return virtualHosted ? keyPart : "/" + bucket + (key == nil ? "" : keyPart)
    }

    /// Where the credentials come from, never the secret.
    package var credentialSource: String { credentials.source }

    /// The settings, without any secret.
    package var description: String {
        "s3://\(bucket) at \(scheme)://\(authority) (region \(region), credentials from \(credentials.source))"
    }
}
