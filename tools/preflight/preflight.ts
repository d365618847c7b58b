// The preflight: what `pulumi up` (and the enforce stage of every observed tenant) would break on the
// live clusters, from their inventories and the plan's objects. Pure: no file access, no Pulumi.
import type { SpokeSpec, StackSpec, TenantSpec } from "../../stacks/spec";
import { describeStage } from "../../stacks/tenancy";
import {
  conjurEgressRule,
  enforcedStage,
  type EgressRule,
  tenantNetworkPolicies,
} from "../../components/tenancy/isolation";
import {
  labelConflictFindings,
  nameCollisionFindings,
  podSecurityFindings,
  quotaFindings,
  type Finding,
} from "./checks";
import { candidateFlows, conjurFlowTarget, plannedWorkloadViews, type Flow, type FlowEnd } from "./flows";
import type { Inventory, Json } from "./inventory";
import { evaluateConnection, type NetworkPolicyObject, type SideVerdict } from "./netpol";
import { planObjectsByCluster, type PlanObject, type RecordedObject } from "./objects";

export type { Finding } from "./checks";

export interface PreflightInput {
  readonly spec: StackSpec;
  /** Every Kubernetes object the plan records, with its cluster. */
  readonly recorded: readonly RecordedObject[];
  /** Cluster name -> its inventory. */
  readonly inventories: ReadonlyMap<string, Inventory>;
}

export interface ClusterReport {
  readonly cluster: string;
  readonly role: string;
  /** The inventory file, or undefined when none was given (the cluster was not checked). */
  readonly file?: string;
  readonly tenants: readonly { name: string; stage: string }[];
  readonly flows: number;
}

export interface PreflightReport {
  readonly clusters: readonly ClusterReport[];
  readonly findings: readonly Finding[];
  /** Problems that stop the plan whatever the stage (an adopted namespace that does not exist). */
  readonly errors: readonly string[];
}

const asRecord = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;

function policiesFrom(objects: readonly PlanObject[]): NetworkPolicyObject[] {
  return objects
    .filter((o) => o.kind === "NetworkPolicy" && o.namespace)
    .map((o) => ({ namespace: o.namespace as string, name: o.name, spec: asRecord(o.props["spec"]) ?? {} }));
}

/** Objects the enforce stage would add to the observed tenants (not rendered yet). */
function enforceStageObjects(tenants: readonly TenantSpec[], conjurEgress: EgressRule): PlanObject[] {
  return tenants
    .filter((t) => t.stage.network.mode === "observe")
    .flatMap((t) =>
      tenantNetworkPolicies(enforcedStage(t.stage), conjurEgress).map((p) => ({
        kind: "NetworkPolicy",
        group: "networking.k8s.io",
        namespace: t.name,
        name: p.name,
        patch: false,
        imported: false,
        props: { metadata: { name: p.name, namespace: t.name }, spec: p.spec },
        urn: `enforce-stage:${t.name}/${p.name}`,
      })),
    );
}

/** How to admit a cut flow, in the tenant's own config terms. */
function hint(flow: Flow, side: "Ingress" | "Egress"): string {
  if (side === "Ingress") {
    const ns = flow.from.workload?.namespace;
    if (!ns) return "admit the caller's addresses with network.ingressFrom: [{ cidr: ... }]";
    const name =
      flow.from.endpoint.kind === "pod" ? flow.from.endpoint.labels["app.kubernetes.io/name"] : undefined;
    return `admit it with network.ingressFrom: [{ namespace: ${ns}${name ? `, podSelector: { app.kubernetes.io/name: ${name} }` : ""} }]`;
  }
  switch (flow.source) {
    case "dns":
      return flow.to.endpoint.kind === "address"
        ? `allow it with network.egressTo.dns.nodeLocal: ${flow.to.endpoint.ip}`
        : "CoreDNS is always allowed: check the kube-system labels";
    case "kube-api":
      return "allow it with network.egressTo.kubeApi: true (or its addresses)";
    case "mesh":
      return `allow it with network.egressTo.meshControlPlane: { namespace: ${flow.to.workload?.namespace ?? "istio-system"} }`;
    default:
      break;
  }
  if (flow.to.workload) {
    return `allow it with network.egressTo.namespaces: [{ namespace: ${flow.to.workload.namespace}, ports: [${flow.port}] }]`;
  }
  if (flow.to.endpoint.kind === "address" && flow.to.endpoint.ip) {
    return `allow it with network.egressTo.cidrs: [{ cidr: ${flow.to.endpoint.ip}/32, ports: [${flow.port}] }]`;
  }
  return "a NetworkPolicy cannot name a DNS name: allow the addresses it resolves to under network.egressTo.cidrs, or acknowledge the finding";
}

