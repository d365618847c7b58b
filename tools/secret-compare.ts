// Compares secret values between two plans without writing them anywhere. plan.json shows every
// secret as `[secret]` and stores no digest of it (a stored digest is still derived from the
// secret and would tell equal values apart across stacks). The rule:
//  - two evaluations in one process are compared in memory, value against value;
//  - a plan made by a child process (`--against <git ref>`) sends keyed digests over a pipe:
//    HMAC-SHA256 under a random key that lives in this process and that child only, for this run;
//    nothing reaches the disk, and the digests mean nothing once the run ends;
//  - anything else (a plan directory from another run) is "cannot tell".
import { createHmac, randomBytes } from "node:crypto";
import { formatPropertyPath, PathSegment } from "./property-path";
import { isSecretWrapper, RecordedResource } from "./mock-engine";
import type { SecretComparison } from "./plan-diff";

/** Path (as plan.json shows `[secret]`) -> the secret value, for one resource. */
export function secretLeaves(r: Pick<RecordedResource, "type" | "inputs">): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (value: unknown, at: PathSegment[]) => {
    if (isSecretWrapper(value)) {
      const inner = value.value;
      const keyed =
        r.type === "kubernetes:core/v1:Secret" &&
        at.length === 1 &&
        (at[0] === "data" || at[0] === "stringData") &&
        typeof inner === "object" &&
        inner !== null;
      if (keyed) for (const [k, v] of Object.entries(inner)) out.set(formatPropertyPath([...at, k]), v);
      else out.set(formatPropertyPath(at), inner);
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...at, i]));
    else if (typeof value === "object" && value !== null)
      for (const [k, v] of Object.entries(value)) walk(v, [...at, k]);
  };
  walk(r.inputs, []);
  return out;
}

export type SecretDigests = Record<string, Record<string, string>>;

/** A fresh key for one run's digests; never written anywhere. */
export function newDigestKey(): Buffer {
  return randomBytes(32);
}

/** urn -> path -> HMAC of the value under this run's key. */
export function secretDigests(resources: readonly RecordedResource[], key: Buffer): SecretDigests {
  const out: SecretDigests = {};
  for (const r of resources) {
    const leaves = secretLeaves(r);
    if (leaves.size === 0) continue;
    out[r.urn] = Object.fromEntries(
      [...leaves].map(([path, value]) => [
        path,
        createHmac("sha256", key)
          .update(JSON.stringify(value) ?? "undefined")
          .digest("hex"),
      ]),
    );
  }
  return out;
}

/** Compares two sets of digests made under the same key (or in-memory values turned into them). */
export function compareDigests(oldDigests: SecretDigests, newDigests: SecretDigests): SecretComparison {
  return (urn, path) => {
    const before = oldDigests[urn]?.[path];
    const after = newDigests[urn]?.[path];
    if (before === undefined || after === undefined) return undefined;
    return before === after ? "unchanged" : "changed";
  };
}

/** Both evaluations in this process: compare in memory (digests under a throwaway key). */
export function compareEvaluations(
  oldResources: readonly RecordedResource[],
  newResources: readonly RecordedResource[],
): SecretComparison {
  const key = newDigestKey();
  return compareDigests(secretDigests(oldResources, key), secretDigests(newResources, key));
}
