// Turns an evaluation into the offline plan's artefacts: plan.json (every resource, secrets
// redacted), one multi-document manifest per cluster (kubectl-apply shaped, Secret values replaced
// by a placeholder that keeps the object valid) and a reviewer's summary.
import * as YAML from "yaml";
import type { PlannedResource, Violation } from "../policy/types";
import { AUDIT_POLICY_CONFIGMAP, AUDIT_POLICY_FILE } from "../components/audit/policy";
import { Evaluation, isSecretWrapper, RecordedResource } from "./mock-engine";

export const REDACTED = "[secret]";
/** What a Secret's values become in manifests: valid for the API server, useless to a reader. */
export const MANIFEST_SECRET_PLACEHOLDER = "REDACTED-BY-HUBSPOKE-PLAN";

/** The resource options a reviewer (and the plan diff) needs, as the engine receives them. */
export interface PlanOptions {
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  /** The ID of an existing object this resource adopts, or null. */
  readonly import: string | null;
  readonly ignoreChanges: readonly string[];
  /** URNs named in `dependsOn`. */
  readonly dependsOn: readonly string[];
  readonly replaceOnChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  /** Earlier URNs of this resource: the engine treats a resource found at one as this one. */
  readonly aliases: readonly string[];
  /** URN of the provider resource serving it (custom resources), or null. */
  readonly provider: string | null;
}

export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly cluster: string | null;
  readonly inputs: unknown;
  /** URN of the parent resource; null for the stack's direct children. */
  readonly parent: string | null;
  readonly options: PlanOptions;
  /** Input path -> URNs whose outputs flow into it (what a preview shows unknown when they change). */
  readonly dependencies: Readonly<Record<string, readonly string[]>>;
}

export interface PlanDocument {
  readonly stack: string;
  readonly resources: PlanResource[];
}

const K8S_PREFIX = "kubernetes:";
export const K8S_PROVIDER_TYPE = "pulumi:providers:kubernetes";

export function isKubernetesObject(type: string): boolean {
  return type.startsWith(K8S_PREFIX);
}

/** Replaces every secret-marked value with `[secret]`, recursively. */
export function redact(value: unknown): unknown {
  if (isSecretWrapper(value)) return REDACTED;
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
  }
  return value;
}

/** Provider resource name -> cluster name, from each Kubernetes provider's `clusterIdentifier`. */
export function providerClusters(resources: readonly RecordedResource[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of resources) {
    if (r.type !== K8S_PROVIDER_TYPE) continue;
    const identifier = r.inputs["clusterIdentifier"];
    map.set(r.name, typeof identifier === "string" ? identifier : r.name);
  }
  return map;
}

/** A provider reference is `<provider urn>::<id>`; the urn ends in `::<name>`. */
export function providerName(reference: string): string {
  const urn = reference.slice(0, reference.lastIndexOf("::"));
  return urn.slice(urn.lastIndexOf("::") + 2);
}

export function clusterOf(r: RecordedResource, providers: Map<string, string>): string | null {
  if (!isKubernetesObject(r.type) || !r.provider || !r.provider.includes("pulumi:providers:kubernetes"))
    return null;
  return providers.get(providerName(r.provider)) ?? null;
}

/** Resources the stack manages: reads of existing objects (`Resource.get`) are not among them. */
export function managedResources(evaluation: Evaluation): RecordedResource[] {
  return evaluation.resources.filter((r) => !r.options.read);
}

/**
 * Inputs as plan.json shows them: every secret value `[secret]`. A Kubernetes Secret's
 * `data`/`stringData` keep their key names (the manifests show them too), so an added or removed
 * key is visible; the values never are, nor any digest of them.
 */
export function redactInputs(r: Pick<RecordedResource, "type" | "inputs">): unknown {
  if (r.type !== "kubernetes:core/v1:Secret") return redact(r.inputs);
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(r.inputs)) {
    const inner = isSecretWrapper(value) ? value.value : undefined;
    out[field] =
      (field === "data" || field === "stringData") && typeof inner === "object" && inner !== null
        ? Object.fromEntries(Object.keys(inner).map((k) => [k, REDACTED]))
        : redact(value);
  }
  return out;
}

/** The URN part of a provider reference (`<urn>::<id>`). */
export function providerUrn(reference: string | undefined): string | null {
  return reference ? reference.slice(0, reference.lastIndexOf("::")) : null;
}