function describeFlow(flow: Flow): string {
  return `${flow.from.label} -> ${flow.to.label} ${flow.protocol} ${flow.port} (${flow.source}: ${flow.evidence})`;
}

/** The network findings of one cluster: every candidate flow, before, after `up`, and after enforcing. */
function networkFindings(
  cluster: string,
  inventory: Inventory,
  spec: StackSpec,
  spoke: SpokeSpec,
  planned: readonly PlanObject[],
): { findings: Finding[]; flows: number } {
  const tenants = new Map(spoke.tenants.map((t) => [t.name, t]));
  const crossing = new Set(spoke.tenants.filter((t) => t.stage.network.mode !== "off").map((t) => t.name));
  const existing = inventory.ofKind("NetworkPolicy").map((p) => ({
    namespace: p.metadata.namespace ?? "",
    name: p.metadata.name,
    spec: asRecord(p.spec) ?? {},
  }));
  const rendered = policiesFrom(planned);
  const hypothetical = policiesFrom(enforceStageObjects(spoke.tenants, conjurEgressRule(spec)));
  const stackPolicies = new Set([...rendered, ...hypothetical].map((p) => `${p.namespace}/${p.name}`));
  const plannedLabels = new Map<string, Record<string, string>>();
  for (const o of planned.filter((o) => o.kind === "Namespace")) {
    const labels = (asRecord(asRecord(o.props["metadata"])?.["labels"]) ?? {}) as Record<string, string>;
    plannedLabels.set(o.name, { ...(plannedLabels.get(o.name) ?? {}), ...labels });
  }
  const before = (ns: string) => inventory.namespaceLabels(ns);
  const after = (ns: string) => ({ ...inventory.namespaceLabels(ns), ...(plannedLabels.get(ns) ?? {}) });

  const conjurApplications = new Map(
    spoke.tenants
      .filter((t) => t.stage.onboarding.conjur)
      .map((t) => [t.name, new Set(t.applications.map((a) => a.serviceAccount))]),
  );
  const flows = candidateFlows({
    inventory,
    tenants: crossing,
    plannedWorkloads: plannedWorkloadViews(planned),
    conjurApplications,
    conjurTarget: conjurFlowTarget(spec, plannedWorkloadViews(planned)),
  });

  const findings: Finding[] = [];
  for (const flow of flows) {
    const connection = {
      from: flow.from.endpoint,
      to: flow.to.endpoint,
      port: flow.port,
      protocol: flow.protocol,
    };
    if (!flow.added && !evaluateConnection(connection, existing, before).allowed) continue; // cut already
    const afterUp = evaluateConnection(connection, [...existing, ...rendered], after);
    const afterEnforce = evaluateConnection(connection, [...existing, ...rendered, ...hypothetical], after);
    for (const [direction, end, upSide, enforceSide] of [
      ["Egress", flow.from, afterUp.egress, afterEnforce.egress],
      ["Ingress", flow.to, afterUp.ingress, afterEnforce.ingress],
    ] as const) {
      const finding = sideFinding(cluster, flow, direction, end, upSide, enforceSide, stackPolicies, tenants);
      if (finding) findings.push(finding);
    }
  }
  return { findings, flows: flows.length };
}

function sideFinding(
  cluster: string,
  flow: Flow,
  direction: "Ingress" | "Egress",
  end: FlowEnd,
  upSide: SideVerdict,
  enforceSide: SideVerdict,
  stackPolicies: ReadonlySet<string>,
  tenants: ReadonlyMap<string, TenantSpec>,
): Finding | undefined {
  if (upSide.allowed && enforceSide.allowed) return undefined;
  const workload = end.workload;
  if (!workload) return undefined;
  const verdict = upSide.allowed ? enforceSide : upSide;
  const byStack = verdict.isolatedBy.some((p) => stackPolicies.has(p));
  const tenant = tenants.get(workload.namespace);
  let severity: "error" | "warning";
  let what: string;
  if (!upSide.allowed && byStack) {
    severity = "error";
    what = flow.added ? "is not admitted" : "is cut by `pulumi up`";
  } else if (!upSide.allowed) {
    severity = "warning";
    what = "(added by the conversion) is not admitted by the namespace's own policies";
  } else {
    severity = "warning";
    what = `would be cut once ${workload.namespace} is at network.mode: enforce`;
  }
  if (severity === "error" && tenant === undefined && !flow.added) return undefined;
  const fix =
    !upSide.allowed && !byStack
      ? "add a rule to the namespace's own policy, or set network.mode: enforce (the stack's allow policy admits it)"
      : hint(flow, direction);
  return {
    cluster,
    namespace: workload.namespace,
    kind: workload.kind,
    name: workload.name,
    category: "network",
    severity,
    detail:
      `${describeFlow(flow)} ${what}: ${direction.toLowerCase()} isolated by ${verdict.isolatedBy.join(", ")}, ` +
      `no rule admits it; ${fix}`,
  };
}

