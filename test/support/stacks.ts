// Test helpers: evaluate a stack file (optionally edited) on the mocks, and query the recording.
import { evaluateStack, Evaluation, isSecretWrapper, RecordedResource } from "../../tools/mock-engine";
import { readStackFile, stackFilePath } from "../../tools/stack-file";

/** A shipped stack file, which must parse. */
export function shippedStackFile(stack: string): { config: Record<string, unknown>; secretKeys: string[] } {
  const file = readStackFile(stackFilePath(stack));
  if (!file.ok) throw new Error(`${stack}: ${file.errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
  return file;
}

export const STACKS = ["dev", "staging", "prod"] as const;

/** A deep copy of a stack file's config, for a test to edit. */
export function stackConfig(stack: string): Record<string, unknown> {
  return structuredClone(shippedStackFile(stack).config);
}

/**
 * A stack file's config as a test writes it back to a file: its `secure:` values restored as
 * `secure:` entries (any ciphertext: the plan tool replaces them with placeholders).
 */
export function stackFileConfig(stack: string): Record<string, unknown> {
  const file = shippedStackFile(stack);
  const config = structuredClone(file.config);
  for (const key of file.secretKeys) config[key] = { secure: "v1:cGxhY2Vob2xkZXI=" };
  return config;
}

export async function evaluate(
  stack: string,
  edit?: (config: Record<string, unknown>) => void,
  /** Keys the edit added as `secure:` values (`hubspoke:webKubeconfig`). */
  extraSecretKeys: readonly string[] = [],
): Promise<Evaluation> {
  const file = shippedStackFile(stack);
  const config = structuredClone(file.config);
  edit?.(config);
  return evaluateStack({ stack, config, secretKeys: [...file.secretKeys, ...extraSecretKeys] });
}

export function kubernetesObjects(e: Evaluation): RecordedResource[] {
  return e.resources.filter((r) => r.type.startsWith("kubernetes:"));
}

export function ofKind(e: Evaluation, kind: string): RecordedResource[] {
  return e.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type.endsWith(`:${kind}`));
}

/** The object with this metadata.name (and kind), unwrapping nothing: secrets stay wrapped. */
export function objectNamed(e: Evaluation, kind: string, name: string, provider?: string): RecordedResource {
  const found = ofKind(e, kind).filter((r) => {
    const meta = r.inputs["metadata"] as { name?: unknown } | undefined;
    return meta?.name === name && (provider === undefined || r.provider?.includes(provider));
  });
  if (found.length !== 1) throw new Error(`expected one ${kind} named ${name}, found ${found.length}`);
  return found[0];
}

/** Paths (a.b[0].c) inside a value where a secret-marked value sits. */
export function secretPaths(value: unknown, at = ""): string[] {
  if (isSecretWrapper(value)) return [at || "(root)"];
  if (Array.isArray(value)) return value.flatMap((v, i) => secretPaths(v, `${at}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => secretPaths(v, at ? `${at}.${k}` : k));
  }
  return [];
}

export function unwrap(value: unknown): unknown {
  return isSecretWrapper(value) ? value.value : value;
}

/** A JSON view of a value with secrets unwrapped, for searching text in it. */
export function plainJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (isSecretWrapper(v) ? v.value : v));
}

/**
 * Turns a shipped stack file into its Conjur Open Source twin (the hub runs the primary, no
 * followers): for tests of the Open Source hub on the staging/prod topologies.
 */
export function asOpenSource(config: Record<string, unknown>): void {
  config["hubspoke:conjur"] = { edition: "oss" };
  delete config["hubspoke:conjurLeaderAdminPassword"];
}

/** The appliance image the in-hub Leader twins use (licensed; any pinned reference plans). */
export const APPLIANCE_IMAGE = "registry.acme.internal/cyberark/conjur-appliance:13.5.0";

/**
 * Turns a shipped Enterprise stack file into its twin with the Leader in the hub cluster
 * (conjur.leader.placement: hub, one Standby), as docs/configuration.md shows it.
 */
export function withHubLeader(config: Record<string, unknown>): void {
  const conjur = structuredClone(config["hubspoke:conjur"]) as Record<string, unknown>;
  const environment = String(config["hubspoke:environment"]);
  conjur["leader"] = {
    placement: "hub",
    url: `https://conjur-leader.${environment}.acme.com`,
    standbys: 1,
    storage: { size: "50Gi" },
  };
  config["hubspoke:conjur"] = conjur;
  delete config["hubspoke:conjurLeaderAdminPassword"];
  const images = (config["hubspoke:images"] ?? {}) as Record<string, unknown>;
  config["hubspoke:images"] = { ...images, appliance: APPLIANCE_IMAGE };
}

/**
 * The disaster-recovery settings of the Open Source twins of staging and prod, `hubspoke:` prefix
 * removed. Backups need the in-hub database, so DR is `oss` only (docs/disaster-recovery.md shows
 * the same settings): staging's hub is not on EKS (a credentials Secret), prod's is (Pod Identity)
 * and fails over to a warm standby in another region.
 */
export const DR_SETTINGS = {
  staging: {
    backup: { bucket: "acme-conjur-hub-backups-staging", credentialsSecret: "conjur-backup-aws" },
  },
  prod: {
    backup: { bucket: "acme-conjur-hub-backups-prod" },
    failover: {
      zoneId: "Z0ACMEPRODZONE01",
      primaryTarget: "conjur-primary.eu-west-1.acme.com",
      standby: { target: "conjur-standby.eu-central-1.acme.com", region: "eu-central-1" },
    },
  },
} as const;

/** An `evaluate` edit: the Open Source twin of staging or prod with its DR settings. */
export function withDisasterRecovery(
  stack: keyof typeof DR_SETTINGS,
): (config: Record<string, unknown>) => void {
  return (config) => {
    asOpenSource(config);
    for (const [key, value] of Object.entries(DR_SETTINGS[stack]))
      config[`hubspoke:${key}`] = structuredClone(value);
  };
}

/** The `hubspoke:` part of a stack file, prefix removed, as the loader hands it to buildStackSpec. */
export function projectConfig(stack: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stackConfig(stack))) {
    if (key.startsWith("hubspoke:")) out[key.slice("hubspoke:".length)] = value;
  }
  return out;
}
