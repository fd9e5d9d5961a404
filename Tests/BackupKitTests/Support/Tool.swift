import Foundation

/// What one run of an executable did.
struct ToolRun {
    let status: Int32
    let stdout: String
    let stderr: String

    var output: String { stdout + stderr }
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// Runs the built executables (`backup`, `restore`, `clean-backup`) as a user would: a
/// separate process, its own working directory, an environment made from scratch.
enum Tool {
    /// The folder holding the executables, next to the test bundle in `.build/<config>/`.
    static let binDirectory: String = {
        if let dir = ProcessInfo.processInfo.environment["BACKUP_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // The test binary may sit inside a .xctest bundle folder.
        while !dir.isEmpty && dir != "/" && !FileManager.default.isExecutableFile(atPath: dir + "/backup") {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }()

    static func path(_ name: String) -> String { binDirectory + "/" + name }

    /// Runs `name` with `arguments` in `directory`; `environment` is all it sees besides PATH and HOME.
    static func run(_ name: String, _ arguments: [String], in directory: String,
                    environment: [String: String] = [:], stdin: String? = nil, timeout: TimeInterval = 120) throws -> ToolRun {
        try runProcess(path(name), arguments, in: directory, environment: environment, stdin: stdin, timeout: timeout)
    }

    /// Runs any program the same way (python3 peers, sqlite checks).
    static func runProcess(_ executable: String, _ arguments: [String], in directory: String,
                           environment: [String: String] = [:], stdin: String? = nil, timeout: TimeInterval = 120) throws -> ToolRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                   "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/root"]
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        // Read both pipes while the process runs, so a chatty child never blocks.
        let outData = LockedData(), errData = LockedData()
        out.fileHandleForReading.readabilityHandler = { outData.append($0.availableData) }
        err.fileHandleForReading.readabilityHandler = { errData.append($0.availableData) }
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw ToolTimeout(command: "\(executable) \(arguments.joined(separator: " "))")
        }
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        outData.append(out.fileHandleForReading.readDataToEndOfFile())
        errData.append(err.fileHandleForReading.readDataToEndOfFile())
        return ToolRun(status: process.terminationStatus, stdout: outData.string, stderr: errData.string)
    }

    /// python3 with a script from the test fixtures.
    static func python(_ script: String, _ arguments: [String], in directory: String, timeout: TimeInterval = 120) throws -> ToolRun {
        try runProcess(pythonPath, [Fixtures.path(script)] + arguments, in: directory, timeout: timeout)
    }

    /// The test venv's python (`make test-deps` makes it in `.build/venv`, beside the
    /// executables' build folder), else the first python3 on PATH.
    static let pythonPath: String = {
        var dir = binDirectory
        while !dir.isEmpty && dir != "/" {
            if (dir as NSString).lastPathComponent == ".build" {
                let venv = dir + "/venv/bin/python3"
                if FileManager.default.isExecutableFile(atPath: venv) { return venv }
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
        for candidate in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map({ "\($0)/python3" })
            where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        return "/usr/bin/python3"
    }()
}

struct ToolTimeout: Error, CustomStringConvertible {
    let command: String
    var description: String { "timed out: \(command)" }
}

final class LockedData: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()
    func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
    var string: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}

/// Files shipped with the tests.
enum Fixtures {
    static func path(_ name: String) -> String {
        Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")
            ?? (Bundle.module.resourcePath! + "/Fixtures/" + name)
    }
}
