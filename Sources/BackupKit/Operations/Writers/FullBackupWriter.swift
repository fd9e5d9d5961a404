import Foundation

/// A full backup: one object in Laju's format, the snapshot compressed and encrypted, its
/// sealed metadata in the object's headers (and in its catalog row).
struct FullBackupWriter: BackupWriter {
    func write(_ source: any DatabaseSource, check: DeferredCheck, in run: BackupRun) throws -> WrittenBackup {
        let settings = run.settings, storage = run.storage, key = run.key
        let objectKey = ObjectKey.make(prefix: settings.prefix, databaseName: run.origin.name,
                                       date: Date(timeIntervalSince1970: Double(run.createdAt) / 1000),
                                       compression: settings.compression)
        // quick_check runs beside the encoder, always: a full backup has no previous snapshot to equal.
        check.start()
        let started = ContinuousClock.now
        let upload = try storage.beginUpload(objectKey: objectKey, spoolDirectory: run.work.path)
        let consumed = Counter()
        let stage = "\(settings.compression.rawValue)+encrypt+\(storage.kind == .local ? "store" : "upload")"
        let encoding = run.console.progress(stage, total: source.expectedSize) { consumed.value }
        let encoded: EncodedObject
        let sealed: ObjectMetadata
        do {
            defer { encoding.finish() }
            var written = 0
            encoded = try BackupEncoder(key: key, algorithm: settings.compression, level: settings.compressionLevel)
                .encode(source: source, progress: consumed) { bytes in
                    try upload.write(bytes)
                    written += bytes.count
                    if Failpoint.midUpload.isSelected && written >= 6 << 20 && written - bytes.count < 6 << 20 { Failpoint.midUpload.reach() }
                }
            _ = try check.finish(unchanged: false)
            // Read and checked: the read transaction ends before the object is completed.
            source.close()
            Failpoint.beforeComplete.reach()
            var metadata = ObjectMetadata(encoded: encoded, compression: settings.compression, createdAt: run.createdAt,
                                          origin: run.origin, keyID: key.id)
            if run.keepForever { metadata[ObjectMetadata.Field.keep] = "forever" }
            sealed = MetadataSeal(key: key).seal(metadata, objectKey: objectKey)
            try upload.complete(metadata: sealed)
        } catch {
            upload.abort()
            throw error
        }
        let seconds = Formatting.durationSeconds(ContinuousClock.now - started)
        run.console.detail("quick_check ok; compressed, encrypted and stored in \(String(format: "%.1f s", seconds))")
        let record = BackupRecord(objectKey: objectKey, sealed: sealed, storage: storage)
        return WrittenBackup(objectKey: objectKey, sourceSize: encoded.sourceSize, storedSize: encoded.storedSize,
                             uploadedBytes: encoded.storedSize, checksum: encoded.md5Hex, objectsWritten: 1,
                             uploadSeconds: seconds, catalogRows: { try $0.insert(record) })
    }
}
