// Pure builders for what a tenant's stage puts on and into its namespace: the namespace labels and
// annotations, the quota and limits, and the NetworkPolicies of the `enforce` network stage. Plain
// values in, plain objects out; the Tenant component and the preflight both use them.
import type { StackSpec, TenantSpec } from "../../stacks/spec";
import type { CidrPeer, NamespacePeer, NetworkPort, NetworkStage, TenantStage } from "../../stacks/tenancy";
import {
  dnsEgressRule,
  namespaceSelectorFor,
  podSecurityModeLabels,
  POD_SECURITY_MODES,
  tcpPorts,
} from "../kube";
import type { PodSecurityLevel } from "../kube";
import {
  ANNOTATION_NETWORK_ISOLATION,
  CONJUR_NAMESPACE,
  FOLLOWER_HTTPS_PORT,
  FOLLOWER_POD_HTTPS_PORT,
  LABEL_TENANT,
  MONITORING_NAMESPACE,
  OBJECT_PREFIX,
  PROMETHEUS_SERVICE,
  selectorLabels,
} from "../naming";

/** Names of the objects the stack creates inside a tenant namespace: all prefixed, so none collides. */
export const TENANT_OBJECT_NAMES = {
  quota: `${OBJECT_PREFIX}quota`,
  limits: `${OBJECT_PREFIX}limits`,
  defaultDeny: `${OBJECT_PREFIX}default-deny`,
  allowIngress: `${OBJECT_PREFIX}allow-ingress`,
  allowEgress: `${OBJECT_PREFIX}allow-egress`,
  authenticatorBinding: `${OBJECT_PREFIX}conjur-authenticator`,
  conjurConnect: `${OBJECT_PREFIX}conjur-connect`,
} as const;

/**
 * Labels the stack sets on a tenant namespace: the Pod Security modes the stage sets (a `keep` mode is
 * not set at all, so the namespace keeps its own value) with their version, and the tenant marker.
 * No `app.kubernetes.io/part-of`: tenants often carry their own.
 */
export function tenantNamespaceLabels(tenant: Pick<TenantSpec, "name" | "stage">): Record<string, string> {
  const ps = tenant.stage.podSecurity;
  const levels: Partial<Record<(typeof POD_SECURITY_MODES)[number], PodSecurityLevel>> = {};
  for (const mode of POD_SECURITY_MODES) {
    const setting = ps[mode];
    if (setting !== "keep") levels[mode] = setting;
  }
  return { ...podSecurityModeLabels(levels, ps.version), [LABEL_TENANT]: tenant.name };
}

/** Annotations the stack sets on a tenant namespace: its network stage, which the policy pack reads. */
export function tenantNamespaceAnnotations(tenant: Pick<TenantSpec, "stage">): Record<string, string> {
  return { [ANNOTATION_NETWORK_ISOLATION]: tenant.stage.network.mode };
}

/** The ResourceQuota's `hard` map, or undefined when the tenant sets no quota. */
export function tenantQuotaHard(quota: TenantSpec["quota"]): Record<string, string> | undefined {
  if (!quota) return undefined;
  const hard: Record<string, string> = {};
  if (quota.requestsCpu) hard["requests.cpu"] = quota.requestsCpu;
  if (quota.requestsMemory) hard["requests.memory"] = quota.requestsMemory;
  if (quota.limitsCpu) hard["limits.cpu"] = quota.limitsCpu;
  if (quota.limitsMemory) hard["limits.memory"] = quota.limitsMemory;
  if (quota.pods !== undefined) hard["pods"] = String(quota.pods);
  return hard;
}

/** The LimitRange's single Container item, or undefined when the tenant sets no limits. */
export function tenantLimitRangeItem(limits: TenantSpec["limits"]) {
  if (!limits) return undefined;
  const quantities = (cpu?: string, memory?: string) =>
    cpu || memory ? { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } : undefined;
  const defaults = quantities(limits.defaultCpu, limits.defaultMemory);
  const defaultRequests = quantities(limits.defaultRequestCpu, limits.defaultRequestMemory);
  return {
    type: "Container",
    ...(defaults ? { default: defaults } : {}),
    ...(defaultRequests ? { defaultRequest: defaultRequests } : {}),
  };
}

export interface NetworkPolicySpec {
  readonly podSelector: Record<string, unknown>;
  readonly policyTypes: string[];
  readonly ingress?: Record<string, unknown>[];
  readonly egress?: Record<string, unknown>[];
}

export interface TenantNetworkPolicy {
  /** Suffix of the Pulumi resource name (`<tenant component>-netpol-<role>`). */
  readonly role: "ingress" | "egress" | "default-deny";
  readonly name: string;
  readonly spec: NetworkPolicySpec;
}

function policyPorts(ports: readonly NetworkPort[] | undefined) {
  if (!ports) return {};
  return {
    ports: ports.map((p) => ({
      protocol: p.protocol,
      port: p.port,
      ...(p.endPort !== undefined ? { endPort: p.endPort } : {}),
    })),
  };
}

