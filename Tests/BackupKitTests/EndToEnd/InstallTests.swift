import Foundation
import Testing

/// `make install` as an operator runs it: the layout under PREFIX and DESTDIR, man pages that
/// render, completions each shell accepts, executables that run without the source tree,
/// systemd units that `systemd-analyze verify` accepts, and `make uninstall`.
struct InstallTests {
    /// The package folder: the parent of the `.build` folder the executables were built in.
    static let packageDirectory: String = {
        var dir = Tool.binDirectory
        while !dir.isEmpty && dir != "/" && (dir as NSString).lastPathComponent != ".build" {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return (dir as NSString).deletingLastPathComponent
    }()

    static let tools = ["backup", "restore", "clean-backup"]

    func make(_ arguments: [String]) throws -> ToolRun {
        try Tool.runProcess("/usr/bin/make", ["--no-print-directory", "-C", Self.packageDirectory] + arguments,
                            in: Self.packageDirectory, timeout: 300)
    }

    /// Every regular file under `root`, relative to it.
    func files(under root: String) -> [String] {
        let all = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return all.filter { name in
            var directory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &directory) && !directory.boolValue
        }.sorted()
    }

    @Test("make install DESTDIR=… PREFIX=/usr lays out executables, man pages, completions and docs; make uninstall removes them all")
    func stagedLayout() throws {
        let stage = TemporaryDirectory()
        let install = try make(["install-files", "DESTDIR=\(stage.path)", "PREFIX=/usr"])
        #expect(install.status == 0, "\(install.output)")
        let expected = Self.tools.flatMap { tool in
            ["usr/bin/\(tool)", "usr/share/man/man1/\(tool).1", "usr/share/bash-completion/completions/\(tool)",
             "usr/share/zsh/site-functions/_\(tool)", "usr/share/fish/vendor_completions.d/\(tool).fish"]
        } + ["usr/share/man/man7/sqlite-s3-backup.7", "usr/share/doc/sqlite-s3-backup/README.md",
             "usr/share/doc/sqlite-s3-backup/crontab.example", "usr/share/doc/sqlite-s3-backup/systemd/example.env"]
        let installed = files(under: stage.path)
        for file in expected { #expect(installed.contains(file), "\(file) is installed: \(installed)") }
        #expect(installed.filter { $0.hasSuffix(".timer") }.count == 3 && installed.filter { $0.hasSuffix(".service") }.count == 3)
        #expect(FileManager.default.isExecutableFile(atPath: stage.file("usr/bin/backup")))
        let unit = try String(contentsOfFile: stage.file("usr/share/doc/sqlite-s3-backup/systemd/sqlite-s3-backup@.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/backup --quiet") && !unit.contains(stage.path), "units name PREFIX, not DESTDIR")

        let uninstall = try make(["uninstall", "DESTDIR=\(stage.path)", "PREFIX=/usr"])
        #expect(uninstall.status == 0, "\(uninstall.output)")
        #expect(files(under: stage.path).isEmpty, "left behind: \(files(under: stage.path))")
    }

    @Test("installed: man -l renders each page without a warning, the shells accept the completions, the executables run from elsewhere, systemd-analyze verify accepts the units")
    func installedWorks() throws {
        let prefix = TemporaryDirectory()
        let install = try make(["install-files", "PREFIX=\(prefix.path)"])
        #expect(install.status == 0, "\(install.output)")
        for page in Self.tools.map({ "share/man/man1/\($0).1" }) + ["share/man/man7/sqlite-s3-backup.7"] {
            let man = try Tool.runProcess("/usr/bin/man", ["-l", prefix.file(page)], in: prefix.path,
                                          environment: ["MANWIDTH": "80", "MAN_KEEP_FORMATTING": "0"])
            #expect(man.status == 0 && man.stderr.isEmpty, "\(page): \(man.stderr)")
            // Off a terminal groff makes bold by overstriking: drop "x\b" pairs to read the text.
            let text = man.stdout.replacingOccurrences(of: ".\u{8}", with: "", options: .regularExpression)
            #expect(text.contains("NAME") && text.contains("DESCRIPTION") && text.contains("65"), "\(page) renders its sections and exit codes")
        }
        for tool in Self.tools {
            // Installed as generated: the plugin's page is right without any editing.
            let generated = Self.packageDirectory + "/.build/plugins/ManualPages/outputs/\(tool).1"
            #expect(FileManager.default.contents(atPath: prefix.file("share/man/man1/\(tool).1")) == FileManager.default.contents(atPath: generated))
            let man = try Tool.runProcess("/usr/bin/man", ["--warnings", "-l", prefix.file("share/man/man1/\(tool).1")], in: prefix.path,
                                          environment: ["MANWIDTH": "200", "MAN_KEEP_FORMATTING": "0"])
            #expect(man.status == 0 && man.stderr.isEmpty, "\(tool).1: \(man.stderr)")
            let text = man.stdout.replacingOccurrences(of: ".\u{8}", with: "", options: .regularExpression)
            let synopsis = text.components(separatedBy: "SYNOPSIS\n").last?.split(separator: "\n").first.map(String.init) ?? ""
            #expect(synopsis.trimmingCharacters(in: .whitespaces).hasPrefix("\(tool) [--env-file path]"), "SYNOPSIS: \(synopsis)")
            #expect(!text.contains("subcommand") && !text.contains("help information.\n     help"), "no phantom help subcommand: \(text)")
            // EXIT STATUS lists exactly the codes --help lists, the two signals included.
            let help = try Tool.runProcess(Tool.path(tool), ["--help"], in: prefix.path).stdout
            let helpCodes = help.components(separatedBy: "Exit codes:\n").last!.split(separator: "\n")
                .prefix { $0.hasPrefix("  ") }.compactMap { Int($0.split(whereSeparator: \.isWhitespace).first ?? "") }
            #expect(helpCodes.contains(130) && helpCodes.contains(143) && helpCodes.contains(65))
            let exitSection = text.components(separatedBy: "EXIT STATUS\n").last!.components(separatedBy: "\nEXAMPLES").first!
            let pageCodes = exitSection.split(separator: "\n").compactMap { Int($0.split(whereSeparator: \.isWhitespace).first ?? "") }
            #expect(pageCodes == helpCodes, "\(tool): EXIT STATUS \(pageCodes), --help \(helpCodes)")
            #expect(!text.contains(">0 if an error occurs"))
        }
        for tool in Self.tools {
            let bash = try Tool.runProcess("/bin/bash", ["-n", prefix.file("share/bash-completion/completions/\(tool)")], in: prefix.path)
            #expect(bash.status == 0, "\(bash.stderr)")
            #expect(try String(contentsOfFile: prefix.file("share/zsh/site-functions/_\(tool)"), encoding: .utf8).hasPrefix("#compdef \(tool)"))
            #expect(try String(contentsOfFile: prefix.file("share/fish/vendor_completions.d/\(tool).fish"), encoding: .utf8).contains("complete -c '\(tool)'"))
            // Run from a folder with nothing of the source tree, as an installed tool.
            let help = try Tool.runProcess(prefix.file("bin/\(tool)"), ["--help"], in: prefix.path)
            #expect(help.status == 0 && help.stdout.contains("USAGE: \(tool)"), "\(help.output)")
        }

        // Templates need an instance: verify sqlite-s3-backup@test.service and friends, and
        // require not even a warning (systemd-analyze exits 0 on unknown keys).
        let units = TemporaryDirectory()
        let source = prefix.file("share/doc/sqlite-s3-backup/systemd/")
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where name.contains("@.") {
            try FileManager.default.copyItem(atPath: source + name, toPath: units.file(name.replacingOccurrences(of: "@.", with: "@test.")))
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: units.path).sorted()
        #expect(names.count == 6)
        let verify = try Tool.runProcess("/usr/bin/systemd-analyze", ["verify", "--man=no"] + names.map { units.file($0) }, in: units.path)
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.output)")
        for name in names where name.hasSuffix(".timer") {
            let timer = try String(contentsOfFile: units.file(name), encoding: .utf8)
            #expect(timer.contains("Persistent=true") && timer.contains("RandomizedDelaySec="), "\(name)")
        }
        for name in names where name.hasSuffix(".service") {
            let service = try String(contentsOfFile: units.file(name), encoding: .utf8)
            for setting in ["ProtectSystem=strict", "ReadWritePaths=", "PrivateTmp=true", "NoNewPrivileges=true", "ProtectHome=true",
                            "LoadCredential=backup.key:", "BACKUP_ENCRYPTION_KEY_FILE=%d/backup.key", "EnvironmentFile=/etc/sqlite-s3-backup/%i.env"] {
                #expect(service.contains(setting), "\(name) has \(setting)")
            }
        }
        // A broken unit is refused: the check can fail.
        try "[Service]\nExecStart=/nonexistent/backup\n".write(toFile: units.file("broken@test.service"), atomically: true, encoding: .utf8)
        let broken = try Tool.runProcess("/usr/bin/systemd-analyze", ["verify", "--man=no", units.file("broken@test.service")], in: units.path)
        #expect(broken.status != 0 || !broken.stderr.isEmpty)
        _ = try make(["uninstall", "PREFIX=\(prefix.path)"])
    }

