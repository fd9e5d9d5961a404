import Foundation

/// Where and how to reach an S3-compatible bucket. Each setting is read from the first
/// variable set among its names, in this order: the suite's `S3_*`, then AWS's, then
/// Laju's `WASABI_*`.
///
/// | setting | variables | default |
/// |---|---|---|
/// | bucket | `S3_BUCKET`, `WASABI_BUCKET` | none |
/// | endpoint | `S3_ENDPOINT`, `AWS_ENDPOINT_URL`, `WASABI_ENDPOINT` | `https://s3.<region>.amazonaws.com` |
/// | region | `S3_REGION`, `AWS_REGION`, `AWS_DEFAULT_REGION`, `WASABI_REGION` | `us-east-1` |
/// | access key | `S3_ACCESS_KEY`, `AWS_ACCESS_KEY_ID`, `WASABI_ACCESS_KEY` | none |
/// | secret | `S3_SECRET_KEY`, `AWS_SECRET_ACCESS_KEY`, `WASABI_SECRET_KEY` | none |
/// | session token | `S3_SESSION_TOKEN`, `AWS_SESSION_TOKEN` | none |
public struct S3Configuration: Sendable, CustomStringConvertible {
    public var bucket: String
    /// `http` or `https`.
    public var scheme: String
    public var host: String
    public var port: Int?
    public var region: String
    public var accessKey: String
    let secretKey: String
    let sessionToken: String?
    /// Virtual-hosted addressing (`bucket.host/key`) instead of path-style (`host/bucket/key`).
    public var virtualHosted: Bool
    public var caBundle: String?
    /// Adds `x-amz-server-side-encryption: AES256`.
    public var serverSideEncryption: Bool
    /// Retries after the first attempt (`BACKUP_S3_RETRIES`, default 5).
    public var retries: Int
    /// Bytes per multipart part (`BACKUP_S3_PART_SIZE_MB`, default 5, at least 5; S3 allows
    /// 10,000 parts, so 5 MiB parts carry objects up to about 48 GiB: raise it beyond that).
    public var partSize: Int
    /// Objects larger than this go multipart (`BACKUP_S3_MULTIPART_THRESHOLD_MB`, default 5).
    public var multipartThreshold: Int
    /// Parts uploading at once while later blocks compress (`BACKUP_S3_PARALLEL_PARTS`, default 2).
    public var parallelParts: Int
    /// Seconds to wait for a connection (`BACKUP_S3_CONNECT_TIMEOUT`, default 10).
    public var connectTimeout: Int
    /// The first retry waits about this long; each later one twice as long, with jitter.
    public var retryBaseDelay: Double = 0.2

    static let mebibyte = 1 << 20

    public init(environment env: Environment) throws {
        func first(_ names: String...) -> String? { env.first(names)?.value }
        guard let bucket = first("S3_BUCKET", "WASABI_BUCKET") else {
            throw BackupError.configuration("BACKUP_STORAGE=s3 needs a bucket: set S3_BUCKET")
        }
        self.bucket = bucket
        region = first("S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION", "WASABI_REGION") ?? "us-east-1"
        guard let access = first("S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "WASABI_ACCESS_KEY"),
              let secret = first("S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "WASABI_SECRET_KEY") else {
            throw BackupError.configuration("S3 credentials are incomplete: set S3_ACCESS_KEY and S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
        }
        accessKey = access
        secretKey = secret
        sessionToken = first("S3_SESSION_TOKEN", "AWS_SESSION_TOKEN")

        let endpoint = first("S3_ENDPOINT", "AWS_ENDPOINT_URL", "WASABI_ENDPOINT") ?? "https://s3.\(region).amazonaws.com"
        let withScheme = endpoint.contains("://") ? endpoint : "https://" + endpoint
        guard let url = URLComponents(string: withScheme), let host = url.host, !host.isEmpty,
              url.scheme == "http" || url.scheme == "https" else {
            throw BackupError.configuration("S3_ENDPOINT=\(endpoint) is not an http(s) URL: write it like https://s3.wasabisys.com or http://127.0.0.1:9000")
        }
        scheme = url.scheme!
        self.host = host
        port = url.port
        virtualHosted = (first("S3_ADDRESSING") ?? "path").lowercased() == "virtual"
        caBundle = first("S3_CA_BUNDLE")
        serverSideEncryption = ["1", "true", "yes"].contains((first("BACKUP_SSE") ?? "").lowercased())
        retries = try env.integer("BACKUP_S3_RETRIES", in: 0...20) ?? 5
        partSize = (try env.integer("BACKUP_S3_PART_SIZE_MB", in: 5...5120) ?? 5) * Self.mebibyte
        multipartThreshold = (try env.integer("BACKUP_S3_MULTIPART_THRESHOLD_MB", in: 5...5120) ?? 5) * Self.mebibyte
        connectTimeout = try env.integer("BACKUP_S3_CONNECT_TIMEOUT", in: 1...600) ?? 10
        parallelParts = try env.integer("BACKUP_S3_PARALLEL_PARTS", in: 1...16) ?? 2
    }

    /// `host[:port]` as the Host header and the signature carry it.
    var authority: String {
        let base = virtualHosted ? "\(bucket).\(host)" : host
        return port.map { "\(base):\($0)" } ?? base
    }

    /// The raw (unencoded) request path for `key`, or for the bucket when nil.
    func path(for key: String?) -> String {
        let keyPart = key.map { "/" + $0 } ?? "/"
        return virtualHosted ? keyPart : "/" + bucket + (key == nil ? "" : keyPart)
    }

    /// The signer for these credentials.
    var signer: SigV4Signer {
        SigV4Signer(accessKey: accessKey, secretKey: secretKey, sessionToken: sessionToken, region: region)
    }

    /// The settings with the secret and token masked.
    public var description: String {
        "s3://\(bucket) at \(scheme)://\(authority) (region \(region), access key \(accessKey), secret ****)"
    }
}
