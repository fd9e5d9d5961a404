import Foundation

/// The part of argument-parser's `--experimental-dump-help` document a man page needs.
struct ToolHelp: Decodable {
    struct Command: Decodable {
        let commandName: String
        let abstract: String?
        let discussion: String?
        let arguments: [Argument]?
    }

    struct Argument: Decodable {
        struct Name: Decodable {
            let kind: String   // "long", "short", "longWithSingleDash"
            let name: String
        }
        let kind: String       // "flag", "option", "positional"
        let names: [Name]?
        let valueName: String?
        let abstract: String?
        let discussion: String?
        let isOptional: Bool
        let isRepeating: Bool
        let shouldDisplay: Bool
    }

    let command: Command

    /// Runs `executable --experimental-dump-help` and decodes what it prints.
    static func dump(of executable: URL) throws -> Command {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--experimental-dump-help"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ManualPagesError("\(executable.path) --experimental-dump-help exited with \(process.terminationStatus)")
        }
        return try JSONDecoder().decode(ToolHelp.self, from: data).command
    }
}
