// NetworkPolicy semantics, exactly as the Kubernetes documentation states them
// (concepts/services-networking/network-policies.md), for one connection at a time:
// - a pod is isolated for a direction once any policy selecting it has that direction in its
//   policyTypes; without policyTypes, Ingress is implied, and Egress when the policy has egress rules;
// - what is allowed is the union of the rules of the policies that select the pod;
// - a connection needs egress allowed at the source and ingress allowed at the destination;
// - a peer with namespaceSelector and podSelector selects the pods matching both (AND); a rule's peers
//   are alternatives (OR); an empty `from`/`to` matches every peer, empty `ports` every port;
// - ipBlock (with `except`) matches addresses; it is meant for cluster-external traffic, and whether it
//   matches pod addresses depends on the CNI, so here it only matches non-pod endpoints;
// - selectors match pods only, never host-network endpoints;
// - a named port refers to the destination pod's container port of that name; endPort makes a range.
import { isIpInCidr } from "./addresses";

type Json = Record<string, unknown>;

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: Protocol;
}

/** A pod on the pod network (selectors apply). */
export interface PodEndpoint {
  readonly kind: "pod";
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly ContainerPort[];
}

/** An address outside the pod network: an external service, a host-network pod, a link-local agent. */
export interface AddressEndpoint {
  readonly kind: "address";
  /** undefined: the address is not known (a DNS name, the API server without its Endpoints). */
  readonly ip?: string;
}

export type Endpoint = PodEndpoint | AddressEndpoint;

export interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface NetworkPolicyObject {
  readonly namespace: string;
  readonly name: string;
  readonly spec: Json;
}

/** Labels of each namespace (including kubernetes.io/metadata.name), for namespaceSelectors. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>>;

const asRecord = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A LabelSelector (matchLabels AND matchExpressions) against a label set; `{}` matches everything. */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  const s = asRecord(selector) ?? {};
  for (const [k, v] of Object.entries(asRecord(s["matchLabels"]) ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const entry of asArray(s["matchExpressions"])) {
    const e = asRecord(entry) ?? {};
    const k = String(e["key"]);
    const values = asArray(e["values"]).map(String);
    const has = Object.prototype.hasOwnProperty.call(labels, k);
    switch (e["operator"]) {
      case "In":
        if (!has || !values.includes(labels[k])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[k])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false; // an unknown operator selects nothing (the API server rejects it)
    }
  }
  return true;
}

export type Direction = "Ingress" | "Egress";

/** The directions a policy isolates, with the defaulting of an omitted policyTypes. */
export function policyTypesOf(spec: Json): Direction[] {
  if (spec["policyTypes"] !== undefined) return asArray(spec["policyTypes"]).map(String) as Direction[];
  return asArray(spec["egress"]).length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

function peerMatches(
  peer: Json,
  policyNamespace: string,
  endpoint: Endpoint,
  namespaceLabels: NamespaceLabels,
): boolean {
  const ipBlock = asRecord(peer["ipBlock"]);
  if (ipBlock) {
    if (endpoint.kind !== "address") return false;
    const cidr = String(ipBlock["cidr"]);
    const except = asArray(ipBlock["except"]).map(String);
    // An unknown address is only certainly inside an unrestricted block.
    if (endpoint.ip === undefined) return cidr === "0.0.0.0/0" && except.length === 0;
    return isIpInCidr(endpoint.ip, cidr) && !except.some((e) => isIpInCidr(endpoint.ip as string, e));
  }
  if (endpoint.kind !== "pod") return false;
  const hasNs = peer["namespaceSelector"] !== undefined;
  const hasPod = peer["podSelector"] !== undefined;
  if (!hasNs && !hasPod) return false;
  const namespaceOk = hasNs
    ? selectorMatches(peer["namespaceSelector"], namespaceLabels(endpoint.namespace))
    : endpoint.namespace === policyNamespace;
  const podOk = hasPod ? selectorMatches(peer["podSelector"], endpoint.labels) : true;
  return namespaceOk && podOk;
}

function portMatches(rulePort: Json, connection: Connection): boolean {
  const protocol = (rulePort["protocol"] as Protocol | undefined) ?? "TCP";
  if (protocol !== connection.protocol) return false;
  const port = rulePort["port"];
  if (port === undefined || port === null) return true;
  if (typeof port === "number") {
    const end = typeof rulePort["endPort"] === "number" ? rulePort["endPort"] : port;
    return connection.port >= port && connection.port <= end;
  }
  // A named port: the destination pod's container port of that name (and protocol).
  const to = connection.to;
  if (to.kind !== "pod") return false;
  return to.ports.some(
    (p) => p.name === port && p.containerPort === connection.port && p.protocol === connection.protocol,
  );
}

function ruleMatches(
  rule: Json,
  peersKey: "from" | "to",
  policyNamespace: string,
  peer: Endpoint,
  connection: Connection,
  namespaceLabels: NamespaceLabels,
): boolean {
  const peers = asArray(rule[peersKey]);
  const peerOk =
    peers.length === 0 ||
    peers.some((p) => peerMatches(asRecord(p) ?? {}, policyNamespace, peer, namespaceLabels));
  const ports = asArray(rule["ports"]);
  const portOk = ports.length === 0 || ports.some((p) => portMatches(asRecord(p) ?? {}, connection));
  return peerOk && portOk;
}

export interface SideVerdict {
  /** Policies selecting the pod for this direction (empty: not isolated, everything allowed). */
  readonly isolatedBy: readonly string[];
  /** Policies with a rule admitting the connection. */
  readonly allowedBy: readonly string[];
  readonly allowed: boolean;
}

function side(
  direction: Direction,
  pod: Endpoint,
  connection: Connection,
  policies: readonly NetworkPolicyObject[],
  namespaceLabels: NamespaceLabels,
): SideVerdict {
  if (pod.kind !== "pod") return { isolatedBy: [], allowedBy: [], allowed: true };
  const selecting = policies.filter(
    (p) =>
      p.namespace === pod.namespace &&
      selectorMatches(p.spec["podSelector"], pod.labels) &&
      policyTypesOf(p.spec).includes(direction),
  );
  const peer = direction === "Ingress" ? connection.from : connection.to;
  const rulesKey = direction === "Ingress" ? "ingress" : "egress";
  const peersKey = direction === "Ingress" ? "from" : "to";
  const allowedBy = selecting.filter((p) =>
    asArray(p.spec[rulesKey]).some((rule) =>
      ruleMatches(asRecord(rule) ?? {}, peersKey, p.namespace, peer, connection, namespaceLabels),
    ),
  );
  return {
    isolatedBy: selecting.map((p) => `${p.namespace}/${p.name}`),
    allowedBy: allowedBy.map((p) => `${p.namespace}/${p.name}`),
    allowed: selecting.length === 0 || allowedBy.length > 0,
  };
}

export interface Verdict {
  readonly allowed: boolean;
  readonly egress: SideVerdict;
  readonly ingress: SideVerdict;
}

/** Whether the policies let this connection through: egress at the source and ingress at the destination. */
export function evaluateConnection(
  connection: Connection,
  policies: readonly NetworkPolicyObject[],
  namespaceLabels: NamespaceLabels,
): Verdict {
  const egress = side("Egress", connection.from, connection, policies, namespaceLabels);
  const ingress = side("Ingress", connection.to, connection, policies, namespaceLabels);
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}
