// Nothing irreplaceable is ever replaced: in prod the Conjur data key and the CAs must carry `protect`,
// so a destroy or a replacement fails instead of silently minting a new key or CA.
import type { PlannedResource, StackRule, Violation } from "../types";

export interface IrreplaceableMatcher {
  /** Pulumi type token. */
  readonly type: string;
  /** Pulumi resource name suffixes that mark the irreplaceable instances of that type. */
  readonly nameSuffixes: readonly string[];
  /** What losing it means, for the violation message. */
  readonly why: string;
}

/** The one list of irreplaceable resources; adjust here when naming changes. */
export const IRREPLACEABLE: readonly IrreplaceableMatcher[] = [
  {
    type: "random:index/randomBytes:RandomBytes",
    nameSuffixes: ["-data-key"],
    why: "the Conjur data key encrypts every stored secret; a new one makes the database unreadable",
  },
  {
    type: "tls:index/selfSignedCert:SelfSignedCert",
    nameSuffixes: ["-ca", "-ca-cert"],
    why: "a new CA invalidates every issued certificate and every follower's trust",
  },
  {
    type: "tls:index/privateKey:PrivateKey",
    nameSuffixes: ["-ca-key"],
    why: "a new CA key forces a new CA certificate",
  },
  {
    type: "random:index/randomPassword:RandomPassword",
    nameSuffixes: ["-backup-passphrase"],
    why: "the backup passphrase decrypts every backup object; a new one makes the existing backups unreadable",
  },
  {
    type: "random:index/randomPassword:RandomPassword",
    nameSuffixes: ["-leader-admin-password"],
    why: "the in-hub Leader is configured with this admin password once; a new one locks the stack out of it",
  },
  {
    type: "kubernetes:apps/v1:StatefulSet",
    nameSuffixes: ["-leader"],
    why: "the in-hub Leader's appliance pods hold its database; deleting them loses every secret not on a Standby",
  },
  {
    type: "aws:kms/key:Key",
    nameSuffixes: ["-backup-kms-key"],
    why: "the KMS key encrypts every backup object; once deleted, no backup can be read",
  },
  {
    type: "aws:s3/bucket:Bucket",
    nameSuffixes: ["-backup-bucket"],
    why: "the bucket holds the backups; a rehearsal's destroy must never delete them",
  },
];

export function isIrreplaceable(
  resource: Pick<PlannedResource, "type" | "name">,
): IrreplaceableMatcher | undefined {
  return IRREPLACEABLE.find(
    (matcher) =>
      matcher.type === resource.type && matcher.nameSuffixes.some((suffix) => resource.name.endsWith(suffix)),
  );
}

export const irreplaceableProtected: StackRule = {
  name: "irreplaceable-protected",
  description:
    "Where the stack protects irreplaceable resources (prod), the data key and CAs have protect: true.",
  level: "mandatory",
  checkStack: (resources, ctx) => {
    if (!ctx.protectIrreplaceable) return [];
    const violations: Violation[] = [];
    for (const resource of resources) {
      const matcher = isIrreplaceable(resource);
      if (matcher === undefined || resource.opts.protect === true) continue;
      violations.push({
        rule: irreplaceableProtected.name,
        level: irreplaceableProtected.level,
        urn: resource.urn,
        message: `${resource.name} (${resource.type}) must have protect: true in ${ctx.environment}: ${matcher.why}`,
      });
    }
    return violations;
  },
};