    @Test("make deb: a package whose executables carry the Swift runtime; installed into a scratch root, --version runs with no toolchain on the loader path")
    func debianPackage() throws {
        let built = try make(["deb-files"])
        #expect(built.status == 0, "\(built.output)")
        let package = try #require(built.stdoutLines.last { $0.hasSuffix(".deb") }, "\(built.output)")
        let info = try Tool.runProcess("/usr/bin/dpkg-deb", ["-f", package, "Package", "Version", "Depends"], in: "/")
        let version = try String(contentsOfFile: Self.packageDirectory + "/Sources/BackupKit/Support/SuiteVersion.swift", encoding: .utf8)
        #expect(info.stdout.contains("Package: sqlite-s3-backup") && info.stdout.contains("libsqlite3-0"), "\(info.output)")
        let root = TemporaryDirectory("deb-root")
        for folder in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
            try FileManager.default.createDirectory(atPath: root.file(folder), withIntermediateDirectories: true)
        }
        #expect(FileManager.default.createFile(atPath: root.file("var/lib/dpkg/status"), contents: Data()))
        let install = try Tool.runProcess("/usr/bin/dpkg", ["--root=\(root.path)", "--force-depends", "--force-script-chrootless", "-i", package], in: "/")
        #expect(install.status == 0 && install.stdout.contains("Setting up sqlite-s3-backup"), "\(install.output)")
        for tool in Self.tools {
            let binary = root.file("usr/bin/\(tool)")
            let linked = try Tool.runProcess("/usr/bin/ldd", [binary], in: "/")
            #expect(linked.status == 0 && !linked.stdout.contains("swift") && !linked.stdout.contains("not found"), "\(tool): \(linked.stdout)")
            let run = try Tool.runProcess(binary, ["--version"], in: "/", environment: ["PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": ""])
            #expect(run.status == 0 && version.contains("\"\(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))\""), "\(tool): \(run.output)")
            #expect(info.stdout.contains("Version: \(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))"))
        }
        #expect(FileManager.default.fileExists(atPath: root.file("usr/share/man/man1/backup.1")))
    }
}
