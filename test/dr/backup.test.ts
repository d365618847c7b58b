// Disaster recovery through the mocks and the pure builders: the backup storage and its settings,
// the CronJobs, their credentials and network paths, escrow, failover, the bucket policy rule, the
// cron reading behind the RPO rule, and the alert (promtool checks and unit-tests it).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import type { Evaluation, RecordedResource } from "../../tools/mock-engine";
import {
  evaluate,
  kubernetesObjects,
  objectNamed,
  ofKind,
  plainJson,
  secretPaths,
  withDisasterRecovery,
} from "../support/stacks";
import { buildBackupScripts, SCRIPT_FILES } from "../../components/dr/scripts";
import { BACKUP_NAMES, BACKUP_STATE_METRICS, HUB_SECRETS } from "../../components/dr/workloads";
import { POD_IDENTITY_AGENT } from "../../components/dr/cluster";
import { buildBackupRolePolicy, buildBucketPolicy } from "../../components/dr/documents";
import {
  BACKUP_ALERTS,
  BACKUP_RUNBOOK_DOC,
  buildBackupAlertRules,
  BACKUP_STATE_JOB,
} from "../../components/observability/backup-alerts";
import { renderPrometheusYaml } from "../../components/observability/prometheus";
import { MONITORING_NAMESPACE } from "../../components/naming";
import { DOCS_URL } from "../../components/observability/model";
import { longestGapSeconds, parseCronSchedule } from "../../stacks/cron";
import { backupBucketProtected } from "../../policy/rules/backup-storage";
import type { PlannedResource, StackContext } from "../../policy/types";
import { runPromtool } from "../support/promtool";

type Json = any;

const aws = (e: Evaluation, type: string): RecordedResource[] => e.resources.filter((r) => r.type === type);
const one = (e: Evaluation, type: string): RecordedResource => {
  const found = aws(e, type);
  assert.equal(found.length, 1, `${type}: ${found.length}`);
  return found[0];
};
/** A resource's inputs with every secret unwrapped (secrecy is asserted with secretPaths). */
const inputs = (r: RecordedResource): Json => JSON.parse(plainJson(r.inputs));
const podOf = (cronJob: RecordedResource): Json => inputs(cronJob).spec.jobTemplate.spec.template.spec;

