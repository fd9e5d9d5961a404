import Foundation

/// One executable's man page in mdoc, from its help. The discussion's paragraphs become the
/// DESCRIPTION; its titled blocks ("Examples:", "Exit codes:", any other "Title:" over
/// indented lines) become EXAMPLES, EXIT STATUS and literal subsections.
struct ManualPage {
    let help: ToolHelp.Command
    let date: ManualDate
    let seeAlso: [String]

    var text: String {
        let name = help.commandName
        let blocks = Block.parse(help.discussion ?? "")
        var lines = [
            ".Dd \(date.text)",
            ".Dt \(name.uppercased()) 1",
            ".Os",
            ".Sh NAME",
            ".Nm \(name)",
            ".Nd \(Self.escape(help.abstract ?? ""))",
            ".Sh SYNOPSIS",
            ".Nm",
        ]
        lines += arguments.map { ".Op \(Self.synopsis(of: $0))" }
        lines.append(".Sh DESCRIPTION")
        var first = true
        for block in blocks where block.section == nil {
            if !first { lines.append(".Pp") }
            first = false
            if let title = block.title {
                lines += [".Ss \(Self.escape(title))", ".Bd -literal -offset indent"] + block.lines.map(Self.escape) + [".Ed"]
            } else {
                lines += block.lines.map(Self.escape)
            }
        }
        lines += [".Sh OPTIONS", ".Bl -tag -width 6n"]
        for argument in arguments {
            lines.append(".It \(Self.synopsis(of: argument))")
            lines.append(Self.escape(argument.abstract ?? ""))
            if let discussion = argument.discussion, !discussion.isEmpty {
                lines += [".Pp"] + discussion.split(separator: "\n").map { Self.escape(String($0)) }
            }
        }
        lines.append(".El")
        if let exit = blocks.first(where: { $0.section == .exitStatus }) {
            lines += [".Sh EXIT STATUS", ".Bl -tag -width 5n -compact"]
            for (code, meaning) in Self.exitCodes(exit.lines) {
                lines += [".It \(code)", Self.escape(meaning)]
            }
            lines.append(".El")
        }
        if let examples = blocks.first(where: { $0.section == .examples }) {
            lines += [".Sh EXAMPLES", ".Bd -literal -offset indent"] + examples.lines.map(Self.escape) + [".Ed"]
        }
        lines.append(".Sh SEE ALSO")
        let references = seeAlso.map { "\($0) 1" } + ["sqlite-s3-backup 7"]
        lines += references.enumerated().map { index, reference in
            ".Xr \(reference)" + (index < references.count - 1 ? " ," : "")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The arguments a user sees (`help` subcommands are never among them: only the root
    /// command's arguments are read).
    private var arguments: [ToolHelp.Argument] {
        (help.arguments ?? []).filter(\.shouldDisplay)
    }

    /// `Fl -db Ar path ...`, `Fl h , Fl -help`.
    static func synopsis(of argument: ToolHelp.Argument) -> String {
        let value = argument.valueName ?? "value"
        if argument.kind == "positional" { return "Ar \(value)" + (argument.isRepeating ? " ..." : "") }
        let names = (argument.names ?? []).map { name in
            "Fl " + (name.kind == "long" ? "-" : "") + name.name
        }.joined(separator: " , ")
        guard argument.kind == "option" else { return names }
        return names + " Ar \(value)" + (argument.isRepeating ? " ..." : "")
    }

    /// `(code, meaning)` from the help's "  64  usage" lines; a more indented line continues
    /// the meaning above it.
    static func exitCodes(_ lines: [String]) -> [(String, String)] {
        var codes: [(String, String)] = []
        for line in lines {
            let trimmed = line.drop { $0 == " " }
            let code = trimmed.prefix { $0.isNumber }
            if !code.isEmpty, trimmed.dropFirst(code.count).first == " " {
                codes.append((String(code), trimmed.dropFirst(code.count).trimmingSpaces))
            } else if !codes.isEmpty {
                codes[codes.count - 1].1 += " " + trimmed.trimmingSpaces
            }
        }
        return codes
    }

    /// Text made safe for a roff text line: a backslash is `\e`, a hyphen `\-` (so flags
    /// copy as typed), and a line starting with `.` or `'` is not read as a request.
    static func escape(_ text: String) -> String {
        var escaped = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        if escaped.first == "." || escaped.first == "'" { escaped = "\\&" + escaped }
        return escaped
    }
}

/// A paragraph of the discussion: plain text, or a title line over indented lines.
struct Block {
    enum Section { case examples, exitStatus }
    let title: String?
    let lines: [String]

    var section: Section? {
        switch title {
        case "Examples": return .examples
        case "Exit codes": return .exitStatus
        default: return nil
        }
    }

    /// Splits on blank lines; a paragraph whose first line ends in ':' and whose other lines
    /// are all indented is titled, its lines kept with the common indentation removed.
    static func parse(_ discussion: String) -> [Block] {
        var paragraphs: [[String]] = [[]]
        for line in discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.trimmingSpaces.isEmpty {
                if !paragraphs[paragraphs.count - 1].isEmpty { paragraphs.append([]) }
            } else {
                paragraphs[paragraphs.count - 1].append(line)
            }
        }
        return paragraphs.filter { !$0.isEmpty }.map { lines in
            let body = lines.dropFirst()
            guard let head = lines.first, head.hasSuffix(":"), !head.hasPrefix(" "), !body.isEmpty,
                  body.allSatisfy({ $0.hasPrefix(" ") }) else {
                return Block(title: nil, lines: lines)
            }
            let indent = body.map { $0.prefix { $0 == " " }.count }.min() ?? 0
            return Block(title: String(head.dropLast()), lines: body.map { String($0.dropFirst(indent)) })
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
