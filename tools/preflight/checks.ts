// The preflight's checks per category, each a pure function of the inventory, the plan's objects and
// the tenants' stages. Severity: `error` when what `pulumi up` renders causes it, `warning` when only
// the enforce stage (not rendered yet) or an audit/warn level would.
import type { TenantSpec } from "../../stacks/spec";
import type { FindingCategory, PodSecurityLevel, PodSecuritySetting } from "../../stacks/tenancy";
import { podSecurityLevelFindings } from "../../policy/pod-security";
import type { SubCheckFinding } from "../../policy/engine";
import { formatQuantity, parseQuantity } from "./addresses";
import type { Inventory, Json, KubeObject } from "./inventory";
import { asPlannedResource, groupOf, type PlanObject } from "./objects";
import { containersOfSpec, podSpecOf } from "./flows";

export type Severity = "error" | "warning";

export interface Finding {
  readonly cluster: string;
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly category: FindingCategory;
  readonly detail: string;
  /** error: `pulumi up` as planned causes it; warning: enforcing (or an audit/warn level) would. */
  readonly severity: Severity;
  /** The reason given in the tenant's `acknowledge` entry that accepts it. */
  readonly acknowledged?: string;
}

const asRecord = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const LEVEL_ORDER: readonly PodSecurityLevel[] = ["privileged", "baseline", "restricted"];
const strictest = (settings: readonly PodSecuritySetting[]): PodSecurityLevel | undefined =>
  settings
    .filter((s): s is PodSecurityLevel => s !== "keep")
    .sort((a, b) => LEVEL_ORDER.indexOf(b) - LEVEL_ORDER.indexOf(a))[0];

/** `capabilities (init container "istio-init"); runAsNonRoot (pod, container "app")`. */
export function describeChecks(findings: readonly SubCheckFinding[]): string {
  const byCheck = new Map<string, Set<string>>();
  for (const f of findings) {
    const who = f.message.includes(": ") ? f.message.slice(0, f.message.indexOf(": ")) : "pod";
    const set = byCheck.get(f.subCheck) ?? new Set<string>();
    set.add(who);
    byCheck.set(f.subCheck, set);
  }
  return [...byCheck].map(([check, who]) => `${check} (${[...who].join(", ")})`).join("; ");
}

