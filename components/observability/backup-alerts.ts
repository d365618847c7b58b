// The hub Prometheus' view of the Conjur backups: one scrape job for the kube-state-metrics that
// watches the backup CronJob (components/dr/cluster.ts), and one rule group that fires when the
// last successful backup is older than the RPO, or when that cannot be known. Pure.
import { alertingRule, type AlertingRule, type RuleFile, type ScrapeConfig } from "./prometheus";

export const BACKUP_STATE_JOB = "conjur-backup-state";
export const BACKUP_ALERTS = {
  stale: "ConjurBackupStale",
  unobserved: "ConjurBackupStateMissing",
} as const;
/**
 * The doc (under docs/) whose headings, named after the alerts, are their runbooks: `runbook` is
 * the section's path, `runbook_url` the same section on GitHub, as for every other alert
 * (test/observability-components.test.ts resolves both on a hub with backups).
 */
export const BACKUP_RUNBOOK_DOC = "disaster-recovery.md";

export interface BackupAlertInput {
  /** The hub cluster's name, for the alerts' `cluster` label. */
  readonly cluster: string;
  /** `host:port` of the kube-state-metrics Service. */
  readonly target: string;
  readonly namespace: string;
  readonly cronJob: string;
  /** The RPO as configured (for the text) and in seconds (for the expression). */
  readonly rpo: string;
  readonly rpoSeconds: number;
}

/** kube-state-metrics' own `namespace`/`cronjob` labels are kept (honor_labels). */
export function buildBackupStateScrapeJob(input: BackupAlertInput): ScrapeConfig {
  return {
    job_name: BACKUP_STATE_JOB,
    honor_labels: true,
    static_configs: [{ targets: [input.target], labels: { cluster: input.cluster } }],
  };
}

/**
 * `kube_cronjob_status_last_successful_time` exists once the CronJob has succeeded at least once;
 * before that, the CronJob's age stands in, so a fresh install does not fire before one RPO has
 * passed, and a backup that has never succeeded fires once it has.
 */
export function buildBackupAlertRules(input: BackupAlertInput): RuleFile<AlertingRule> {
  const sel = `{job="${BACKUP_STATE_JOB}", namespace="${input.namespace}", cronjob="${input.cronJob}"}`;
  const by = "max by (namespace, cronjob)";
  const lastSuccess = `${by} (kube_cronjob_status_last_successful_time${sel})`;
  const created = `${by} (kube_cronjob_created${sel})`;
  const rules = [
    alertingRule({
      alert: BACKUP_ALERTS.stale,
      expr:
        `(time() - ${lastSuccess} > ${input.rpoSeconds})` +
        ` or ((time() - ${created} > ${input.rpoSeconds}) unless ${lastSuccess})`,
      for: "5m",
      severity: "critical",
      cluster: input.cluster,
      summary: `No successful Conjur backup on ${input.cluster} within the RPO (${input.rpo})`,
      description:
        `The last successful run of CronJob ${input.namespace}/${input.cronJob} is older than ${input.rpo}, ` +
        "or it has never succeeded: a restore now would lose more than the RPO allows. Check the failed Jobs' logs.",
      runbookDoc: BACKUP_RUNBOOK_DOC,
    }),
    // Without kube-state-metrics the rule above sees nothing and stays silent.
    alertingRule({
      alert: BACKUP_ALERTS.unobserved,
      expr: `absent(up{job="${BACKUP_STATE_JOB}"} == 1)`,
      for: "15m",
      severity: "warning",
      cluster: input.cluster,
      summary: `The hub Prometheus of ${input.cluster} cannot see the Conjur backup CronJob`,
      description:
        `kube-state-metrics (${input.target}) has not been scraped for 15 minutes: ` +
        `${BACKUP_ALERTS.stale} cannot fire while it is away.`,
      runbookDoc: BACKUP_RUNBOOK_DOC,
    }),
  ];
  return { groups: [{ name: "hub-backup", rules }] };
}
