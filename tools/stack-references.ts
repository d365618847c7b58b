// Stack references in the offline plan (docs/sharding.md): a plan writes its stack outputs to
// outputs.json, secrets redacted leaf by leaf (so their shape stays); a shard's plan answers its
// `pulumi.StackReference` to the hub stack from the hub plan's outputs.json, with a marked stand-in
// for each redacted value, which stays secret. Pure apart from reading and writing the file.
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackSpec } from "../stacks/spec";
import { isSecretWrapper, PLACEHOLDER } from "./mock-engine";
import { REDACTED } from "./plan-output";

export const OUTPUTS_FILE = "outputs.json";

/** Every leaf under a secret `[secret]`; the keys and arrays around them stay. */
function redactLeaves(value: unknown, secret: boolean): unknown {
  if (isSecretWrapper(value)) return redactLeaves(value.value, true);
  if (Array.isArray(value)) return value.map((v) => redactLeaves(v, secret));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactLeaves(v, secret)]));
  return secret && value !== null ? REDACTED : value;
}

/** The stack's outputs as outputs.json holds them. */
export function buildOutputsDocument(outputs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(outputs)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, redactLeaves(v, false)]),
  );
}

/** What the mock answers for a StackReference: its outputs, and which of them are secret. */
export interface StackReferenceState {
  readonly outputs: Record<string, unknown>;
  readonly secretOutputNames: string[];
}

/** A marked stand-in for each redacted leaf, PEM-shaped where the key says PEM. */
function standIn(value: unknown, at: string): unknown {
  if (value === REDACTED) {
    const text = `${PLACEHOLDER}-${at}`;
    return /pem$/i.test(at) ? `-----BEGIN ${at}-----\n${text}\n-----END ${at}-----\n` : text;
  }
  if (Array.isArray(value)) return value.map((v, i) => standIn(v, `${at}[${i}]`));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, standIn(v, k)]));
  return value;
}

const hasRedacted = (value: unknown): boolean =>
  value === REDACTED ||
  (typeof value === "object" && value !== null && Object.values(value).some(hasRedacted));

export function stackReferenceState(document: Readonly<Record<string, unknown>>): StackReferenceState {
  return {
    outputs: Object.fromEntries(Object.entries(document).map(([k, v]) => [k, standIn(v, k)])),
    secretOutputNames: Object.keys(document).filter((k) => hasRedacted(document[k])),
  };
}

export type HubPlanResult =
  | {
      readonly ok: true;
      readonly references: Record<string, StackReferenceState>;
      /** The hub plan directory read (a shard only). */
      readonly dir?: string;
    }
  | { readonly ok: false; readonly message: string };

/**
 * A shard's hub plan: `--hub-plan <dir>`, else out/<the hub stack's name> beside this plan. It must
 * be a plan of the hub stack this shard names: a sharded hub (it exports shardTrust) of the same
 * environment and Conjur edition.
 */
export function hubPlanFor(spec: StackSpec, hubPlanDir: string | undefined, outRoot: string): HubPlanResult {
  if (spec.layout.role !== "shard") return { ok: true, references: {} };
  const hubStack = spec.layout.hubStack;
  const dir = hubPlanDir ?? path.join(outRoot, hubStack.slice(hubStack.lastIndexOf("/") + 1));
  const file = path.join(dir, OUTPUTS_FILE);
  const planHub = `plan the hub stack first (npm run plan -- --stack <hub stack>) or pass --hub-plan <its plan directory>`;
  if (!fs.existsSync(file))
    return { ok: false, message: `layout.hubStack: no plan of ${hubStack} at ${file}: ${planHub}` };
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, message: `layout.hubStack: ${file} is not JSON (${(err as Error).message})` };
  }
  const mismatch = (key: string, mine: string) =>
    document[key] !== mine
      ? `the hub plan's ${key} is ${JSON.stringify(document[key])}, this shard's ${JSON.stringify(mine)}`
      : undefined;
  const problems = [
    document["shardTrust"] === undefined
      ? "the hub plan exports no shardTrust (is its layout.role hub?)"
      : undefined,
    mismatch("environment", spec.environment),
    mismatch("conjurEdition", spec.conjur.edition),
  ].filter((p): p is string => p !== undefined);
  if (problems.length) return { ok: false, message: `layout.hubStack: ${file}: ${problems.join("; ")}` };
  return { ok: true, references: { [hubStack]: stackReferenceState(document) }, dir };
}
