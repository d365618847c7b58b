// A tenant's onboarding stage, resolved once from its own settings, its spoke's `tenantDefaults` and
// the built-in defaults (which depend on whether the namespace exists already). Pure: the Tenant
// component, the offline plan's summary and the preflight all read the same resolved values.
import type {
  AcknowledgementConfig,
  NetworkConfig,
  NetworkPortConfig,
  TenantConfig,
  TenantDefaultsConfig,
} from "./schema";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";
/** A level, or `keep`: the stack does not set that mode's label, so the namespace keeps its own. */
export type PodSecuritySetting = PodSecurityLevel | "keep";
export type NetworkMode = "off" | "observe" | "enforce";
export type FindingCategory = AcknowledgementConfig["category"];

export interface NetworkPort {
  readonly port: number | string;
  readonly protocol: "TCP" | "UDP" | "SCTP";
  readonly endPort?: number;
}

export interface NamespacePeer {
  readonly namespace: string;
  readonly podSelector?: Readonly<Record<string, string>>;
  /** Omitted: every port. */
  readonly ports?: readonly NetworkPort[];
}

export interface CidrPeer {
  readonly cidr: string;
  readonly except: readonly string[];
  readonly ports?: readonly NetworkPort[];
}

export type IngressPeer =
  ({ readonly kind: "namespace" } & NamespacePeer) | ({ readonly kind: "cidr" } & CidrPeer);

export interface NetworkStage {
  readonly mode: NetworkMode;
  readonly ingressFrom: readonly IngressPeer[];
  readonly egressTo: {
    readonly cidrs: readonly CidrPeer[];
    readonly namespaces: readonly NamespacePeer[];
    /** Addresses of the API server; undefined = not allowed. `0.0.0.0/0` when given as `true`. */
    readonly kubeApi?: readonly string[];
    /** NodeLocal DNSCache address (CoreDNS in kube-system is always allowed). */
    readonly nodeLocalDns?: string;
    readonly meshControlPlane?: NamespacePeer;
  };
}

export interface PodSecurityStage {
  readonly enforce: PodSecuritySetting;
  readonly audit: PodSecuritySetting;
  readonly warn: PodSecuritySetting;
  readonly version: string;
}

export interface Acknowledgement {
  readonly category: FindingCategory;
  readonly kind?: string;
  readonly name?: string;
  readonly reason: string;
}

/** Everything that decides what the stack does to a tenant namespace and what runs in it. */
export interface TenantStage {
  readonly onboarding: { readonly conjur: boolean };
  readonly podSecurity: PodSecurityStage;
  readonly network: NetworkStage;
}

/**
 * The Pod Security Standards version pinned by default: the Kubernetes minor the manifests are
 * validated against (test/support/kubernetes-schema.ts). `latest` would let a control-plane upgrade
 * tighten the checks by itself; the Kubernetes task page on namespace labels pins a version.
 */
export const DEFAULT_POD_SECURITY_VERSION = "v1.33";

/** Istio's istiod serves xDS and the workload CA to sidecars on 15012 (istio-discovery chart's Service). */
export const MESH_CONTROL_PLANE_PORTS: readonly NetworkPort[] = [{ port: 15012, protocol: "TCP" }];

/**
 * Built-in defaults. An adopted namespace keeps its enforce label and its traffic (observe): nothing
 * running there can be rejected or cut by a default. A namespace the stack creates holds nothing
 * yet, so it starts restricted and isolated.
 */
export function builtInStage(existing: boolean): {
  podSecurity: PodSecurityStage;
  network: NetworkMode;
  conjur: boolean;
} {
  return {
    podSecurity: {
      enforce: existing ? "keep" : "restricted",
      audit: "restricted",
      warn: "restricted",
      version: DEFAULT_POD_SECURITY_VERSION,
    },
    network: existing ? "observe" : "enforce",
    conjur: true,
  };
}

function port(p: NetworkPortConfig): NetworkPort {
  return {
    port: p.port,
    protocol: p.protocol ?? "TCP",
    ...(p.endPort !== undefined ? { endPort: p.endPort } : {}),
  };
}

