// Backup buckets keep their protections: every S3 bucket the stack makes is encrypted with
// SSE-KMS (bucket key on), blocks all public access, keeps versions, refuses plain HTTP, and in
// stacks that protect irreplaceable resources (prod) has Object Lock with a default retention.
// The side resources are matched to their bucket by the bucket name they configure.
import { asArray, asRecord, asString, field } from "../kubernetes";
import type { PlannedResource, StackRule, Violation } from "../types";

const TYPES = {
  bucket: "aws:s3/bucket:Bucket",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
} as const;

const sideOf = (resources: PlannedResource[], type: string, bucket: string) =>
  resources.filter((r) => r.type === type && asString(r.props["bucket"]) === bucket);

function encrypted(r: PlannedResource): boolean {
  return asArray(r.props["rules"]).some((rule) => {
    const byDefault = asRecord(field(rule, "applyServerSideEncryptionByDefault"));
    return asString(byDefault?.["sseAlgorithm"]) === "aws:kms" && field(rule, "bucketKeyEnabled") === true;
  });
}

function blocksPublicAccess(r: PlannedResource): boolean {
  return ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
    (k) => r.props[k] === true,
  );
}

function versioned(r: PlannedResource): boolean {
  return asString(field(r.props, "versioningConfiguration", "status")) === "Enabled";
}

/** A statement denying every request where aws:SecureTransport is false. */
function deniesPlainHttp(r: PlannedResource): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(asString(r.props["policy"]) ?? "");
  } catch {
    return false;
  }
  return asArray(field(doc, "Statement")).some(
    (s) =>
      field(s, "Effect") === "Deny" &&
      String(field(s, "Condition", "Bool", "aws:SecureTransport")) === "false",
  );
}

function locked(r: PlannedResource): boolean {
  const retention = asRecord(field(r.props, "rule", "defaultRetention"));
  return (
    retention !== undefined &&
    (typeof retention["days"] === "number" || typeof retention["years"] === "number")
  );
}

export const backupBucketProtected: StackRule = {
  name: "backup-bucket-protected",
  description:
    "S3 buckets are SSE-KMS encrypted with a bucket key, fully block public access, are versioned and deny non-TLS requests; with Object Lock where irreplaceable resources are protected (prod).",
  level: "mandatory",
  checkStack: (resources, ctx) => {
    const violations: Violation[] = [];
    for (const bucket of resources.filter((r) => r.type === TYPES.bucket)) {
      const name = asString(bucket.props["bucket"]);
      const problems: string[] = [];
      if (name === undefined) problems.push("has no fixed name: its settings cannot be matched to it");
      else {
        const has = (type: string, ok: (r: PlannedResource) => boolean) =>
          sideOf(resources, type, name).some(ok);
        if (!has(TYPES.encryption, encrypted))
          problems.push("is not encrypted with SSE-KMS and a bucket key");
        if (!has(TYPES.publicAccessBlock, blocksPublicAccess))
          problems.push("does not block all public access");
        if (!has(TYPES.versioning, versioned)) problems.push("is not versioned");
        if (!has(TYPES.policy, deniesPlainHttp)) problems.push("has no policy denying requests without TLS");
        if (
          ctx.protectIrreplaceable &&
          !(bucket.props["objectLockEnabled"] === true && has(TYPES.objectLock, locked))
        )
          problems.push(`has no Object Lock default retention (required in ${ctx.environment})`);
      }
      for (const problem of problems)
        violations.push({
          rule: backupBucketProtected.name,
          level: backupBucketProtected.level,
          urn: bucket.urn,
          message: `bucket ${name ?? bucket.name} ${problem}`,
        });
    }
    return violations;
  },
};