describe("disaster recovery: storage, CronJobs, credentials, escrow and failover through the mocks", () => {
  let dev: Evaluation;
  let staging: Evaluation;
  let prod: Evaluation;
  before(async () => {
    dev = await evaluate("dev");
    // Backups need the in-hub database: the Open Source twins of staging and prod, with DR settings.
    staging = await evaluate("staging", withDisasterRecovery("staging"));
    prod = await evaluate("prod", withDisasterRecovery("prod"));
  });

  it("makes nothing where the stack declares no backup (dev, and the Enterprise stacks as shipped)", async () => {
    for (const e of [dev, await evaluate("prod")]) {
      assert.deepEqual(
        e.resources
          .filter(
            (r) =>
              (r.type.startsWith("aws:") && !r.type.startsWith("aws:eks/")) || r.urn.includes("hubspoke:dr:"),
          )
          .map((r) => r.urn),
        [],
      );
    }
  });

  it("prod: a rotating KMS key with an alias, and a bucket with every protection, all kept on destroy", () => {
    const key = inputs(one(prod, "aws:kms/key:Key"));
    assert.equal(key.enableKeyRotation, true);
    assert.equal(inputs(one(prod, "aws:kms/alias:Alias")).name, "alias/acme-conjur-hub-backups-prod");
    const bucket = one(prod, "aws:s3/bucket:Bucket");
    assert.equal(inputs(bucket).bucket, "acme-conjur-hub-backups-prod");
    assert.equal(inputs(bucket).objectLockEnabled, true);
    assert.equal(inputs(bucket).forceDestroy, false);
    const sse = inputs(
      one(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
    );
    assert.deepEqual(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
    assert.equal(sse.rules[0].bucketKeyEnabled, true);
    assert.match(sse.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId, /^arn:aws:kms:/);
    assert.deepEqual(inputs(one(prod, "aws:s3/bucketVersioning:BucketVersioning")).versioningConfiguration, {
      status: "Enabled",
    });
    const lock = inputs(one(prod, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"));
    assert.deepEqual(lock.rule.defaultRetention, { mode: "COMPLIANCE", days: 30 });
    const lifecycle = inputs(one(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"));
    assert.equal(lifecycle.rules[0].expiration.days, 35);
    assert.equal(lifecycle.rules[0].filter.prefix, "conjur-hub/prod/");
    for (const r of prod.resources.filter(
      (x) => x.type.startsWith("aws:s3/") || x.type === "aws:kms/key:Key",
    ))
      assert.deepEqual([r.options.protect, r.options.retainOnDelete], [true, true], r.urn);
    const passphrase = prod.resources.find((r) => r.name === "dr-backup-passphrase");
    assert.equal(passphrase?.options.protect, true);
  });

  it("staging: no Object Lock, no escrow, nothing protected, the same bucket settings", () => {
    assert.equal(
      aws(staging, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").length,
      0,
    );
    assert.equal(aws(staging, "aws:secretsmanager/secret:Secret").length, 0);
    assert.equal(inputs(one(staging, "aws:s3/bucket:Bucket")).objectLockEnabled, false);
    assert.ok(!staging.resources.some((r) => r.type.startsWith("aws:") && r.options.protect));
    assert.deepEqual(
      backupBucketProtected.checkStack(planned(staging), {
        environment: "staging",
        protectIrreplaceable: false,
      }),
      [],
    );
  });

  it("the policy pack passes the stacks' buckets and names each missing setting on a bare one", () => {
    const ctx: StackContext = { environment: "prod", protectIrreplaceable: true };
    assert.deepEqual(backupBucketProtected.checkStack(planned(prod), ctx), []);
    const bare = planned(prod).filter((r) => r.type === "aws:s3/bucket:Bucket");
    const messages = backupBucketProtected.checkStack(bare, ctx).map((v) => v.message);
    for (const pattern of [/SSE-KMS/, /public access/, /not versioned/, /without TLS/, /Object Lock/])
      assert.ok(
        messages.some((m) => pattern.test(m)),
        `${pattern}: ${messages.join("; ")}`,
      );
  });

  it("prod: Pod Identity for the backup's ServiceAccount, a role limited to the prefix and the key", () => {
    const association = inputs(one(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation"));
    const cronJob = objectNamed(prod, "CronJob", BACKUP_NAMES.cronJob);
    assert.deepEqual(
      [association.clusterName, association.namespace, association.serviceAccount],
      ["prod-mgmt", inputs(cronJob).metadata.namespace, podOf(cronJob).serviceAccountName],
    );
    const trust = JSON.parse(inputs(one(prod, "aws:iam/role:Role")).assumeRolePolicy);
    assert.deepEqual(trust.Statement[0].Principal, { Service: "pods.eks.amazonaws.com" });
    const policy = JSON.parse(inputs(one(prod, "aws:iam/rolePolicy:RolePolicy")).policy);
    const actions = policy.Statement.flatMap((s: Json) => [s.Action].flat());
    assert.ok(!actions.some((a: string) => /Delete|\*/.test(a)), actions.join(","));
    assert.equal(policy.Statement[0].Resource, "arn:aws:s3:::acme-conjur-hub-backups-prod/conjur-hub/prod/*");
    assert.match(policy.Statement[2].Resource, /^arn:aws:kms:.*key\//);
    // The pods may reach the Pod Identity agent, and the file credentials are not mounted.
    const netpol = objectNamed(prod, "NetworkPolicy", BACKUP_NAMES.cronJob);
    assert.ok(
      inputs(netpol).spec.egress.some((e: Json) =>
        e.to.some((t: Json) => t.ipBlock?.cidr === POD_IDENTITY_AGENT.cidr),
      ),
    );
    assert.ok(!podOf(cronJob).volumes.some((v: Json) => v.name === "aws-credentials"));
  });

  it("staging (not EKS): the documented credentials Secret, read as a file, and no Pod Identity", () => {
    assert.equal(aws(staging, "aws:eks/podIdentityAssociation:PodIdentityAssociation").length, 0);
    const pod = podOf(objectNamed(staging, "CronJob", BACKUP_NAMES.cronJob));
    assert.deepEqual(pod.volumes.find((v: Json) => v.name === "aws-credentials").secret, {
      secretName: "conjur-backup-aws",
    });
    const upload = pod.containers[0];
    assert.equal(
      upload.env.find((e: Json) => e.name === "AWS_SHARED_CREDENTIALS_FILE").value,
      "/secrets/aws/credentials",
    );
    assert.ok(!JSON.stringify(pod).includes("AWS_SECRET_ACCESS_KEY"));
  });

  it("the backup CronJob: Forbid, history limits, restricted pods, read-only roots, limits, dump before upload", () => {
    const cronJob = inputs(objectNamed(prod, "CronJob", BACKUP_NAMES.cronJob));
    assert.equal(cronJob.spec.schedule, "30 */4 * * *");
    assert.equal(cronJob.spec.concurrencyPolicy, "Forbid");
    assert.equal(cronJob.spec.successfulJobsHistoryLimit, 3);
    assert.equal(cronJob.spec.failedJobsHistoryLimit, 3);
    assert.equal(cronJob.spec.suspend, false);
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(
      pod.initContainers.map((c: Json) => c.name),
      ["dump"],
    );
    assert.deepEqual(
      pod.containers.map((c: Json) => c.name),
      ["upload"],
    );
    for (const c of [...pod.initContainers, ...pod.containers]) {
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] });
      assert.ok(c.resources.limits.cpu && c.resources.limits.memory);
    }
    assert.equal(pod.initContainers[0].image, "postgres:15.10");
    assert.equal(pod.containers[0].image, "amazon/aws-cli:2.27.50");
    // The Postgres password comes from the hub's Secret; no secret value in the spec.
    assert.deepEqual(secretPaths(objectNamed(prod, "CronJob", BACKUP_NAMES.cronJob).inputs), []);
  });

  it("the restore is the same pod in the other order, suspended so it runs only when started by hand", () => {
    const restore = inputs(objectNamed(prod, "CronJob", BACKUP_NAMES.restore));
    assert.equal(restore.spec.suspend, true);
    const pod = restore.spec.jobTemplate.spec.template.spec;
    assert.deepEqual(
      pod.initContainers.map((c: Json) => c.name),
      ["download"],
    );
    assert.deepEqual(
      pod.containers.map((c: Json) => c.name),
      ["restore"],
    );
    const backupPod = podOf(objectNamed(prod, "CronJob", BACKUP_NAMES.cronJob));
    assert.deepEqual(pod.volumes, backupPod.volumes);
  });

  it("mounts exactly the scripts the restore test runs, and reads the hub's Secrets by their real names", () => {
    const scripts = inputs(objectNamed(prod, "ConfigMap", BACKUP_NAMES.scripts)).data;
    assert.deepEqual(scripts, buildBackupScripts());
    const commands = [
      ...podOf(objectNamed(prod, "CronJob", BACKUP_NAMES.cronJob)).initContainers,
      ...podOf(objectNamed(prod, "CronJob", BACKUP_NAMES.restore)).containers,
    ].map((c: Json) => c.command[1]);
    assert.deepEqual(commands, [`/scripts/${SCRIPT_FILES.dump}`, `/scripts/${SCRIPT_FILES.apply}`]);
    for (const ref of Object.values(HUB_SECRETS)) {
      const secret = inputs(objectNamed(prod, "Secret", ref.name, "k8s-prod-mgmt"));
      assert.ok(ref.key in secret.stringData, `${ref.name} has no key ${ref.key}`);
    }
  });

  it("opens Postgres to the backup and restore pods, and kube-state-metrics to the hub Prometheus only", () => {
    const fromBackup = inputs(objectNamed(prod, "NetworkPolicy", "conjur-postgres-from-backup")).spec;
    assert.deepEqual(
      fromBackup.ingress[0].from.map((f: Json) => f.podSelector.matchLabels["app.kubernetes.io/name"]),
      [BACKUP_NAMES.cronJob, BACKUP_NAMES.restore],
    );
    const ksm = inputs(objectNamed(prod, "NetworkPolicy", BACKUP_STATE_METRICS.name)).spec;
    assert.equal(
      ksm.ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
      MONITORING_NAMESPACE,
    );
    const role = inputs(objectNamed(prod, "Role", BACKUP_STATE_METRICS.name));
    assert.deepEqual(role.rules, [
      { apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] },
    ]);
    // Every DR object lands on the hub cluster's provider.
    for (const r of kubernetesObjects(prod).filter((x) => x.urn.includes("hubspoke:dr:HubBackup$")))
      assert.match(r.provider ?? "", /::k8s-prod-mgmt::/, r.urn);
  });

  it("prod escrow: a Secrets Manager secret under the backups' KMS key, its value a Pulumi secret", () => {
    const secret = inputs(one(prod, "aws:secretsmanager/secret:Secret"));
    assert.match(secret.kmsKeyId, /^arn:aws:kms:/);
    const version = one(prod, "aws:secretsmanager/secretVersion:SecretVersion");
    assert.deepEqual(secretPaths(version.inputs), ["secretString"]);
    const kit = prod.outputs["recoveryKit"];
    assert.deepEqual(secretPaths(kit), ["(root)"]);
  });

  it("prod failover: a health-checked PRIMARY and a SECONDARY for the certificate's hostname", () => {
    const check = inputs(one(prod, "aws:route53/healthCheck:HealthCheck"));
    assert.deepEqual(
      [check.type, check.fqdn, check.port, check.resourcePath],
      ["HTTPS", "conjur-primary.eu-west-1.acme.com", 443, "/"],
    );
    const records = aws(prod, "aws:route53/record:Record").map(inputs);
    assert.deepEqual(
      records
        .map((r: Json) => [
          r.name,
          r.failoverRoutingPolicies[0].type,
          r.records[0],
          r.healthCheckId !== undefined,
        ])
        .sort(),
      [
        ["conjur.acme.com", "PRIMARY", "conjur-primary.eu-west-1.acme.com", true],
        ["conjur.acme.com", "SECONDARY", "conjur-standby.eu-central-1.acme.com", false],
      ],
    );
    assert.equal(aws(staging, "aws:route53/record:Record").length, 0);
  });

  it("puts the backup-state scrape job and the hub-backup rule group into the hub Prometheus (prod), none in dev", () => {
    const data = (e: Evaluation, hub: string) =>
      inputs(objectNamed(e, "ConfigMap", "prometheus-config", `k8s-${hub}`)).data;
    const prodData = data(prod, "prod-mgmt");
    const config = YAML.parse(prodData["prometheus.yml"]);
    const job = config.scrape_configs.find((j: Json) => j.job_name === BACKUP_STATE_JOB);
    assert.deepEqual(job.static_configs[0].targets, [BACKUP_STATE_METRICS.target]);
    const rules = YAML.parse(prodData["rules.yml"]);
    assert.ok(rules.groups.some((g: Json) => g.name === "hub-backup"));
    assert.ok(
      !YAML.parse(data(dev, "dev-hub")["rules.yml"]).groups.some((g: Json) => g.name === "hub-backup"),
    );
    assert.ok(ofKind(prod, "Deployment").some((d) => inputs(d).metadata.name === BACKUP_STATE_METRICS.name));
  });
});

function planned(e: Evaluation): PlannedResource[] {
  return e.resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    props: inputs(r) as Record<string, unknown>,
    cluster: null,
    provider: null,
    opts: { protect: r.options.protect, retainOnDelete: r.options.retainOnDelete },
  }));
}

describe("disaster recovery: documents, schedules and the alert", () => {
  it("the bucket policy denies plain HTTP on the bucket and its objects, and uploads without SSE-KMS", () => {
    const policy = buildBucketPolicy("b");
    assert.deepEqual(policy.Statement[0].Resource, ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]);
    assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
    assert.equal(policy.Statement[1].Action, "s3:PutObject");
    const role = buildBackupRolePolicy({ bucket: "b", prefix: "p/q", kmsKeyArn: "arn:k" });
    assert.deepEqual(role.Statement[1].Condition, { StringLike: { "s3:prefix": ["p/q/*"] } });
  });

  it("reads the longest gap between runs the way the CronJob controller schedules them", () => {
    const gap = (s: string) => {
      const parsed = parseCronSchedule(s);
      assert.ok(parsed.ok, s);
      return parsed.ok ? longestGapSeconds(parsed.schedule) / 3600 : NaN;
    };
    assert.equal(gap("30 */4 * * *"), 4);
    assert.equal(gap("0 3 * * *"), 24);
    assert.equal(gap("0 3 * * 1-5"), 72);
    assert.equal(gap("@weekly"), 168);
    assert.equal(gap("0 0,12 * * *"), 12);
    assert.equal(gap("0 0 1 * *"), 31 * 24);
    // Both day fields set: either matches (the 1st, or any Monday).
    assert.ok(gap("0 0 1 * MON") <= 7 * 24);
    assert.equal(gap("*/15 * * * *"), 0.25);
  });

  describe("the alert, through promtool", () => {
    let dir: string;
    const input = {
      cluster: "prod-mgmt",
      target: BACKUP_STATE_METRICS.target,
      namespace: "conjur-system",
      cronJob: "conjur-backup",
      rpo: "6h",
      rpoSeconds: 6 * 3600,
    };
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-dr-rules-"));
      fs.writeFileSync(path.join(dir, "rules.yml"), renderPrometheusYaml(buildBackupAlertRules(input)));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("passes promtool check rules", () => {
      const result = runPromtool(["check", "rules", "rules.yml"], dir);
      assert.equal(result.status, 0, result.transcript);
    });

    it("fires when the last success is older than the RPO or never came, stays quiet while backups succeed", () => {
      const sel = `{job="${BACKUP_STATE_JOB}", namespace="conjur-system", cronjob="conjur-backup"}`;
      const labels = {
        alertname: BACKUP_ALERTS.stale,
        severity: "critical",
        cluster: "prod-mgmt",
        namespace: "conjur-system",
        cronjob: "conjur-backup",
      };
      // One sample a minute for 10 hours. `a+bxN` series: values in seconds since the epoch.
      const tests = {
        rule_files: ["rules.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            // Backups every 4 hours succeed: last success stays within 4h of "now".
            interval: "1m",
            input_series: [
              { series: `kube_cronjob_created${sel}`, values: "0+0x600" },
              {
                series: `kube_cronjob_status_last_successful_time${sel}`,
                values: `0+0x239 14400+0x239 28800+0x120`,
              },
              { series: `up{job="${BACKUP_STATE_JOB}"}`, values: "1+0x600" },
            ],
            alert_rule_test: [{ eval_time: "9h", alertname: BACKUP_ALERTS.stale, exp_alerts: [] }],
          },
          {
            // The last success at t=0, none after: stale once 6h have passed (plus `for: 5m`).
            interval: "1m",
            input_series: [
              { series: `kube_cronjob_created${sel}`, values: "0+0x600" },
              { series: `kube_cronjob_status_last_successful_time${sel}`, values: "0+0x600" },
              { series: `up{job="${BACKUP_STATE_JOB}"}`, values: "1+0x600" },
            ],
            alert_rule_test: [
              { eval_time: "6h", alertname: BACKUP_ALERTS.stale, exp_alerts: [] },
              {
                eval_time: "7h",
                alertname: BACKUP_ALERTS.stale,
                exp_alerts: [{ exp_labels: labels, exp_annotations: expectedAnnotations(input) }],
              },
            ],
          },
          {
            // Never succeeded: quiet for the first RPO after the CronJob appeared, then firing.
            interval: "1m",
            input_series: [
              { series: `kube_cronjob_created${sel}`, values: "0+0x600" },
              { series: `up{job="${BACKUP_STATE_JOB}"}`, values: "1+0x600" },
            ],
            alert_rule_test: [
              { eval_time: "5h", alertname: BACKUP_ALERTS.stale, exp_alerts: [] },
              {
                eval_time: "7h",
                alertname: BACKUP_ALERTS.stale,
                exp_alerts: [{ exp_labels: labels, exp_annotations: expectedAnnotations(input) }],
              },
            ],
          },
          {
            // kube-state-metrics gone: the second rule says the first cannot see.
            interval: "1m",
            input_series: [{ series: `up{job="${BACKUP_STATE_JOB}"}`, values: "1x10 0x60" }],
            alert_rule_test: [
              {
                eval_time: "60m",
                alertname: BACKUP_ALERTS.unobserved,
                exp_alerts: [
                  {
                    exp_labels: {
                      alertname: BACKUP_ALERTS.unobserved,
                      severity: "warning",
                      cluster: "prod-mgmt",
                    },
                    exp_annotations: {
                      summary: "The hub Prometheus of prod-mgmt cannot see the Conjur backup CronJob",
                      description: `kube-state-metrics (${BACKUP_STATE_METRICS.target}) has not been scraped for 15 minutes: ${BACKUP_ALERTS.stale} cannot fire while it is away.`,
                      ...runbookOf(BACKUP_ALERTS.unobserved),
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      fs.writeFileSync(path.join(dir, "rules.test.yml"), YAML.stringify(tests));
      const result = runPromtool(["test", "rules", "rules.test.yml"], dir);
      assert.equal(result.status, 0, result.transcript);
    });
  });
});

function expectedAnnotations(input: { cluster: string; namespace: string; cronJob: string; rpo: string }) {
  return {
    summary: `No successful Conjur backup on ${input.cluster} within the RPO (${input.rpo})`,
    description:
      `The last successful run of CronJob ${input.namespace}/${input.cronJob} is older than ${input.rpo}, ` +
      "or it has never succeeded: a restore now would lose more than the RPO allows. Check the failed Jobs' logs.",
    ...runbookOf(BACKUP_ALERTS.stale),
  };
}

/** Both runbook annotations: the alert's heading in docs/disaster-recovery.md (the link tests check it exists). */
function runbookOf(alert: string) {
  const anchor = alert.toLowerCase();
  return {
    runbook: `docs/${BACKUP_RUNBOOK_DOC}#${anchor}`,
    runbook_url: `${DOCS_URL}/${BACKUP_RUNBOOK_DOC}#${anchor}`,
  };
}
