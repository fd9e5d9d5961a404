import Foundation
@testable import BackupKit

/// A run of one executable paused at a failpoint (`BACKUP_FAILPOINT` with
/// `BACKUP_FAILPOINT_RESUME`): started, waited for until it says it reached the point, then
/// let go with `resume()`, which waits for its end.
final class PausedRun {
    private let process: Process
    private let errors = Pipe()
    private let output = Pipe()
    private let resumeFile: String
    private var stderr = Data()

    init(_ box: Sandbox, _ tool: String, _ arguments: [String], at failpoint: Failpoint, env: [String: String] = [:]) throws {
        resumeFile = box.file("resume-\(UUID().uuidString.prefix(8))")
        process = box.process(tool, arguments, env: env.merging(["BACKUP_FAILPOINT": failpoint.rawValue,
                                                                   "BACKUP_FAILPOINT_RESUME": resumeFile]) { $1 })
        process.standardError = errors
        process.standardOutput = output
        try process.run()
        while !String(decoding: stderr, as: UTF8.self).contains("failpoint \(failpoint.rawValue) reached") {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                throw SandboxFailure(description: "\(tool) ended (\(process.terminationStatus)) before \(failpoint.rawValue): \(String(decoding: stderr, as: UTF8.self))")
            }
            stderr += chunk
        }
    }

    /// Lets the run go on and waits for its end.
    func resume() throws -> ToolRun {
        guard FileManager.default.createFile(atPath: resumeFile, contents: Data()) else {
            throw SandboxFailure(description: "cannot create \(resumeFile)")
        }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        stderr += errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ToolRun(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }
}
