// Rules on the stack file's keys as a whole, before the `hubspoke:` values are read: keys outside
// the project's namespace that look like a typo of it, the default-provider switch, and secret
// values (keys named by a `*Secret` field) that must be `secure:`. Pure: both the real runtime
// (stacks/load.ts, pulumi.Config) and the offline plan (tools/stack-file.ts) call these with all
// config keys and the set of secret ones, so the two paths report the same errors.
import type { ConfigError } from "./errors";

export const PROJECT_NAMESPACE = "hubspoke";

/** What the offline plan puts where a `secure:` value was (it cannot decrypt it). */
export const OFFLINE_SECRET_PLACEHOLDER_PREFIX = "PLACEHOLDER-secret-config-";

/** Namespaces a stack file may use besides the project's: Pulumi's own and the providers'. */
const OTHER_NAMESPACES = ["pulumi", "kubernetes", "aws", "tls", "random"];

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** A namespace that is probably the project's, mistyped (`Hubspoke`, `hubspok`, `hub-spoke`). */
export function looksLikeProjectNamespace(namespace: string): boolean {
  const folded = namespace.toLowerCase().replace(/[-_.\s]/g, "");
  return (
    namespace !== PROJECT_NAMESPACE &&
    (folded === PROJECT_NAMESPACE || editDistance(folded, PROJECT_NAMESPACE) <= 2)
  );
}

/** `["kubernetes"]` from a stack file, or its JSON text as Pulumi hands config to programs. */
function listValue(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value as unknown[];
  if (typeof value === "string") {
    try {
      const parsed: unknown = JSON.parse(value);
      return Array.isArray(parsed) ? (parsed as unknown[]) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Errors in the stack file's keys: namespaces, `pulumi:disable-default-providers`. */
export function stackKeyErrors(allConfig: Readonly<Record<string, unknown>>): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const key of Object.keys(allConfig)) {
    const colon = key.indexOf(":");
    if (colon < 0) {
      errors.push({
        path: key,
        message: `a stack file key needs its namespace: write ${PROJECT_NAMESPACE}:${key}`,
      });
      continue;
    }
    const namespace = key.slice(0, colon);
    if (!OTHER_NAMESPACES.includes(namespace) && looksLikeProjectNamespace(namespace)) {
      errors.push({
        path: key,
        message: `namespace "${namespace}" is not "${PROJECT_NAMESPACE}", so the program never reads this key: write ${PROJECT_NAMESPACE}:${key.slice(colon + 1)}`,
      });
    }
  }
  const disabled = allConfig["pulumi:disable-default-providers"];
  if (disabled === undefined) {
    errors.push({
      path: "pulumi:disable-default-providers",
      message:
        'missing: list "kubernetes" (pulumi:disable-default-providers: [kubernetes]) so no object can land on the ambient kubeconfig',
    });
  } else {
    const list = listValue(disabled);
    if (!list || !list.some((p) => p === "kubernetes" || p === "*")) {
      errors.push({
        path: "pulumi:disable-default-providers",
        message: `must list "kubernetes" (or "*"), got ${JSON.stringify(disabled)}`,
      });
    }
  }
  return errors;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Every `*Secret` field in the project config and the config key it names: `clusters.x.kubeconfigSecret`. */
export function secretReferences(config: Readonly<Record<string, unknown>>): { path: string; key: string }[] {
  const out: { path: string; key: string }[] = [];
  const walk = (value: unknown, at: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`));
    else if (isRecord(value)) {
      for (const [k, v] of Object.entries(value)) {
        const path = at ? `${at}.${k}` : k;
        if (k.endsWith("Secret") && typeof v === "string") out.push({ path, key: v });
        else walk(v, path);
      }
    }
  };
  walk(config, "");
  return out;
}

/** Config keys (without the namespace) that hold secret values: those a `*Secret` field names. */
export function referencedSecretKeys(config: Readonly<Record<string, unknown>>): Set<string> {
  return new Set(secretReferences(config).map((r) => r.key));
}

/** Whether a value is the offline plan's stand-in for a secret it cannot decrypt. */
export function isOfflineSecretPlaceholder(value: unknown): boolean {
  return typeof value === "string" && value.startsWith(OFFLINE_SECRET_PLACEHOLDER_PREFIX);
}

/**
 * Secret values: every key a `*Secret` field names must be set and `secure:`; a plain one is
 * refused and its value never echoed. Values whose shape the program relies on (log-sink
 * credentials `user:password`) are checked when the value is at hand (the real runtime).
 */
export function secretValueErrors(
  config: Readonly<Record<string, unknown>>,
  secretKeys: ReadonlySet<string>,
): ConfigError[] {
  const errors: ConfigError[] = [];
  const seen = new Set<string>();
  for (const { path, key } of secretReferences(config)) {
    const value = config[key];
    if (value === undefined || seen.has(key)) continue;
    seen.add(key);
    if (!secretKeys.has(key)) {
      errors.push({
        path: key,
        message: `holds a secret (${path} names it) but is plain text in the stack file; the value was not used and is not shown: remove it and run pulumi config set --secret ${key} ...`,
      });
      continue;
    }
    if (typeof value !== "string") {
      errors.push({
        path: key,
        message: `expected a secret string (${path} names it), got ${Array.isArray(value) ? "array" : typeof value}`,
      });
      continue;
    }
    if (path.endsWith("logSink.credentialsSecret") && !isOfflineSecretPlaceholder(value)) {
      const colon = value.indexOf(":");
      if (colon <= 0 || colon === value.length - 1)
        errors.push({ path: key, message: 'expected "user:password" (the value is secret and not shown)' });
    }
  }
  return errors;
}