const portsOf = (list: readonly NetworkPortConfig[] | undefined) => (list ? { ports: list.map(port) } : {});

function namespacePeer(p: {
  namespace: string;
  podSelector?: Record<string, string>;
  ports?: NetworkPortConfig[];
}): NamespacePeer {
  return {
    namespace: p.namespace,
    ...(p.podSelector && Object.keys(p.podSelector).length ? { podSelector: p.podSelector } : {}),
    ...portsOf(p.ports),
  };
}

type EgressConfig = NonNullable<NetworkConfig["egressTo"]>;

function resolveNetwork(mode: NetworkMode, layers: readonly (NetworkConfig | undefined)[]): NetworkStage {
  const ingressFrom: IngressPeer[] = [];
  const cidrs: CidrPeer[] = [];
  const namespaces: NamespacePeer[] = [];
  let kubeApi: readonly string[] | undefined;
  let nodeLocalDns: string | undefined;
  let meshControlPlane: NamespacePeer | undefined;
  for (const layer of layers) {
    for (const peer of layer?.ingressFrom ?? []) {
      if (peer.namespace !== undefined) {
        ingressFrom.push({
          kind: "namespace",
          ...namespacePeer({ ...peer, namespace: peer.namespace }),
        });
      } else if (peer.cidr !== undefined) {
        ingressFrom.push({
          kind: "cidr",
          cidr: peer.cidr,
          except: peer.except ?? [],
          ...portsOf(peer.ports),
        });
      }
    }
    const egress: EgressConfig = layer?.egressTo ?? {};
    for (const entry of egress.cidrs ?? []) {
      cidrs.push({ cidr: entry.cidr, except: entry.except ?? [], ...portsOf(entry.ports) });
    }
    for (const entry of egress.namespaces ?? []) namespaces.push(namespacePeer(entry));
    if (egress.kubeApi !== undefined) {
      kubeApi =
        egress.kubeApi === true ? ["0.0.0.0/0"] : egress.kubeApi === false ? undefined : egress.kubeApi.cidrs;
    }
    if (egress.dns?.nodeLocal !== undefined) nodeLocalDns = egress.dns.nodeLocal;
    if (egress.meshControlPlane !== undefined) {
      meshControlPlane = {
        ...namespacePeer(egress.meshControlPlane),
        ports: egress.meshControlPlane.ports?.map(port) ?? MESH_CONTROL_PLANE_PORTS,
      };
    }
  }
  return {
    mode,
    ingressFrom,
    egressTo: {
      cidrs,
      namespaces,
      ...(kubeApi ? { kubeApi } : {}),
      ...(nodeLocalDns ? { nodeLocalDns } : {}),
      ...(meshControlPlane ? { meshControlPlane } : {}),
    },
  };
}

/**
 * The tenant's stage: a value the tenant sets wins, then the spoke's `tenantDefaults`, then the
 * built-in default for an existing or a created namespace. Allow-lists add up (the spoke's platform
 * callers, such as the ingress controller, plus the tenant's own); single values replace.
 */
export function resolveTenantStage(
  tenant: Pick<TenantConfig, "existing" | "onboarding" | "podSecurity" | "network">,
  defaults: TenantDefaultsConfig | undefined,
): TenantStage {
  const builtIn = builtInStage(tenant.existing);
  const ps = (key: keyof PodSecurityStage) => tenant.podSecurity?.[key] ?? defaults?.podSecurity?.[key];
  const mode = tenant.network?.mode ?? defaults?.network?.mode ?? builtIn.network;
  return {
    onboarding: { conjur: tenant.onboarding?.conjur ?? defaults?.onboarding?.conjur ?? builtIn.conjur },
    podSecurity: {
      enforce: (ps("enforce") as PodSecuritySetting | undefined) ?? builtIn.podSecurity.enforce,
      audit: (ps("audit") as PodSecuritySetting | undefined) ?? builtIn.podSecurity.audit,
      warn: (ps("warn") as PodSecuritySetting | undefined) ?? builtIn.podSecurity.warn,
      version: ps("version") ?? builtIn.podSecurity.version,
    },
    network: resolveNetwork(mode, [defaults?.network, tenant.network]),
  };
}

