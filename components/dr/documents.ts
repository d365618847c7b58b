// Pure AWS documents for the backups: the bucket policy, the backup role's trust and permissions,
// the lifecycle rules and the escrow secret's content. Plain values in, plain objects out.

/** An IAM policy statement, as AWS reads it. */
export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | Record<string, string | string[]>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

/**
 * The bucket refuses plain HTTP for everyone (AWS "Security best practices for Amazon S3":
 * aws:SecureTransport) and uploads not encrypted with SSE-KMS.
 */
export function buildBucketPolicy(bucket: string): PolicyDocument {
  const arn = bucketArn(bucket);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [arn, `${arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyUploadsWithoutKms",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${arn}/*`,
        Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } },
      },
    ],
  };
}

/** EKS Pod Identity's trust: the pods.eks.amazonaws.com service assumes the role and tags the session. */
export function buildPodIdentityTrustPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "EksPodIdentity",
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
      },
    ],
  };
}

/**
 * What the backup and the restore may do, and nothing more: put and read objects under the
 * prefix (HeadObject needs s3:GetObject), list that prefix only, and use the one KMS key for the
 * objects' envelope. No delete: a compromised pod cannot remove backups.
 */
export function buildBackupRolePolicy(input: {
  bucket: string;
  prefix: string;
  kmsKeyArn: string;
}): PolicyDocument {
  const arn = bucketArn(input.bucket);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "BackupObjects",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: `${arn}/${input.prefix}/*`,
      },
      {
        Sid: "ListBackupPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: arn,
        Condition: { StringLike: { "s3:prefix": [`${input.prefix}/*`] } },
      },
      {
        Sid: "BackupKey",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
        Resource: input.kmsKeyArn,
      },
    ],
  };
}

/**
 * Expire backups after the retention, and their noncurrent versions a day later; drop
 * unfinished multipart uploads. Object Lock (prod) keeps a locked version however the rules say.
 */
export function buildLifecycleRules(prefix: string, retentionDays: number) {
  return [
    {
      id: "expire-backups",
      status: "Enabled",
      filter: { prefix: `${prefix}/` },
      expiration: { days: retentionDays },
      noncurrentVersionExpiration: { noncurrentDays: 1 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    },
  ];
}

/** The escrow secret's JSON: what restoring Conjur needs besides the backup object itself. */
export function buildEscrowDocument(input: {
  account: string;
  dataKey: string;
  backupKey: string;
  caCertPem: string;
  caKeyPem: string;
}): string {
  return JSON.stringify({
    conjurAccount: input.account,
    conjurDataKey: input.dataKey,
    backupPassphrase: input.backupKey,
    caCertPem: input.caCertPem,
    caKeyPem: input.caKeyPem,
  });
}

export function renderPolicy(doc: PolicyDocument): string {
  return JSON.stringify(doc);
}
