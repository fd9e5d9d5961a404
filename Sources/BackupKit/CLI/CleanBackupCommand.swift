import ArgumentParser
import Foundation

/// `clean-backup`: apply the retention policy.
public struct CleanBackupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "clean-backup",
        abstract: "Delete the backups no retention rule keeps, from storage and the catalog.",
        discussion: """
            Each rule that is set keeps a set of backups; a backup is deleted only when no
            rule keeps it. With no rule set, backups younger than 30 days are kept. The newest
            backup of each database is always kept. Rules come from these flags or from
            BACKUP_RETENTION_DAYS, _COUNT, _DAILY, _WEEKLY, _MONTHLY.

            Examples:
              clean-backup                                  keep 30 days
              clean-backup --keep-last 10                   keep the newest 10
              clean-backup --keep-daily 7 --keep-weekly 4 --keep-monthly 12
              clean-backup --keep-days 14 --dry-run         show what would go

            Exit codes: 0 ok, 1 unexpected or some deletions failed, 64 usage,
            69 storage unavailable, 78 configuration.
            """
    )

    @OptionGroup var options: CommonOptions

    @Option(name: .customLong("keep-days"), help: ArgumentHelp("Keep backups younger than N days.", valueName: "n"))
    var keepDays: Int?

    @Option(name: .customLong("keep-last"), help: ArgumentHelp("Keep the newest N backups.", valueName: "n"))
    var keepLast: Int?

    @Option(name: .customLong("keep-daily"), help: ArgumentHelp("Keep the newest backup of each of the last N days.", valueName: "n"))
    var keepDaily: Int?

    @Option(name: .customLong("keep-weekly"), help: ArgumentHelp("Keep the newest backup of each of the last N weeks.", valueName: "n"))
    var keepWeekly: Int?

    @Option(name: .customLong("keep-monthly"), help: ArgumentHelp("Keep the newest backup of each of the last N months.", valueName: "n"))
    var keepMonthly: Int?

    @Flag(name: .customLong("dry-run"), help: "List what would be deleted; delete nothing.")
    var dryRun = false

    public init() {}

    public func run() throws {
        var failures = 0
        try CommandRunner.run(tool: "clean-backup", options: options, job: .clean) { settings, console in
            let flags = RetentionPolicy(days: keepDays, count: keepLast, daily: keepDaily, weekly: keepWeekly, monthly: keepMonthly)
            let policy = try RetentionPolicy.resolve(overrides: flags, environment: settings.environment)
            let result = try CleanOperation(settings: settings, policy: policy, console: console).run(dryRun: dryRun)
            failures = result.failed.count
            return result
        } human: { result, console in
            let verb = result.dryRun ? "would delete" : "deleted"
            console.info("\(verb) \(result.deleted.count), kept \(result.kept.count), failed \(result.failed.count) (policy: \(result.policy))")
        }
        if failures > 0 { throw ExitCode(ExitStatus.failure.rawValue) }
    }
}
