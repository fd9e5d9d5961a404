/// `backup --generate-key`: a new key, printed once.
struct GeneratedKey: CommandResult {
    var ok = true
    let encryptionKey: String

    func render(on console: Console) {
        console.result(encryptionKey)
    }
}

/// `backup --generate-key-file PATH`: a new key written 0600 into a new file; only its id is shown.
struct GeneratedKeyFile: CommandResult {
    var ok = true
    let path: String
    let keyID: String

    static func write(to path: String) throws -> GeneratedKeyFile {
        if Files.exists(path) || Files.isDirectory(path) {
            throw BackupError.invalidArgument("--generate-key-file \(path) exists already: a key file is never replaced (the backups made with it need it); choose another path")
        }
        let text = try EncryptionKey.generateBase64()
        let file = try FileDescriptor.createPrivate(path)
        try file.write(Array((text + "\n").utf8))
        try file.sync()
        try file.close()
        return GeneratedKeyFile(path: path, keyID: try EncryptionKey.parse(text, source: path).id)
    }

    func render(on console: Console) {
        console.info("wrote a new key (id \(keyID)) to \(path), mode 0600: set BACKUP_ENCRYPTION_KEY_FILE=\(path), and keep a copy somewhere safe (without it no backup restores)")
    }
}
