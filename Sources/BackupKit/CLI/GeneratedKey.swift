/// `backup --generate-key`: a new key, printed once.
struct GeneratedKey: CommandResult {
    var ok = true
    let encryptionKey: String

    func render(on console: Console) {
        console.result(encryptionKey)
    }
}
