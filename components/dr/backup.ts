// HubBackup: where the hub's Conjur database is backed up to (a KMS key and an S3 bucket made
// by the stack), the backup CronJob and the suspended restore CronJob on the hub, their AWS
// credentials (EKS Pod Identity, or a documented Secret), the escrow secret, and the
// kube-state-metrics that lets the hub Prometheus see the last successful backup.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as iam from "@pulumi/aws/iam";
import * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import { PodIdentityAssociation } from "@pulumi/aws/eks/podIdentityAssociation";
import * as secretsmanager from "@pulumi/aws/secretsmanager";
import type { AwsProviders } from "../clusters";
import type { BackupSpec, StackSpec } from "../../stacks/spec";
import type { EstatePki } from "../pki";
import { namespacedMeta } from "../kube";
import { CONJUR_NAMESPACE } from "../naming";
import {
  buildBackupRolePolicy,
  buildBucketPolicy,
  buildEscrowDocument,
  buildLifecycleRules,
  buildPodIdentityTrustPolicy,
  renderPolicy,
} from "./documents";
import { buildBackupScripts } from "./scripts";
import {
  BACKUP_NAMES,
  buildBackupCronJobSpec,
  buildRestoreCronJobSpec,
  imageVersion,
  PASSPHRASE_KEY,
} from "./workloads";
import { backupNetworkPolicies, backupStateMetrics } from "./cluster";

export interface HubBackupArgs {
  /** The validated stack spec; `spec.backup` must be set. */
  readonly spec: StackSpec;
  /** Provider of the hub cluster. */
  readonly provider: k8s.Provider;
  /** The estate's CA, escrowed with the keys. */
  readonly pki: EstatePki;
  /** The Conjur data key (secret), escrowed. */
  readonly dataKey: pulumi.Input<string>;
  /** The stack's AWS provider of a region (shared with the EKS look-ups). */
  readonly awsProviders: AwsProviders;
}

const CONJUR_DATABASE = { user: "conjur", name: "conjur" } as const;

export class HubBackup extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;
  /** The escrow secret's ARN (prod), where the data key, backup key and CA can be read without the hub. */
  public readonly escrowSecretArn: pulumi.Output<string | undefined>;
  /** The client-side backup passphrase (secret): without it no backup object can be read. */
  public readonly backupPassphrase: pulumi.Output<string>;

  constructor(name: string, args: HubBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:dr:HubBackup", name, {}, opts);
    const { spec } = args;
    const backup = requireBackup(spec);
    // Backups must outlive any `pulumi destroy` of a prod rehearsal: protected and retained.
    const keep = spec.protectIrreplaceable ? { protect: true, retainOnDelete: true } : {};
    const awsOpts = { parent: this, provider: args.awsProviders(backup.region) };

    const storage = backupStorage(name, backup, awsOpts, keep);
    const passphrase = new random.RandomPassword(
      `${name}-passphrase`,
      { length: 64, special: false },
      { parent: this, ...(spec.protectIrreplaceable ? { protect: true } : {}) },
    );
    if (backup.credentials.kind === "podIdentity")
      podIdentity(name, backup, storage.key.arn, {
        parent: this,
        provider: args.awsProviders(spec.clusters[spec.hub.cluster]?.eks?.region ?? backup.region),
      });
    const escrow = backup.escrow
      ? escrowSecret(name, spec, args, storage.key.arn, passphrase.result, { ...awsOpts, ...keep })
      : undefined;
    hubObjects(name, spec, backup, storage.key.arn, passphrase.result, {
      parent: this,
      provider: args.provider,
    });

    this.bucketName = storage.bucket.bucket;
    this.kmsKeyArn = storage.key.arn;
    this.escrowSecretArn = escrow ? escrow.arn : pulumi.output(undefined);
    this.backupPassphrase = pulumi.secret(passphrase.result);
    this.registerOutputs({ bucketName: this.bucketName, kmsKeyArn: this.kmsKeyArn });
  }
}

