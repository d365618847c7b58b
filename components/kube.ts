// Pure builders for Kubernetes object fragments every component repeats: hardened security
// contexts, resource requirements, namespace labels, common NetworkPolicies, the authenticator's
// RBAC rules. Plain objects in, plain objects out; no Pulumi import.
import { createHash } from "node:crypto";
import type { Resources } from "../stacks/defaults";
import { DEFAULT_POD_SECURITY_VERSION, type PodSecurityLevel } from "../stacks/tenancy";
import { LABEL_NAMESPACE_NAME, selectorLabels, workloadLabels } from "./naming";

/** Metadata for the objects of one namespace: name, namespace and the workload's labels. */
export function namespacedMeta(namespace: string) {
  return (name: string, component: string) => ({ name, namespace, labels: workloadLabels(name, component) });
}

/** SHA-256 over the parts (separated, so `ab`+`` differs from `a`+`b`), hex, cut to `length`. */
export function hashOfParts(parts: readonly string[], length: number): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part).update("\0");
  return hash.digest("hex").slice(0, length);
}

/** The data of a `kubernetes.io/tls` Secret, with the CA that the peer's certificate chains to. */
export function tlsSecretData<T>(cert: { readonly certPem: T; readonly keyPem: T }, caCertPem: T) {
  return { "tls.crt": cert.certPem, "tls.key": cert.keyPem, "ca.crt": caCertPem };
}

export type { PodSecurityLevel } from "../stacks/tenancy";

/** The Pod Security Standards version the stack pins (see stacks/tenancy.ts). */
export const POD_SECURITY_VERSION = DEFAULT_POD_SECURITY_VERSION;
export const POD_SECURITY_MODES = ["enforce", "audit", "warn"] as const;
export type PodSecurityMode = (typeof POD_SECURITY_MODES)[number];
export const POD_SECURITY_LABEL_PREFIX = "pod-security.kubernetes.io/";

/** `pod-security.kubernetes.io/<mode>` and its `-version` label. */
export function podSecurityLabelKeys(mode: PodSecurityMode): { level: string; version: string } {
  return {
    level: `${POD_SECURITY_LABEL_PREFIX}${mode}`,
    version: `${POD_SECURITY_LABEL_PREFIX}${mode}-version`,
  };
}

/**
 * Pod Security admission labels for the modes given (a mode left out is not set at all), each with
 * its version label.
 */
export function podSecurityModeLabels(
  levels: Partial<Record<PodSecurityMode, PodSecurityLevel>>,
  version: string = POD_SECURITY_VERSION,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const mode of POD_SECURITY_MODES) {
    const level = levels[mode];
    if (level === undefined) continue;
    const keys = podSecurityLabelKeys(mode);
    labels[keys.level] = level;
    labels[keys.version] = version;
  }
  return labels;
}

/** Pod Security admission labels: enforce, audit and warn at one level, at the pinned version. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  return podSecurityModeLabels({ enforce: level, audit: level, warn: level });
}

/** Pod-level context meeting the `restricted` profile, running as the image's non-root uid. */
export function restrictedPodSecurityContext(uid: number, fsGroup?: number) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    ...(fsGroup !== undefined ? { fsGroup } : {}),
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level context: no escalation, no capabilities, read-only root (emptyDirs where it writes). */
export function restrictedContainerSecurityContext(options: { readOnlyRootFilesystem?: boolean } = {}) {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: options.readOnlyRootFilesystem ?? true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function resourceRequirements(r: Resources) {
  return {
    requests: { cpu: r.cpuRequest, memory: r.memoryRequest },
    limits: { cpu: r.cpuLimit, memory: r.memoryLimit },
  };
}

/** Small fixed budgets for Jobs and helpers whose size does not depend on the estate. */
export const JOB_RESOURCES: Resources = {
  cpuRequest: "50m",
  memoryRequest: "64Mi",
  cpuLimit: "500m",
  memoryLimit: "256Mi",
};

export function emptyDirVolume(name: string, options: { memory?: boolean; sizeLimit?: string } = {}) {
  return {
    name,
    emptyDir: {
      ...(options.memory ? { medium: "Memory" } : {}),
      sizeLimit: options.sizeLimit ?? "64Mi",
    },
  };
}

/** Spread replicas over nodes where possible; a single node still schedules them all. */
export function preferredAntiAffinity(selector: Record<string, string>) {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: "kubernetes.io/hostname",
            labelSelector: { matchLabels: selector },
          },
        },
      ],
    },
  };
}

// ---- NetworkPolicy fragments ----

/** The spec of a policy that selects every pod and allows nothing: the namespace's baseline. */
export function defaultDenySpec() {
  return { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
}

const KUBE_SYSTEM_SELECTOR = { matchLabels: { [LABEL_NAMESPACE_NAME]: "kube-system" } };

/** Egress to cluster DNS (kube-system, port 53 over UDP and TCP). */
export function dnsEgressRule() {
  return {
    to: [{ namespaceSelector: KUBE_SYSTEM_SELECTOR }],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
}

/** Egress to the pods of a workload of the same namespace (by its selector labels), on one port. */
export function podEgressRule(workload: string, port: number) {
  return { to: [{ podSelector: { matchLabels: selectorLabels(workload) } }], ports: tcpPorts(port) };
}

export function namespaceSelectorFor(namespace: string) {
  return { matchLabels: { [LABEL_NAMESPACE_NAME]: namespace } };
}

export function ipBlocks(cidrs: readonly string[]) {
  return cidrs.map((cidr) => ({ ipBlock: { cidr } }));
}

export function tcpPorts(...ports: number[]) {
  return ports.map((port) => ({ protocol: "TCP", port }));
}

/** Egress to the Kubernetes API (in-cluster Service on 443, endpoints often on 6443, addresses outside the pod network). */
export function kubeApiEgressRule(cidrs: readonly string[] = ["0.0.0.0/0"]) {
  return { to: ipBlocks(cidrs), ports: tcpPorts(443, 6443) };
}

// ---- RBAC ----

/**
 * What the authn-k8s authenticator needs in a cluster it checks, and nothing more: read pods,
 * service accounts and workload controllers, exec into the authenticator container to inject the
 * client certificate, and read namespaces for label selectors.
 */
export function authenticatorRbacRules() {
  return [
    { apiGroups: [""], resources: ["pods", "serviceaccounts"], verbs: ["get", "list"] },
    {
      apiGroups: ["apps"],
      resources: ["deployments", "statefulsets", "replicasets"],
      verbs: ["get", "list"],
    },
    { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] },
    { apiGroups: [""], resources: ["namespaces"], verbs: ["get"] },
  ];
}