/** A workload's findings at a level: its template and every live pod (which shows injected sidecars). */
function workloadLevelFindings(
  inventory: Inventory,
  cluster: string,
  workload: KubeObject,
  level: PodSecurityLevel,
): SubCheckFinding[] {
  const ref = {
    kind: workload.kind,
    name: workload.metadata.name,
    namespace: workload.metadata.namespace ?? "",
  };
  const pods = workload.kind === "Pod" ? [] : inventory.podsOf(ref);
  const seen = new Set<string>();
  const findings: SubCheckFinding[] = [];
  for (const object of [workload, ...pods]) {
    for (const f of podSecurityLevelFindings(asPlannedResource(object, cluster), level)) {
      const key = `${f.subCheck}|${f.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        findings.push(f);
      }
    }
  }
  return findings;
}

const RECREATION: Readonly<Record<string, string>> = {
  CronJob: "its next run",
  Job: "a retry",
  Pod: "its re-creation",
};

/**
 * pod-security: the tenant's workloads judged by the project's own PSS rule code, at the level the
 * stack enforces (error: rejected on the next pod re-creation) or, when enforce is kept, at the
 * strictest audit/warn level (warning: what enforcing that level would reject).
 */
export function podSecurityFindings(inventory: Inventory, cluster: string, tenant: TenantSpec): Finding[] {
  const ps = tenant.stage.podSecurity;
  const enforced = ps.enforce === "keep" ? undefined : ps.enforce;
  const observed = strictest([ps.audit, ps.warn]);
  const findings: Finding[] = [];
  for (const workload of inventory.workloads(tenant.name)) {
    const when = RECREATION[workload.kind] ?? "a rollout, scale-up, node drain or eviction";
    const base = { cluster, namespace: tenant.name, kind: workload.kind, name: workload.metadata.name };
    const enforcedFailures = enforced ? workloadLevelFindings(inventory, cluster, workload, enforced) : [];
    if (enforcedFailures.length > 0) {
      findings.push({
        ...base,
        category: "pod-security",
        severity: "error",
        detail: `enforce=${enforced} (${ps.version}) rejects its pods at ${when}: ${describeChecks(enforcedFailures)}`,
      });
      continue;
    }
    if (!observed || (enforced && LEVEL_ORDER.indexOf(observed) <= LEVEL_ORDER.indexOf(enforced))) continue;
    const observedFailures = workloadLevelFindings(inventory, cluster, workload, observed);
    if (observedFailures.length > 0) {
      findings.push({
        ...base,
        category: "pod-security",
        severity: "warning",
        detail:
          `audit/warn=${observed} will report it; enforcing ${observed} would reject its pods at ${when}: ` +
          describeChecks(observedFailures),
      });
    }
  }
  return findings;
}

// ---- quota ----

const COMPUTE_KEYS = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;
type ComputeKey = (typeof COMPUTE_KEYS)[number];
const quotaKey = (k: string): ComputeKey | undefined =>
  k === "cpu"
    ? "requests.cpu"
    : k === "memory"
      ? "requests.memory"
      : (COMPUTE_KEYS as readonly string[]).includes(k)
        ? (k as ComputeKey)
        : undefined;

interface LimitDefaults {
  readonly name: string;
  readonly default: Record<string, number>;
  readonly defaultRequest: Record<string, number>;
}

/** A LimitRange's Container defaults; defaultRequest falls back to default, as the API server defaults it. */
function limitDefaults(name: string, spec: unknown): LimitDefaults {
  const out = { name, default: {} as Record<string, number>, defaultRequest: {} as Record<string, number> };
  for (const item of asArray(asRecord(spec)?.["limits"]).map(asRecord)) {
    if (item?.["type"] !== "Container") continue;
    for (const [k, v] of Object.entries(asRecord(item["default"]) ?? {})) {
      const q = parseQuantity(v);
      if (q !== undefined) out.default[k] = q;
    }
    for (const [k, v] of Object.entries(asRecord(item["defaultRequest"]) ?? {})) {
      const q = parseQuantity(v);
      if (q !== undefined) out.defaultRequest[k] = q;
    }
  }
  for (const [k, v] of Object.entries(out.default))
    if (out.defaultRequest[k] === undefined) out.defaultRequest[k] = v;
  return out;
}

interface ContainerResources {
  readonly who: string;
  readonly requests: Record<string, number>;
  readonly limits: Record<string, number>;
}

function containerResources(spec: Json): ContainerResources[] {
  const inits = new Set(asArray(spec["initContainers"]).map((c) => asRecord(c)?.["name"]));
  return containersOfSpec(spec).map((c) => {
    const resources = asRecord(c["resources"]) ?? {};
    const read = (m: unknown) =>
      Object.fromEntries(
        Object.entries(asRecord(m) ?? {})
          .map(([k, v]) => [k, parseQuantity(v)] as const)
          .filter((e): e is readonly [string, number] => e[1] !== undefined),
      );
    const limits = read(resources["limits"]);
    // A container that sets a limit but no request gets the limit as its request (API defaulting).
    const requests = { ...limits, ...read(resources["requests"]) };
    const role = inits.has(c["name"]) ? "init container" : "container";
    return { who: `${role} "${String(c["name"])}"`, requests, limits };
  });
}

/** Containers after LimitRange defaulting (the first LimitRange with a default for a resource wins here). */
function defaulted(c: ContainerResources, ranges: readonly LimitDefaults[]): ContainerResources {
  const requests = { ...c.requests };
  const limits = { ...c.limits };
  for (const resource of ["cpu", "memory"]) {
    const withLimit = ranges.find((r) => r.default[resource] !== undefined);
    if (limits[resource] === undefined && withLimit) limits[resource] = withLimit.default[resource];
    const withRequest = ranges.find((r) => r.defaultRequest[resource] !== undefined);
    if (requests[resource] === undefined) {
      if (c.limits[resource] !== undefined) requests[resource] = c.limits[resource];
      else if (withRequest) requests[resource] = withRequest.defaultRequest[resource];
    }
  }
  return { who: c.who, requests, limits };
}

const valueOf = (c: ContainerResources, key: ComputeKey) => {
  const [kind, resource] = key.split(".") as ["requests" | "limits", string];
  return c[kind][resource];
};

/**
 * quota: what the stack's ResourceQuota and LimitRange do to the tenant's next pods. A quota tracking
 * a compute resource rejects pods with a container that does not set it (init and injected sidecars
 * included) unless a LimitRange defaults it; a default limit below a container's explicit request (or
 * a default request above its explicit limit) makes the pod invalid; a second LimitRange makes the
 * defaults applied non-deterministic; current usage above a new hard limit blocks every new pod.
 */
export function quotaFindings(
  inventory: Inventory,
  cluster: string,
  tenant: TenantSpec,
  planned: readonly PlanObject[],
): Finding[] {
  const ns = tenant.name;
  const inNs = planned.filter((o) => o.namespace === ns);
  const quota = inNs.find((o) => o.kind === "ResourceQuota");
  const limitRange = inNs.find((o) => o.kind === "LimitRange");
  if (!quota && !limitRange) return [];
  const existingRanges = inventory
    .ofKind("LimitRange", ns)
    .map((lr) => limitDefaults(lr.metadata.name, lr.spec));
  const newRange = limitRange
    ? limitDefaults(limitRange.name, asRecord(limitRange.props["spec"]))
    : undefined;
  const ranges = [...existingRanges, ...(newRange ? [newRange] : [])];
  const findings: Finding[] = [];
  const push = (kind: string, name: string, detail: string) =>
    findings.push({ cluster, namespace: ns, kind, name, category: "quota", severity: "error", detail });

  if (newRange) {
    const overlapping = existingRanges.filter((r) =>
      Object.keys({ ...r.default, ...r.defaultRequest }).some(
        (k) => newRange.default[k] !== undefined || newRange.defaultRequest[k] !== undefined,
      ),
    );
    if (overlapping.length) {
      push(
        "LimitRange",
        newRange.name,
        `the namespace already has LimitRange ${overlapping.map((r) => r.name).join(", ")} with defaults for the same ` +
          "resources: with two, which default applies is not deterministic (Kubernetes LimitRange docs); drop `limits` or the old one",
      );
    }
  }

  const hard = Object.fromEntries(
    Object.entries(asRecord(asRecord(quota?.props["spec"])?.["hard"]) ?? {}).map(([k, v]) => [
      k,
      parseQuantity(v),
    ]),
  );
  const tracked = Object.keys(hard)
    .map(quotaKey)
    .filter((k): k is ComputeKey => k !== undefined);

  for (const workload of inventory.workloads(ns)) {
    const ref = { kind: workload.kind, name: workload.metadata.name, namespace: ns };
    const specs = [podSpecOf(workload).spec, ...inventory.podsOf(ref).map((p) => podSpecOf(p).spec)];
    const containers = new Map<string, ContainerResources>();
    for (const spec of specs)
      for (const c of containerResources(spec)) if (!containers.has(c.who)) containers.set(c.who, c);
    const problems: string[] = [];
    if (quota) {
      for (const key of tracked) {
        const missing = [...containers.values()].filter(
          (c) => valueOf(defaulted(c, ranges), key) === undefined,
        );
        if (missing.length) {
          problems.push(
            `ResourceQuota ${quota.name} tracks ${key}: ${missing.map((c) => c.who).join(", ")} set${missing.length > 1 ? "" : "s"} none and no LimitRange defaults it, so new pods are rejected ("must specify ${key}")`,
          );
        }
      }
    }
    if (newRange) {
      for (const c of containers.values()) {
        for (const resource of ["cpu", "memory"]) {
          const limit = newRange.default[resource];
          const request = c.requests[resource];
          if (
            c.limits[resource] === undefined &&
            limit !== undefined &&
            request !== undefined &&
            request > limit
          ) {
            problems.push(
              `LimitRange ${newRange.name} defaults the ${resource} limit of ${c.who} to ${formatQuantity(limit, resource)}, below its request ${formatQuantity(request, resource)}: the pod is invalid`,
            );
          }
          const defaultRequest = newRange.defaultRequest[resource];
          const ownLimit = c.limits[resource];
          if (
            c.requests[resource] === undefined &&
            ownLimit !== undefined &&
            defaultRequest !== undefined &&
            defaultRequest > ownLimit
          ) {
            problems.push(
              `LimitRange ${newRange.name} defaults the ${resource} request of ${c.who} to ${formatQuantity(defaultRequest, resource)}, above its limit ${formatQuantity(ownLimit, resource)}: the pod is invalid`,
            );
          }
        }
      }
    }
    if (problems.length) push(workload.kind, workload.metadata.name, problems.join("; "));
  }

  if (quota) {
    const active = inventory.ofKind("Pod", ns).filter((p) => {
      const phase = asRecord(p.status)?.["phase"];
      return phase !== "Succeeded" && phase !== "Failed";
    });
    const usage: Record<string, number> = { pods: active.length };
    for (const pod of active) {
      for (const c of containerResources(podSpecOf(pod).spec)) {
        for (const key of COMPUTE_KEYS) usage[key] = (usage[key] ?? 0) + (valueOf(c, key) ?? 0);
      }
    }
    for (const [rawKey, limit] of Object.entries(hard)) {
      const key = rawKey === "pods" ? "pods" : quotaKey(rawKey);
      if (!key || limit === undefined || usage[key] === undefined) continue;
      if (usage[key] > limit) {
        push(
          "ResourceQuota",
          quota.name,
          `current ${rawKey} in use ${formatQuantity(usage[key], rawKey)} exceeds the new hard limit ${formatQuantity(limit, rawKey)}: every new pod is refused ("exceeded quota") until usage drops`,
        );
      }
    }
  }
  return findings;
}

// ---- names and labels ----

const sameObject = (o: PlanObject, live: KubeObject) =>
  live.kind === o.kind &&
  groupOf(live.apiVersion) === o.group &&
  (live.metadata.namespace ?? undefined) === o.namespace &&
  live.metadata.name === o.name;

/**
 * name-collision: an object the stack would create already exists (the provider refuses it with
 * AlreadyExists, and an upsert would take it over and delete it on destroy). Patches and imports
 * target existing objects by design and are skipped. Kinds the inventory does not list cannot be
 * checked. `wouldRender` are objects of the enforce stage not rendered yet (warnings).
 */
export function nameCollisionFindings(
  inventory: Inventory,
  cluster: string,
  planned: readonly PlanObject[],
  wouldRender: readonly PlanObject[],
  tenantNamespaces: ReadonlySet<string>,
): Finding[] {
  const findings: Finding[] = [];
  const check = (o: PlanObject, severity: Severity) => {
    if (o.patch || o.imported) return;
    const live = inventory.objects.find((l) => sameObject(o, l));
    if (!live) return;
    const namespace = o.kind === "Namespace" ? o.name : (o.namespace ?? "");
    const owner = live.metadata.labels?.["app.kubernetes.io/managed-by"];
    findings.push({
      cluster,
      namespace,
      kind: o.kind,
      name: o.name,
      category: "name-collision",
      severity,
      detail:
        (severity === "error"
          ? "exists already: the create fails with AlreadyExists"
          : "exists already: enforcing would fail with AlreadyExists") +
        (owner ? ` (managed by ${owner})` : "") +
        (o.kind === "Namespace" && !tenantNamespaces.has(o.name)
          ? "; the stack owns this namespace: remove the existing one, or run the spoke on a cluster without it"
          : o.kind === "Namespace"
            ? "; declare the tenant existing: true to adopt it"
            : "; rename or remove the existing object"),
    });
  };
  for (const o of planned) check(o, "error");
  for (const o of wouldRender) check(o, "warning");
  return findings;
}

/** Managers owning a label or annotation key of a live object, from its managedFields (when listed). */
function owners(live: KubeObject, section: "labels" | "annotations", key: string): string[] | undefined {
  const entries = live.metadata.managedFields;
  if (!entries) return undefined;
  return entries
    .filter(
      (e) =>
        asRecord(asRecord(asRecord(e["fieldsV1"])?.["f:metadata"])?.[`f:${section}`])?.[`f:${key}`] !==
        undefined,
    )
    .map((e) => String(e["manager"]));
}

/**
 * label-conflict: a label or annotation the namespace patch sets has another value today. Server-side
 * apply without force refuses it (the namespace step fails, and nothing inside is created), and force
 * would lose the old value. A key already there with the same value is shared and stays after
 * destroy, unless no manager owns it (only visible with --show-managed-fields): then destroy removes it.
 */
export function labelConflictFindings(
  inventory: Inventory,
  cluster: string,
  planned: readonly PlanObject[],
): Finding[] {
  const findings: Finding[] = [];
  for (const patch of planned.filter((o) => o.kind === "Namespace" && (o.patch || o.imported))) {
    const live = inventory.get("Namespace", undefined, patch.name);
    if (!live) continue;
    const metadata = asRecord(patch.props["metadata"]) ?? {};
    for (const section of ["labels", "annotations"] as const) {
      const wanted = (asRecord(metadata[section]) ?? {}) as Record<string, string>;
      const current = (section === "labels" ? live.metadata.labels : live.metadata.annotations) ?? {};
      for (const [key, value] of Object.entries(wanted)) {
        if (!(key in current)) continue;
        const managers = owners(live, section, key);
        const by = managers?.length ? ` (managed by ${managers.join(", ")})` : "";
        if (current[key] !== value) {
          findings.push({
            cluster,
            namespace: patch.name,
            kind: "Namespace",
            name: patch.name,
            category: "label-conflict",
            severity: "error",
            detail:
              `${section === "labels" ? "label" : "annotation"} ${key} is "${current[key]}"${by}, the stack sets "${value}": ` +
              "server-side apply without force refuses it; choose that value (or keep) in the tenant's stage, or change the label first",
          });
        } else if (managers !== undefined && managers.length === 0) {
          findings.push({
            cluster,
            namespace: patch.name,
            kind: "Namespace",
            name: patch.name,
            category: "label-conflict",
            severity: "warning",
            detail: `${section === "labels" ? "label" : "annotation"} ${key}="${value}" has no field manager: the stack would become its only owner and destroy would remove it`,
          });
        }
      }
    }
  }
  return findings;
}