export function buildPlanDocument(evaluation: Evaluation): PlanDocument {
  const providers = providerClusters(evaluation.resources);
  const urns = new Map(evaluation.resources.map((r) => [`${r.type}::${r.name}`, r.urn]));
  return {
    stack: evaluation.stack,
    resources: managedResources(evaluation).map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      cluster: clusterOf(r, providers),
      inputs: redactInputs(r),
      parent: r.parent ? (urns.get(r.parent) ?? null) : null,
      options: {
        protect: r.options.protect,
        retainOnDelete: r.options.retainOnDelete,
        import: r.options.import ?? null,
        ignoreChanges: r.options.ignoreChanges,
        dependsOn: r.options.dependsOn,
        replaceOnChanges: r.options.replaceOnChanges,
        deleteBeforeReplace: r.options.deleteBeforeReplace,
        aliases: r.options.aliases,
        provider: r.custom ? providerUrn(r.provider) : null,
      },
      dependencies: r.dependencies,
    })),
  };
}

/**
 * The policy engine's view of what the stack manages: the recorded inputs (secrets still marked, so
 * the secret rules can see them), the cluster from the provider's clusterIdentifier, the provider
 * reference and the options the rules read.
 */
export function plannedResources(evaluation: Evaluation): PlannedResource[] {
  const providers = providerClusters(evaluation.resources);
  return managedResources(evaluation).map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    props: r.inputs,
    cluster: clusterOf(r, providers),
    provider: r.provider ?? null,
    opts: { protect: r.options.protect, retainOnDelete: r.options.retainOnDelete },
  }));
}

/** `[mandatory] <rule> <urn>: <message>`: one line per violation, in summary.txt and on stderr. */
export function formatViolation(violation: Violation): string {
  return `[${violation.level}] ${violation.rule} ${violation.urn}: ${violation.message}`;
}

/** Mandatory violations first, then by rule and URN, so the summary reads the same on every run. */
export function sortViolations(violations: readonly Violation[]): Violation[] {
  const rank = (v: Violation): number => (v.level === "mandatory" ? 0 : 1);
  return [...violations].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      a.rule.localeCompare(b.rule) ||
      a.urn.localeCompare(b.urn) ||
      a.message.localeCompare(b.message),
  );
}

/**
 * Cluster name -> the audit policy document its ClusterAudit ConfigMap ships, taken from the
 * evaluation itself, so the file in the plan is byte for byte what the cluster receives.
 */
export function auditPolicies(evaluation: Evaluation): Map<string, string> {
  const providers = providerClusters(evaluation.resources);
  const policies = new Map<string, string>();
  for (const r of managedResources(evaluation)) {
    if (r.type !== "kubernetes:core/v1:ConfigMap") continue;
    const metadata = r.inputs["metadata"] as { name?: unknown } | undefined;
    const data = r.inputs["data"] as Record<string, unknown> | undefined;
    const document = data?.[AUDIT_POLICY_FILE];
    const cluster = clusterOf(r, providers);
    if (metadata?.name !== AUDIT_POLICY_CONFIGMAP || typeof document !== "string" || !cluster) continue;
    policies.set(cluster, document);
  }
  return policies;
}

/** `kubernetes:apps/v1:Deployment` -> { apiVersion: "apps/v1", kind: "Deployment" }. */
export function apiVersionKind(type: string): { apiVersion: string; kind: string } {
  const [, groupVersion, kind] = type.split(":");
  const apiVersion = groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
  return { apiVersion, kind: kind.endsWith("Patch") ? kind.slice(0, -"Patch".length) : kind };
}

function redactSecretObject(inputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...inputs };
  for (const field of ["stringData", "data"] as const) {
    const raw = inputs[field];
    const values = isSecretWrapper(raw) ? raw.value : raw;
    if (typeof values === "object" && values !== null) {
      const placeholder =
        field === "data"
          ? Buffer.from(MANIFEST_SECRET_PLACEHOLDER).toString("base64")
          : MANIFEST_SECRET_PLACEHOLDER;
      out[field] = Object.fromEntries(Object.keys(values).map((k) => [k, placeholder]));
    } else if (raw !== undefined) {
      out[field] = {};
    }
  }
  return out;
}

/** The Kubernetes object a resource stands for, as `kubectl apply -f` takes it. */
export function manifestObject(r: RecordedResource): Record<string, unknown> {
  const { apiVersion, kind } = apiVersionKind(r.type);
  const inputs = kind === "Secret" ? redactSecretObject(r.inputs) : r.inputs;
  const body = redact(inputs) as Record<string, unknown>;
  delete body["apiVersion"];
  delete body["kind"];
  return { apiVersion, kind, ...body };
}

/** Cluster name -> multi-document YAML of its objects, in registration order. */
export function buildManifests(evaluation: Evaluation): Map<string, string> {
  const providers = providerClusters(evaluation.resources);
  const byCluster = new Map<string, string[]>();
  for (const r of managedResources(evaluation)) {
    const cluster = clusterOf(r, providers);
    if (!cluster) continue;
    const comment = r.type.endsWith("Patch")
      ? `# ${r.urn}\n# server-side apply patch: only the fields below are managed by this stack\n`
      : `# ${r.urn}\n`;
    const doc = comment + YAML.stringify(manifestObject(r), { lineWidth: 0 });
    const docs = byCluster.get(cluster) ?? [];
    docs.push(doc);
    byCluster.set(cluster, docs);
  }
  return new Map([...byCluster].map(([cluster, docs]) => [cluster, docs.join("---\n")]));
}