function requireBackup(spec: StackSpec): BackupSpec {
  if (!spec.backup) throw new Error("internal: HubBackup without spec.backup");
  return spec.backup;
}

/** The KMS key and the bucket with every setting the policy pack checks. */
function backupStorage(
  name: string,
  backup: BackupSpec,
  opts: pulumi.CustomResourceOptions,
  keep: pulumi.CustomResourceOptions,
) {
  const key = new kms.Key(
    `${name}-kms-key`,
    {
      description: `hubspoke: Conjur hub backups in s3://${backup.bucket}`,
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      deletionWindowInDays: 30,
    },
    { ...opts, ...keep },
  );
  new kms.Alias(`${name}-kms-alias`, { name: `alias/${backup.bucket}`, targetKeyId: key.keyId }, opts);
  const bucket = new s3.Bucket(
    `${name}-bucket`,
    {
      bucket: backup.bucket,
      // Object Lock can only be switched on when the bucket is created.
      objectLockEnabled: backup.objectLock !== undefined,
      forceDestroy: false,
    },
    { ...opts, ...keep },
  );
  // The plain name, so the policy pack can match each setting to its bucket before anything exists.
  const bucketName = backup.bucket;
  const sideOpts = { ...opts, ...keep, dependsOn: [bucket] };
  new s3.BucketPublicAccessBlock(
    `${name}-public-access-block`,
    {
      bucket: bucketName,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    sideOpts,
  );
  const versioning = new s3.BucketVersioning(
    `${name}-versioning`,
    { bucket: bucketName, versioningConfiguration: { status: "Enabled" } },
    sideOpts,
  );
  new s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucketName,
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
          bucketKeyEnabled: true,
        },
      ],
    },
    sideOpts,
  );
  new s3.BucketPolicy(
    `${name}-bucket-policy`,
    { bucket: bucketName, policy: renderPolicy(buildBucketPolicy(backup.bucket)) },
    sideOpts,
  );
  new s3.BucketLifecycleConfiguration(
    `${name}-lifecycle`,
    { bucket: bucketName, rules: buildLifecycleRules(backup.prefix, backup.retentionDays) },
    { ...sideOpts, dependsOn: [bucket, versioning] },
  );
  if (backup.objectLock) {
    new s3.BucketObjectLockConfiguration(
      `${name}-object-lock`,
      {
        bucket: bucketName,
        objectLockEnabled: "Enabled",
        rule: { defaultRetention: { mode: backup.objectLock.mode, days: backup.objectLock.days } },
      },
      { ...sideOpts, dependsOn: [bucket, versioning] },
    );
  }
  return { key, bucket };
}

/** A role only the backup's ServiceAccount can assume (EKS Pod Identity), limited to the prefix and the key. */
function podIdentity(
  name: string,
  backup: BackupSpec,
  kmsKeyArn: pulumi.Output<string>,
  opts: pulumi.CustomResourceOptions,
) {
  if (backup.credentials.kind !== "podIdentity") return;
  const role = new iam.Role(
    `${name}-role`,
    {
      description: `hubspoke: Conjur hub backups, ServiceAccount ${CONJUR_NAMESPACE}/${BACKUP_NAMES.serviceAccount}`,
      assumeRolePolicy: renderPolicy(buildPodIdentityTrustPolicy()),
    },
    opts,
  );
  new iam.RolePolicy(
    `${name}-role-policy`,
    {
      role: role.id,
      policy: kmsKeyArn.apply((arn) =>
        renderPolicy(buildBackupRolePolicy({ bucket: backup.bucket, prefix: backup.prefix, kmsKeyArn: arn })),
      ),
    },
    opts,
  );
  new PodIdentityAssociation(
    `${name}-pod-identity`,
    {
      clusterName: backup.credentials.clusterName,
      namespace: CONJUR_NAMESPACE,
      serviceAccount: BACKUP_NAMES.serviceAccount,
      roleArn: role.arn,
    },
    opts,
  );
}