export function resolveAcknowledgements(list: readonly AcknowledgementConfig[]): Acknowledgement[] {
  return list.map((a) => ({
    category: a.category,
    ...(a.kind !== undefined ? { kind: a.kind } : {}),
    ...(a.name !== undefined ? { name: a.name } : {}),
    reason: a.reason,
  }));
}

/** One line per tenant for the plan summary: what `pulumi up` does to it. */
export function describeStage(stage: TenantStage): string {
  const ps = stage.podSecurity;
  const allows = [
    stage.network.ingressFrom.length ? `${stage.network.ingressFrom.length} ingress allow(s)` : undefined,
    stage.network.egressTo.cidrs.length ? `${stage.network.egressTo.cidrs.length} egress CIDR(s)` : undefined,
    stage.network.egressTo.namespaces.length
      ? `${stage.network.egressTo.namespaces.length} egress namespace(s)`
      : undefined,
    stage.network.egressTo.kubeApi ? "API server" : undefined,
    stage.network.egressTo.nodeLocalDns ? `NodeLocal DNS ${stage.network.egressTo.nodeLocalDns}` : undefined,
    stage.network.egressTo.meshControlPlane
      ? `mesh ${stage.network.egressTo.meshControlPlane.namespace}`
      : undefined,
  ].filter((a): a is string => a !== undefined);
  const network =
    stage.network.mode === "enforce" && allows.length ? `enforce (${allows.join(", ")})` : stage.network.mode;
  return (
    `conjur: ${stage.onboarding.conjur ? "on" : "off"}; ` +
    `pod security: enforce=${ps.enforce} audit=${ps.audit} warn=${ps.warn} version=${ps.version}; ` +
    `network: ${network}`
  );
}

/**
 * Keys of the old tenant format, each with what to write instead: one clear error rather than
 * "unknown key" or a type error.
 */
export function legacyTenantKeyProblems(
  tenant: Readonly<Record<string, unknown>>,
): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  if (typeof tenant["podSecurity"] === "string") {
    const level = tenant["podSecurity"];
    problems.push({
      key: "podSecurity",
      message:
        `the single-level form was replaced by one level per mode: write podSecurity: { enforce: ${level}, ` +
        `audit: ${level}, warn: ${level} } (or enforce: keep to leave the namespace's own enforce label alone); see docs/configuration.md`,
    });
  }
  if (tenant["egressCidrs"] !== undefined) {
    problems.push({
      key: "egressCidrs",
      message:
        "replaced by network.egressTo.cidrs (a list of CIDRs, or { cidr, except, ports } entries), which applies with network.mode: enforce; see docs/configuration.md",
    });
  }
  return problems;
}

/** What the plan summary needs of a spoke (structural, so this module imports nothing from spec.ts). */
export interface StagedSpoke {
  readonly name: string;
  readonly cluster: string;
  readonly converted: boolean;
  readonly phase: number;
  readonly tenants: readonly {
    readonly name: string;
    readonly existing: boolean;
    readonly adopt: "patch" | "import";
    readonly applications: readonly unknown[];
    readonly stage: TenantStage;
    readonly acknowledge: readonly Acknowledgement[];
  }[];
}

/** The summary's per-spoke, per-tenant stage lines: what `pulumi up` does to each tenant. */
export function tenantStageLines(spokes: readonly StagedSpoke[]): string[] {
  const lines = ["tenant stages (what pulumi up enforces):"];
  for (const spoke of spokes) {
    const status = spoke.converted ? "" : ` (pending: phase ${spoke.phase}, nothing applied)`;
    lines.push(
      `  spoke ${spoke.name} on ${spoke.cluster}${status}:${spoke.tenants.length ? "" : " no tenants"}`,
    );
    for (const t of spoke.tenants) {
      const how = t.existing ? `adopted (${t.adopt})` : "created";
      const apps = t.stage.onboarding.conjur ? ` [${t.applications.length} application(s)]` : "";
      const acks = t.acknowledge.length ? `; ${t.acknowledge.length} acknowledged finding rule(s)` : "";
      lines.push(`    ${t.name}: ${how}; ${describeStage(t.stage)}${apps}${acks}`);
    }
  }
  return lines;
}