function namespacePeerRule(peer: NamespacePeer, direction: "from" | "to") {
  return {
    [direction]: [
      {
        namespaceSelector: namespaceSelectorFor(peer.namespace),
        ...(peer.podSelector ? { podSelector: { matchLabels: { ...peer.podSelector } } } : {}),
      },
    ],
    ...policyPorts(peer.ports),
  };
}

function cidrPeerRule(peer: CidrPeer, direction: "from" | "to") {
  return {
    [direction]: [
      { ipBlock: { cidr: peer.cidr, ...(peer.except.length ? { except: [...peer.except] } : {}) } },
    ],
    ...policyPorts(peer.ports),
  };
}

const SAME_NAMESPACE = { podSelector: {} };

/** The stack's own Prometheus scrapes annotated tenant pods on the port they name: admitted on every port. */
export function stackPrometheusIngressRule() {
  return {
    from: [
      {
        namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE),
        podSelector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
      },
    ],
  };
}

/** A NetworkPolicy egress rule (the shape the tenant policies hold). */
export type EgressRule = ReturnType<typeof followerEgressRule> | ReturnType<typeof conjurHubEgressRule>;

/**
 * Tenant pods reach the local Conjur follower (enterprise). The spoke's conjur-system namespace runs
 * nothing else, so the rule selects the namespace (the Kubernetes Follower's pods carry the
 * operator's labels, not ours) on the port the follower's pods listen on.
 */
export function followerEgressRule(podPort: number = FOLLOWER_HTTPS_PORT) {
  return {
    to: [{ namespaceSelector: namespaceSelectorFor(CONJUR_NAMESPACE) }],
    ports: tcpPorts(podPort),
  };
}

/** The egress rule to Conjur a stack's onboarded tenants get: the local follower, or the hub (oss). */
export function conjurEgressRule(spec: StackSpec): EgressRule {
  return spec.conjur.edition === "enterprise"
    ? followerEgressRule(FOLLOWER_POD_HTTPS_PORT[spec.conjur.follower.kind])
    : conjurHubEgressRule(spec.hub.primaryCidrs);
}

/** Tenant pods reach the hub's Conjur (oss: no follower) on 443, at its addresses if known. */
export function conjurHubEgressRule(hubCidrs: readonly string[]) {
  return {
    to: (hubCidrs.length ? hubCidrs : ["0.0.0.0/0"]).map((cidr) => ({ ipBlock: { cidr } })),
    ports: tcpPorts(443),
  };
}

function ingressRules(network: NetworkStage) {
  return [
    { from: [SAME_NAMESPACE] },
    stackPrometheusIngressRule(),
    ...network.ingressFrom.map((peer) =>
      peer.kind === "namespace" ? namespacePeerRule(peer, "from") : cidrPeerRule(peer, "from"),
    ),
  ];
}

function egressRules(network: NetworkStage, conjur: EgressRule | undefined) {
  const egress = network.egressTo;
  const dnsPorts = [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ];
  return [
    { to: [SAME_NAMESPACE] },
    dnsEgressRule(),
    ...(egress.nodeLocalDns
      ? [{ to: [{ ipBlock: { cidr: `${egress.nodeLocalDns}/32` } }], ports: dnsPorts }]
      : []),
    ...(conjur ? [conjur] : []),
    ...(egress.kubeApi
      ? [{ to: egress.kubeApi.map((cidr) => ({ ipBlock: { cidr } })), ports: tcpPorts(443, 6443) }]
      : []),
    ...(egress.meshControlPlane ? [namespacePeerRule(egress.meshControlPlane, "to")] : []),
    ...egress.namespaces.map((peer) => namespacePeerRule(peer, "to")),
    ...egress.cidrs.map((peer) => cidrPeerRule(peer, "to")),
  ];
}

/**
 * The NetworkPolicies of a tenant's network stage. `off` and `observe` render none at all: any policy
 * selecting a pod isolates it in the directions it lists, so even an "allow" policy would cut traffic
 * (a policy with policyTypes [Egress] isolates egress by itself). `enforce` renders the two allow
 * policies (inside the namespace, DNS, the stack's Prometheus, Conjur (the follower, or the hub in
 * oss: `conjurEgress`), and the configured
 * allow-lists), then the default deny, in that order (the component makes the deny wait for them).
 */
export function tenantNetworkPolicies(stage: TenantStage, conjurEgress: EgressRule): TenantNetworkPolicy[] {
  if (stage.network.mode !== "enforce") return [];
  return [
    {
      role: "ingress",
      name: TENANT_OBJECT_NAMES.allowIngress,
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: ingressRules(stage.network) },
    },
    {
      role: "egress",
      name: TENANT_OBJECT_NAMES.allowEgress,
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: egressRules(stage.network, stage.onboarding.conjur ? conjurEgress : undefined),
      },
    },
    {
      role: "default-deny",
      name: TENANT_OBJECT_NAMES.defaultDeny,
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
  ];
}

/** The stage as the tenant would have it in `enforce`: what the preflight judges an `observe` tenant by. */
export function enforcedStage(stage: TenantStage): TenantStage {
  return { ...stage, network: { ...stage.network, mode: "enforce" } };
}