/** Secrets Manager copy of what a restore needs besides the object, encrypted with the backup key. */
function escrowSecret(
  name: string,
  spec: StackSpec,
  args: HubBackupArgs,
  kmsKeyArn: pulumi.Output<string>,
  passphrase: pulumi.Output<string>,
  opts: pulumi.CustomResourceOptions,
) {
  const secret = new secretsmanager.Secret(
    `${name}-escrow`,
    {
      name: `hubspoke/${spec.environment}/conjur-hub-escrow`,
      description:
        "Conjur data key, backup passphrase and estate CA for restoring the hub (docs/disaster-recovery.md)",
      kmsKeyId: kmsKeyArn,
      recoveryWindowInDays: 30,
    },
    opts,
  );
  new secretsmanager.SecretVersion(
    `${name}-escrow-version`,
    {
      secretId: secret.id,
      secretString: pulumi
        .all([args.dataKey, passphrase, args.pki.rootCa.certPem, args.pki.rootCa.keyPem])
        .apply(([dataKey, backupKey, caCertPem, caKeyPem]) =>
          pulumi.secret(
            buildEscrowDocument({ account: spec.conjurAccount, dataKey, backupKey, caCertPem, caKeyPem }),
          ),
        ),
    },
    { ...opts, dependsOn: [secret] },
  );
  return secret;
}

/** The hub-side objects: passphrase Secret, scripts, ServiceAccount, the two CronJobs, network, metrics. */
function hubObjects(
  name: string,
  spec: StackSpec,
  backup: BackupSpec,
  kmsKeyArn: pulumi.Output<string>,
  passphrase: pulumi.Output<string>,
  opts: pulumi.CustomResourceOptions,
) {
  const meta = namespacedMeta(CONJUR_NAMESPACE);
  new k8s.core.v1.Secret(
    `${name}-passphrase-secret`,
    {
      metadata: meta(BACKUP_NAMES.passphraseSecret, "backup"),
      type: "Opaque",
      stringData: { [PASSPHRASE_KEY]: pulumi.secret(passphrase) },
    },
    opts,
  );
  const scripts = new k8s.core.v1.ConfigMap(
    `${name}-scripts`,
    { metadata: meta(BACKUP_NAMES.scripts, "backup"), data: buildBackupScripts() },
    opts,
  );
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    `${name}-service-account`,
    { metadata: meta(BACKUP_NAMES.serviceAccount, "backup"), automountServiceAccountToken: false },
    opts,
  );
  const pod = (arn: string) => ({
    namespace: CONJUR_NAMESPACE,
    postgresImage: spec.images.postgres,
    awsCliImage: spec.images.awsCli,
    conjurVersion: imageVersion(spec.images.conjur),
    databaseUser: CONJUR_DATABASE.user,
    databaseName: CONJUR_DATABASE.name,
    bucket: backup.bucket,
    region: backup.region,
    prefix: backup.prefix,
    kmsKeyArn: arn,
    scratchSize: spec.hub.postgres.storageSize,
    ...(backup.credentials.kind === "secret" ? { awsCredentialsSecret: backup.credentials.secretName } : {}),
  });
  const dependsOn = [scripts, serviceAccount];
  new k8s.batch.v1.CronJob(
    `${name}-cronjob`,
    {
      metadata: meta(BACKUP_NAMES.cronJob, "backup"),
      spec: kmsKeyArn.apply((arn) => buildBackupCronJobSpec({ ...pod(arn), schedule: backup.schedule })),
    },
    { ...opts, dependsOn },
  );
  new k8s.batch.v1.CronJob(
    `${name}-restore`,
    {
      metadata: meta(BACKUP_NAMES.restore, "restore"),
      spec: kmsKeyArn.apply((arn) => buildRestoreCronJobSpec(pod(arn))),
    },
    { ...opts, dependsOn },
  );
  backupNetworkPolicies(name, backup, opts);
  backupStateMetrics(name, spec, opts);
}
