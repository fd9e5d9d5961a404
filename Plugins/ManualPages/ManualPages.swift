import Foundation
import PackagePlugin

/// `swift package manual-pages --executables DIR [--date YYYY-MM-DD] [--output DIR]`:
/// runs each built executable with `--experimental-dump-help` and writes its man page
/// (mdoc), ready to install as written: no `help` subcommand, a real SYNOPSIS, the exit
/// codes the help lists, paragraphs as `.Pp`. The output folder defaults to the plugin's
/// work folder (`.build/plugins/ManualPages/outputs`).
@main
struct ManualPages: CommandPlugin {
    static let tools = ["backup", "restore", "clean-backup"]

    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var extractor = ArgumentExtractor(arguments)
        guard let executables = extractor.extractOption(named: "executables").last else {
            throw ManualPagesError("pass --executables DIR: the folder of the built backup, restore and clean-backup")
        }
        let output = extractor.extractOption(named: "output").last.map { URL(fileURLWithPath: $0) }
            ?? context.pluginWorkDirectoryURL
        let date = try extractor.extractOption(named: "date").last.map(ManualDate.init(iso:)) ?? ManualDate(Date())
        guard extractor.remainingArguments.isEmpty else {
            throw ManualPagesError("unexpected arguments: \(extractor.remainingArguments.joined(separator: " "))")
        }
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        for tool in Self.tools {
            let help = try ToolHelp.dump(of: URL(fileURLWithPath: executables).appendingPathComponent(tool))
            let page = ManualPage(help: help, date: date, seeAlso: Self.tools.filter { $0 != tool })
            let file = output.appendingPathComponent("\(tool).1")
            try page.text.write(to: file, atomically: true, encoding: .utf8)
            print(file.path)
        }
    }
}

struct ManualPagesError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The page's date, as mdoc's `.Dd` writes it ("December 3, 2026").
struct ManualDate {
    let text: String

    init(_ date: Date) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMMM d, yyyy"
        text = formatter.string(from: date)
    }

    init(iso: String) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        guard let date = formatter.date(from: iso) else { throw ManualPagesError("--date \(iso): expected YYYY-MM-DD") }
        self.init(date)
    }
}