function acknowledge(findings: Finding[], tenants: ReadonlyMap<string, TenantSpec>): Finding[] {
  return findings.map((f) => {
    const ack = tenants
      .get(f.namespace)
      ?.acknowledge.find(
        (a) =>
          a.category === f.category &&
          (a.kind === undefined || a.kind === f.kind) &&
          (a.name === undefined || a.name === f.name),
      );
    return ack ? { ...f, acknowledged: ack.reason } : f;
  });
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = JSON.stringify([f.cluster, f.namespace, f.kind, f.name, f.category, f.detail]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Runs every check on every cluster the stack touches that has an inventory. */
export function runPreflight(input: PreflightInput): PreflightReport {
  const { spec } = input;
  const planned = planObjectsByCluster(input.recorded);
  const clusters: ClusterReport[] = [];
  const findings: Finding[] = [];
  const errors: string[] = [];
  const roles: { cluster: string; role: string; spoke?: SpokeSpec }[] = [
    { cluster: spec.hub.cluster, role: "hub" },
    ...spec.spokes.map((s) => ({
      cluster: s.cluster,
      role: s.converted ? `spoke ${s.name}` : `spoke ${s.name} (pending: phase ${s.phase})`,
      ...(s.converted ? { spoke: s } : {}),
    })),
  ];
  for (const { cluster, role, spoke } of roles) {
    const inventory = input.inventories.get(cluster);
    const objects = planned.get(cluster) ?? [];
    const tenants = (spoke?.tenants ?? []).map((t) => ({ name: t.name, stage: describeStage(t.stage) }));
    if (!inventory) {
      clusters.push({ cluster, role, tenants, flows: 0 });
      continue;
    }
    const tenantMap = new Map((spoke?.tenants ?? []).map((t) => [t.name, t]));
    const clusterFindings: Finding[] = [];
    let flows = 0;
    if (spoke) {
      for (const tenant of spoke.tenants.filter((t) => t.existing && !inventory.hasNamespace(t.name))) {
        const index = spec.spokes.indexOf(spoke);
        errors.push(
          `${inventory.file}: namespace ${tenant.name} (spokes[${index}].tenants[${spoke.tenants.indexOf(tenant)}], existing: true) is not in the inventory: the adoption would fail; set existing: false to create it, or fix the name`,
        );
      }
      for (const tenant of spoke.tenants.filter((t) => inventory.hasNamespace(t.name))) {
        clusterFindings.push(...podSecurityFindings(inventory, cluster, tenant));
        clusterFindings.push(...quotaFindings(inventory, cluster, tenant, objects));
      }
      const network = networkFindings(cluster, inventory, spec, spoke, objects);
      clusterFindings.push(...network.findings);
      flows = network.flows;
    }
    clusterFindings.push(
      ...nameCollisionFindings(
        inventory,
        cluster,
        objects,
        enforceStageObjects(spoke?.tenants ?? [], conjurEgressRule(spec)),
        new Set(tenantMap.keys()),
      ),
    );
    clusterFindings.push(...labelConflictFindings(inventory, cluster, objects));
    findings.push(...acknowledge(dedupe(clusterFindings), tenantMap));
    clusters.push({ cluster, role, file: inventory.file, tenants, flows });
  }
  return { clusters, findings, errors };
}

/** Findings that stop the plan: errors nobody acknowledged. */
export function blockingFindings(report: PreflightReport): Finding[] {
  return report.findings.filter((f) => f.severity === "error" && f.acknowledged === undefined);
}

/** `preflight error: <cluster> <namespace> <Kind>/<name> [<category>]: <detail>`. */
export function formatBlocking(f: Finding): string {
  return `preflight error: ${f.cluster} ${f.namespace} ${f.kind}/${f.name} [${f.category}]: ${f.detail}`;
}
