/// How a backup's bytes are compressed before they are encrypted, as the object's `comp`
/// metadata and the catalog's `compression` column record it. Both are read back on restore.
package enum CompressionAlgorithm: String, Sendable, Codable, CaseIterable {
    /// gzip (DEFLATE, by libdeflate): the default, and what Laju's `restore.ts` reads.
    case gzip
    /// Zstandard (libzstd): faster (about 1.8x on the bench database) but not smaller; Laju's `restore.ts` cannot read it.
    case zstd

    /// The levels `BACKUP_COMPRESSION_LEVEL` may choose.
    package var levels: ClosedRange<Int> {
        switch self {
        case .gzip: return 1...9
        case .zstd: return 1...19
        }
    }

    /// The level used when none is configured.
    package var defaultLevel: Int {
        switch self {
        case .gzip: return 6
        case .zstd: return 3
        }
    }

    /// The end of an object key: `.db.gz.enc` (Laju's) or `.db.zst.enc`.
    package var keySuffix: String {
        switch self {
        case .gzip: return ".db.gz.enc"
        case .zstd: return ".db.zst.enc"
        }
    }

    /// A compressor for one encoder thread.
    func makeBlockCompressor(level: Int) throws -> any BlockCompressor {
        switch self {
        case .gzip: return try GzipMemberWriter(level: level)
        case .zstd: return try ZstdFrameWriter(level: level)
        }
    }

    /// A decompressor for one restore (zstd's frames are decompressed on several threads).
    func makeStreamDecompressor() throws -> any StreamDecompressor {
        switch self {
        case .gzip: return try GzipStreamReader()
        case .zstd: return ParallelZstdReader()
        }
    }
}
