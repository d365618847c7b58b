// Pure Kubernetes specs for the backup CronJob and the restore CronJob (suspended: the operator
// starts it with `kubectl create job --from=cronjob/conjur-restore`), both built by one pod builder
// from the same scripts. Two containers pass files through an emptyDir: the Postgres image does the
// database and gpg work, the AWS CLI image talks to S3. Pod Security `restricted`, read-only root
// filesystems, no service account token, fixed resources.
import type { Resources } from "../../stacks/defaults";
import {
  emptyDirVolume,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from "../kube";
import { CONJUR_NAMESPACE, POSTGRES_PORT, POSTGRES_SERVICE, workloadLabels } from "../naming";
import { BACKUP_ENV, SCRIPT_FILES, ScriptFile } from "./scripts";

/** Object names in the hub's namespace. */
export const BACKUP_NAMES = {
  cronJob: "conjur-backup",
  restore: "conjur-restore",
  serviceAccount: "conjur-backup",
  scripts: "conjur-backup-scripts",
  passphraseSecret: "conjur-backup-key",
} as const;

/** kube-state-metrics for the backup CronJob: its name, Service and port as the hub Prometheus scrapes it. */
export const BACKUP_STATE_METRICS = {
  name: "conjur-backup-metrics",
  port: 8080,
  telemetryPort: 8081,
  /** `host:port` of the Service, from the monitoring namespace. */
  target: `conjur-backup-metrics.${CONJUR_NAMESPACE}.svc:8080`,
} as const;

/** The hub's Secrets the backup reads (created by ConjurHub; test/dr/backup.test.ts checks the names). */
export const HUB_SECRETS = {
  dataKey: { name: "conjur-data-key", key: "key" },
  database: { name: "conjur-database", key: "password" },
  postgresTls: { name: "conjur-postgres-tls", key: "ca.crt" },
} as const;

export const PASSPHRASE_KEY = "passphrase";
/** Key of the credentials Secret (hubs not on EKS): an AWS shared credentials file. */
export const AWS_CREDENTIALS_KEY = "credentials";

/** uid/gid of the `postgres` user in the official image; the AWS CLI runs as the same user. */
const BACKUP_UID = 999;
const PATHS = {
  scratch: "/backup",
  scripts: "/scripts",
  tmp: "/tmp",
  passphrase: "/secrets/backup-key",
  dataKey: "/secrets/data-key",
  dbCa: "/etc/conjur/db-ca",
  awsCredentials: "/secrets/aws",
} as const;

export const BACKUP_RESOURCES: Resources = {
  cpuRequest: "100m",
  memoryRequest: "128Mi",
  cpuLimit: "1",
  memoryLimit: "512Mi",
};

export interface BackupPodInput {
  readonly namespace: string;
  readonly postgresImage: string;
  readonly awsCliImage: string;
  /** Conjur's version, recorded in each object's metadata. */
  readonly conjurVersion: string;
  readonly databaseUser: string;
  readonly databaseName: string;
  readonly bucket: string;
  readonly region: string;
  readonly prefix: string;
  readonly kmsKeyArn: string;
  /** Size bound of the scratch volume (the encrypted dump is written there). */
  readonly scratchSize: string;
  /** A Secret with an AWS credentials file (hubs not on EKS); EKS Pod Identity otherwise. */
  readonly awsCredentialsSecret?: string;
}

type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
};
type VolumeMount = { name: string; mountPath: string; readOnly?: boolean };

const env = (values: Record<string, string>): EnvVar[] =>
  Object.entries(values).map(([name, value]) => ({ name, value }));

function container(
  name: string,
  image: string,
  script: ScriptFile,
  envVars: EnvVar[],
  mounts: VolumeMount[],
) {
  return {
    name,
    image,
    command: ["/bin/sh", `${PATHS.scripts}/${script}`],
    env: envVars,
    resources: resourceRequirements(BACKUP_RESOURCES),
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [
      { name: "scripts", mountPath: PATHS.scripts, readOnly: true },
      { name: "scratch", mountPath: PATHS.scratch },
      { name: "tmp", mountPath: PATHS.tmp },
      ...mounts,
    ],
  };
}

/** Container names and scripts of each run: the database side (Postgres image) and the S3 side. */
const STEPS = {
  backup: {
    database: { name: "dump", script: SCRIPT_FILES.dump },
    s3: { name: "upload", script: SCRIPT_FILES.upload },
  },
  restore: {
    database: { name: "restore", script: SCRIPT_FILES.apply },
    s3: { name: "download", script: SCRIPT_FILES.download },
  },
} as const;

/**
 * The pod of one run: `database` (Postgres image: the dump or the restore) and `s3` (AWS CLI:
 * the upload or the download), ordered by making the first an init container.
 */