function shortType(type: string): string {
  if (isKubernetesObject(type)) return apiVersionKind(type).kind + (type.endsWith("Patch") ? "Patch" : "");
  return type.slice(type.lastIndexOf(":") + 1);
}

function countLine(counts: Map<string, number>): string {
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${n} ${kind}`)
    .join(", ");
}

export interface SummaryExtras {
  /** The Conjur topology in one line (conjurTopologyLine). */
  readonly conjur?: string;
  /** The stack's part of a sharded layout in one line (layoutLine); none for a single stack. */
  readonly layout?: string;
  readonly pendingSpokes?: readonly { name: string; phase: number }[];
  readonly conversionPhase?: number;
  readonly violations?: readonly string[];
  /** Sections appended after the counts (tenant stages, the preflight's result), line by line. */
  readonly notes?: readonly string[];
  /** Audit policy files written for self-managed control planes, and managed clusters that take none. */
  readonly audit?: { readonly files: readonly string[]; readonly managedClusters: readonly string[] };
}

/** A tree per top-level component with counts per cluster and kind, then the notes a reviewer needs. */
export function buildSummary(evaluation: Evaluation, extras: SummaryExtras = {}): string {
  const providers = providerClusters(evaluation.resources);
  const byKey = new Map(evaluation.resources.map((r) => [`${r.type}::${r.name}`, r]));
  const topOf = (r: RecordedResource): RecordedResource => {
    let cursor = r;
    while (cursor.parent && byKey.has(cursor.parent)) cursor = byKey.get(cursor.parent) as RecordedResource;
    return cursor;
  };
  const groups = new Map<string, Map<string, Map<string, number>>>();
  const clusterTotals = new Map<string, number>();
  let custom = 0;
  for (const r of managedResources(evaluation)) {
    if (!r.custom) continue;
    custom++;
    const top = topOf(r);
    const groupName = top === r ? "(top level)" : `${top.type} ${top.name}`;
    const cluster =
      clusterOf(r, providers) ?? (r.type.startsWith("pulumi:providers:") ? "providers" : "no cluster");
    if (clusterOf(r, providers)) clusterTotals.set(cluster, (clusterTotals.get(cluster) ?? 0) + 1);
    const group = groups.get(groupName) ?? new Map<string, Map<string, number>>();
    const counts = group.get(cluster) ?? new Map<string, number>();
    const kind = shortType(r.type);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    group.set(cluster, counts);
    groups.set(groupName, group);
  }
  const lines: string[] = [];
  const components = evaluation.resources.filter((r) => !r.custom).length;
  const reads = evaluation.resources.length - managedResources(evaluation).length;
  lines.push(
    `stack ${evaluation.stack}: ${custom} resources in ${components} components (${reads} existing objects read)`,
  );
  lines.push(`clusters: ${[...clusterTotals].map(([c, n]) => `${c} (${n} objects)`).join(", ") || "none"}`);
  if (extras.conjur) lines.push(extras.conjur);
  if (extras.layout) lines.push(extras.layout);
  lines.push("");
  for (const [groupName, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(groupName);
    for (const [cluster, counts] of [...group].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`  ${cluster}: ${countLine(counts)}`);
    }
  }
  lines.push("");
  const pending = extras.pendingSpokes ?? [];
  const phase = extras.conversionPhase !== undefined ? ` (conversion.phase = ${extras.conversionPhase})` : "";
  lines.push(
    pending.length
      ? `pending spokes${phase}: ${pending.map((s) => `${s.name} (phase ${s.phase})`).join(", ")}`
      : `pending spokes${phase}: none`,
  );
  const protectedCount = evaluation.resources.filter((r) => r.options.protect).length;
  const retained = evaluation.resources.filter((r) => r.options.retainOnDelete).length;
  const imported = evaluation.resources.filter((r) => r.options.import).length;
  lines.push(`protected: ${protectedCount}, retained on delete: ${retained}, imported: ${imported}`);
  if (extras.audit) {
    const { files, managedClusters } = extras.audit;
    lines.push(`audit policy files: ${files.length ? files.join(", ") : "none"}`);
    if (managedClusters.length) {
      lines.push(
        `audit on managed control planes (enable the provider's audit logging instead): ${managedClusters.join(", ")}`,
      );
    }
  }
  if (extras.notes?.length) {
    lines.push("");
    lines.push(...extras.notes);
  }
  if (extras.violations) {
    lines.push("");
    lines.push(extras.violations.length ? "policy violations:" : "policy violations: none");
    for (const v of extras.violations) lines.push(`  ${v}`);
  }
  return lines.join("\n") + "\n";
}
