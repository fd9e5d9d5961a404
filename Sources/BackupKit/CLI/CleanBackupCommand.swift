import ArgumentParser
import Foundation

/// `clean-backup`: apply the retention policy.
package struct CleanBackupCommand: RunnableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "clean-backup",
        abstract: "Delete the backups no retention rule keeps, from storage and catalog.",
        discussion: """
            Each rule that is set keeps a set of backups; a backup is deleted only
            when no rule keeps it. With no rule set, backups younger than 30 days are
            kept. The newest backup of each database is always kept. Rules come from
            these flags or from BACKUP_RETENTION_DAYS, _COUNT, _DAILY, _WEEKLY and
            _MONTHLY.

            Examples:
              clean-backup                     keep 30 days
              clean-backup --keep-last 10      keep the newest 10
              clean-backup --keep-daily 7 --keep-weekly 4 --keep-monthly 12
              clean-backup --keep-days 14 --dry-run
                                               show what would go
              clean-backup --check             check the incremental backups'
                                               blocks are all stored; delete nothing
              clean-backup --adopt KEY         bring a Laju backup under retention

            \(ExitStatus.helpBlock([
                .ok: "ok",
                .failure: "unexpected failure, or some deletions failed",
                .usage: "usage",
                .dataError: "--check: some backup cannot be restored, or an object's\nmetadata does not verify (forged, renamed, re-dated)",
                .noInput: "--adopt: no such backup",
                .unavailable: "storage unavailable",
                .cannotCreate: "the catalog could not be written",
                .configuration: "configuration",
            ]))
            """,
        version: SuiteVersion.current
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

    @Option(name: .customLong("adopt"), help: ArgumentHelp(
        "Bring a backup without authenticated metadata (Laju's, an earlier version's) under retention: restore-check it in full, then record it sealed with the key that opened it. Repeatable; 'all' adopts every backup in scope that does not verify. Deletes nothing.",
        valueName: "key"))
    var adopt: [String] = []

    @Option(name: .customLong("unkeep"), help: ArgumentHelp(
        "Remove the keep-forever mark of a backup (in its catalog row); retention applies to it from the next clean. Repeatable; deletes nothing.",
        valueName: "key"))
    var unkeep: [String] = []

    @Flag(name: .customLong("check"), help: ArgumentHelp(
        "Check instead of cleaning: every incremental backup's manifest opens and each of its blocks lies in a stored pack; count orphaned packs. Deletes nothing."))
    var check = false

    package init() {}

    package func validate() throws {
        let modes = [check, !adopt.isEmpty, !unkeep.isEmpty].filter { $0 }.count
        if modes > 1 { throw ValidationError("--check, --adopt and --unkeep are separate runs: give one of them") }
        if (modes == 1) && (dryRun || [keepDays, keepLast, keepDaily, keepWeekly, keepMonthly].contains { $0 != nil }) {
            throw ValidationError("--check, --adopt and --unkeep delete nothing and apply no rule: use them without --dry-run and --keep-*")
        }
        for (flag, value) in [("--keep-days", keepDays), ("--keep-last", keepLast), ("--keep-daily", keepDaily),
                              ("--keep-weekly", keepWeekly), ("--keep-monthly", keepMonthly)] {
            if let value, !RetentionPolicy.limits.contains(value) {
                throw ValidationError("\(flag) \(value) is out of range: use a whole number from 1 to \(RetentionPolicy.limits.upperBound)")
            }
        }
    }

    var job: MetricsFile.Job? { check || !adopt.isEmpty || !unkeep.isEmpty ? nil : .clean }

    func execute(_ context: RunContext) throws -> any CommandResult {
        let settings = try context.settings()
        let console = context.console
        if check {
            guard settings.databases.count > 1 else { return try CheckOperation(settings: settings, console: console).run() }
            return DatabaseFanOut(settings: settings, console: console, job: nil, verb: "checked").run {
                try CheckOperation(settings: $0, console: console).run()
            }
        }
        if !adopt.isEmpty { return try RecordSealOperation(settings: settings, console: context.console).adopt(adopt) }
        if !unkeep.isEmpty { return try RecordSealOperation(settings: settings, console: context.console).unkeep(unkeep) }
        let flags = RetentionPolicy(days: keepDays, count: keepLast, daily: keepDaily, weekly: keepWeekly, monthly: keepMonthly)
        let policy = try RetentionPolicy.resolve(overrides: flags, environment: settings.environment)
        guard settings.databases.count > 1 else {
            return try CleanOperation(settings: settings, policy: policy, console: console).run(dryRun: dryRun)
        }
        // Several databases: the rules for each one's backups, a result (and metrics series) each.
        return DatabaseFanOut(settings: settings, console: console, job: .clean, verb: dryRun ? "looked at" : "cleaned").run {
            try CleanOperation(settings: $0, policy: policy, console: console).run(dryRun: dryRun)
        }
    }
}

extension CleanResult: CommandResult {
    var exitStatus: ExitStatus { failed.isEmpty ? .ok : .failure }
    var metricsOutcome: MetricsFile.Outcome { failed.isEmpty ? .success(sizeBytes: keptBytes) : .failure }

    func render(on console: Console) {
        let verb = dryRun ? "would delete" : "deleted"
        let packs = packsDeleted.isEmpty && packsKept == 0 ? "" : "; \(verb) \(packsDeleted.count) unused pack(s), kept \(packsKept)"
        console.info("\(verb) \(deleted.count), kept \(kept.count), failed \(failed.count) (policy: \(policy))\(packs)")
    }
}

extension RecordSealOperation.Result: CommandResult {
    func render(on console: Console) {}
}

extension CheckResult: CommandResult {
    var exitStatus: ExitStatus { ok ? .ok : .dataError }

    func render(on console: Console) {
        for shared in sharedNames {
            console.warning(Inventory.sharedNameWarning((shared.name, shared.origins)))
        }
        for object in unauthenticated {
            console.error("\(object.objectKey) is not authenticated: \(object.problem); it is never chosen, counted or deleted")
        }
        for damage in damaged {
            console.error("\(damage.objectKey) cannot be restored: \(damage.problem)")
        }
        var line = "checked \(backupsChecked) incremental backup(s): \(blocksChecked) block(s) in \(packsInUse) pack(s)"
        line += damaged.isEmpty ? ", all stored" : "; \(damaged.count) damaged, \(packsMissing.count) pack(s) missing"
        line += "; \(orphanedPacks.count) orphaned pack(s) (\(Formatting.bytes(orphanedBytes)))"
        if !orphanedPacks.isEmpty { line += ", which the next clean-backup deletes" }
        if recentUnusedPacks > 0 { line += "; \(recentUnusedPacks) unused pack(s) younger than BACKUP_ABANDONED_UPLOAD_HOURS (a backup may be running)" }
        if fullBackups > 0 { line += "; \(fullBackups) full backup(s) not checked here (restore --verify-only reads them)" }
        console.info(line)
        if !unauthenticated.isEmpty {
            console.info("\(unauthenticated.count) object(s) do not verify: remove what you did not put there; Laju's and earlier versions' backups come under retention with 'clean-backup --adopt KEY'")
        }
        if !damaged.isEmpty {
            console.info("restore an older backup, or take a new one with 'backup' (the next incremental backup stores every block it cannot reuse)")
        }
    }
}