function backupPod(input: BackupPodInput, mode: "backup" | "restore") {
  const postgresEnv: EnvVar[] = [
    ...env({
      PGHOST: `${POSTGRES_SERVICE}.${input.namespace}.svc`,
      PGPORT: String(POSTGRES_PORT),
      PGUSER: input.databaseUser,
      PGDATABASE: input.databaseName,
      // The hub's Postgres serves TLS with a certificate of the estate's CA (ConjurHub).
      PGSSLMODE: "verify-full",
      PGSSLROOTCERT: `${PATHS.dbCa}/ca.crt`,
      HOME: PATHS.tmp,
      [BACKUP_ENV.scratch]: PATHS.scratch,
      [BACKUP_ENV.backupKeyFile]: `${PATHS.passphrase}/${PASSPHRASE_KEY}`,
      [BACKUP_ENV.dataKeyFile]: `${PATHS.dataKey}/${HUB_SECRETS.dataKey.key}`,
      [BACKUP_ENV.conjurVersion]: input.conjurVersion,
      [BACKUP_ENV.prefix]: input.prefix,
      [BACKUP_ENV.targetDatabase]: input.databaseName,
    }),
    {
      name: "PGPASSWORD",
      valueFrom: { secretKeyRef: { name: HUB_SECRETS.database.name, key: HUB_SECRETS.database.key } },
    },
  ];
  const awsEnv = env({
    HOME: PATHS.tmp,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    // Credentials come from Pod Identity or the mounted file, never from the node's metadata.
    AWS_EC2_METADATA_DISABLED: "true",
    [BACKUP_ENV.scratch]: PATHS.scratch,
    [BACKUP_ENV.bucket]: input.bucket,
    [BACKUP_ENV.prefix]: input.prefix,
    [BACKUP_ENV.kmsKeyArn]: input.kmsKeyArn,
    ...(input.awsCredentialsSecret
      ? { AWS_SHARED_CREDENTIALS_FILE: `${PATHS.awsCredentials}/${AWS_CREDENTIALS_KEY}` }
      : {}),
  });
  const postgresMounts: VolumeMount[] = [
    { name: "backup-key", mountPath: PATHS.passphrase, readOnly: true },
    { name: "data-key", mountPath: PATHS.dataKey, readOnly: true },
    { name: "db-ca", mountPath: PATHS.dbCa, readOnly: true },
  ];
  const awsMounts: VolumeMount[] = input.awsCredentialsSecret
    ? [{ name: "aws-credentials", mountPath: PATHS.awsCredentials, readOnly: true }]
    : [];
  const steps = STEPS[mode];
  const database = container(
    steps.database.name,
    input.postgresImage,
    steps.database.script,
    postgresEnv,
    postgresMounts,
  );
  const s3 = container(steps.s3.name, input.awsCliImage, steps.s3.script, awsEnv, awsMounts);
  const [first, second] = mode === "backup" ? [database, s3] : [s3, database];
  const name = mode === "backup" ? BACKUP_NAMES.cronJob : BACKUP_NAMES.restore;
  return {
    metadata: { labels: workloadLabels(name, mode) },
    spec: {
      restartPolicy: "Never",
      serviceAccountName: BACKUP_NAMES.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurityContext(BACKUP_UID, BACKUP_UID),
      initContainers: [first],
      containers: [second],
      volumes: [
        { name: "scripts", configMap: { name: BACKUP_NAMES.scripts, defaultMode: 0o555 } },
        emptyDirVolume("scratch", { sizeLimit: input.scratchSize }),
        emptyDirVolume("tmp", { sizeLimit: "64Mi" }),
        { name: "backup-key", secret: { secretName: BACKUP_NAMES.passphraseSecret } },
        {
          name: "data-key",
          secret: {
            secretName: HUB_SECRETS.dataKey.name,
            items: [{ key: HUB_SECRETS.dataKey.key, path: HUB_SECRETS.dataKey.key }],
          },
        },
        {
          name: "db-ca",
          secret: {
            secretName: HUB_SECRETS.postgresTls.name,
            items: [{ key: HUB_SECRETS.postgresTls.key, path: "ca.crt" }],
          },
        },
        ...(input.awsCredentialsSecret
          ? [{ name: "aws-credentials", secret: { secretName: input.awsCredentialsSecret } }]
          : []),
      ],
    },
  };
}

/** Concurrency, history and deadlines both CronJobs share. */
function cronJobSpec(schedule: string, suspend: boolean, template: ReturnType<typeof backupPod>) {
  return {
    schedule,
    timeZone: "Etc/UTC",
    suspend,
    // A backup still running when the next is due is not doubled; a missed run starts late, within an hour.
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: 3600,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
    jobTemplate: {
      metadata: { labels: template.metadata.labels },
      spec: {
        // A failed run is retried twice, then left failed for the alert and `kubectl logs`.
        backoffLimit: 2,
        activeDeadlineSeconds: 3600,
        ttlSecondsAfterFinished: 7 * 24 * 3600,
        template,
      },
    },
  };
}

/** The scheduled backup. */
export function buildBackupCronJobSpec(input: BackupPodInput & { schedule: string }) {
  return cronJobSpec(input.schedule, false, backupPod(input, "backup"));
}

/**
 * The restore, kept suspended so that it never runs on its own: it exists to be started by hand
 * (docs/disaster-recovery.md#restore-runbook). The schedule is a placeholder a suspended CronJob
 * never acts on.
 */
export function buildRestoreCronJobSpec(input: BackupPodInput) {
  return cronJobSpec("0 0 1 1 *", true, backupPod(input, "restore"));
}

/** The image's tag: Conjur's version as recorded in the backup metadata. */
export function imageVersion(image: string): string {
  const at = image.indexOf("@");
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(colon + 1) : "unknown";
}
