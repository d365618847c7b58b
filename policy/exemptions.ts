// Every policy exemption of the estate, in one place, each with the reason a reviewer can check.
// Matched on the Kubernetes object (kind, metadata.namespace, metadata.name), never on the Pulumi name.
import type { PodSecurityCheck } from "./pod-security";

export interface Exemption {
  /** Rule name, e.g. "pod-security-restricted". */
  readonly rule: string;
  /** Only on this cluster; omitted = every cluster. Inside the policy pack clusters are unknown, so omit it there. */
  readonly cluster?: string;
  readonly kind: string;
  /** metadata.namespace; "" for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
  /** Sub-checks waived; omitted = the whole rule. Every other sub-check still applies. */
  readonly waive?: readonly string[];
}

const fluentBitWaivedChecks: readonly PodSecurityCheck[] = ["hostPath", "runAsNonRoot", "runAsUser"];
const applianceWaivedChecks: readonly PodSecurityCheck[] = [
  "runAsNonRoot",
  "runAsUser",
  "capabilities",
  "seccompProfile",
];

export const exemptions: readonly Exemption[] = [
  {
    rule: "pod-security-restricted",
    kind: "DaemonSet",
    namespace: "hubspoke-logging",
    name: "fluent-bit",
    reason:
      "Fluent Bit reads the node's container and journal log files through hostPath mounts; those files " +
      "are root-owned, so it runs as root with a read-only root filesystem. Its namespace is labelled " +
      "pod-security privileged. It must still drop all capabilities, forbid privilege escalation, use " +
      "the RuntimeDefault seccomp profile and stay off the host network, PID and IPC namespaces.",
    waive: fluentBitWaivedChecks,
  },
  {
    rule: "pod-security-restricted",
    kind: "Deployment",
    namespace: "conjur-system",
    name: "conjur-follower",
    reason:
      "Only with conjur.follower.kind appliance (the default Kubernetes Follower is non-root and meets " +
      "restricted). The Conjur Enterprise appliance starts its init system under keyctl, then evoke and " +
      "its services, as root, and needs the AUDIT_WRITE capability (CyberArk's kubernetes-conjur-deploy " +
      "adds it; its OpenShift SCC allows RunAsAny and AUDIT_WRITE). Its seccomp profile is left unset " +
      "because runtime default profiles block keyctl, which the appliance's start script calls. The " +
      "namespace is labelled pod-security baseline, which allows all of this. The seed fetcher init " +
      "container still drops all capabilities, forbids escalation and keeps a read-only root filesystem.",
    waive: applianceWaivedChecks,
  },
  {
    rule: "read-only-root-filesystem",
    kind: "Deployment",
    namespace: "conjur-system",
    name: "conjur-follower",
    reason:
      "The Conjur Enterprise appliance unpacks the seed and writes its own configuration, database and " +
      "service state under its image's tree at start-up; those paths are not documented for separate " +
      "volumes. Its seed fetcher init container keeps a read-only root filesystem.",
  },
  {
    rule: "pod-security-restricted",
    kind: "StatefulSet",
    namespace: "conjur-system",
    name: "conjur-leader",
    reason:
      "Only with conjur.leader.placement hub (CyberArk recommends a Leader outside Kubernetes, the " +
      "default). The Conjur Enterprise appliance runs its init system, evoke and its services (nginx, " +
      "PostgreSQL, syslog-ng) as root and needs AUDIT_WRITE (kubernetes-conjur-deploy " +
      "`conjur-cluster.yaml` adds it; its OpenShift set-up grants anyuid and a custom SCC for it). Its " +
      "seccomp profile is left unset because runtime default profiles block keyctl, which the " +
      "appliance calls (CyberArk's container installs run it with seccomp unconfined or their own " +
      "profile). The namespace is labelled pod-security baseline, which allows all of this; privilege " +
      "escalation stays forbidden.",
    waive: applianceWaivedChecks,
  },
  {
    rule: "read-only-root-filesystem",
    kind: "StatefulSet",
    namespace: "conjur-system",
    name: "conjur-leader",
    reason:
      "The Conjur Enterprise appliance writes its database and service state under its image's tree; " +
      "only configuration, keys, backups, seeds and logs have documented volume paths (mounted from " +
      "the pod's persistent volume).",
  },
  {
    rule: "probes-liveness-and-readiness",
    kind: "StatefulSet",
    namespace: "conjur-system",
    name: "conjur-leader",
    reason:
      "No liveness probe on purpose: a restarted appliance container comes back without its database " +
      "(it lives in the container, not on a documented volume), so the kubelet must never restart a " +
      "Leader or Standby on its own. Readiness (`GET /health` over HTTPS, as kubernetes-conjur-deploy) " +
      "keeps traffic away from a pod that is not configured or not healthy; the alerting is on it.",
  },
];

/** A copy of the exemption list, for docs and reviews. */
export function listExemptions(): Exemption[] {
  return exemptions.map(({ waive, ...exemption }) => ({
    ...exemption,
    ...(waive ? { waive: [...waive] } : {}),
  }));
}

/** The exemption list as a Markdown table for docs/. */
export function exemptionsMarkdown(): string {
  const escape = (text: string): string => text.replace(/\|/g, "\\|");
  const rows = exemptions.map((exemption) =>
    [
      exemption.rule,
      exemption.cluster ?? "all",
      exemption.kind,
      exemption.namespace === "" ? "(cluster)" : exemption.namespace,
      exemption.name,
      exemption.waive === undefined ? "whole rule" : exemption.waive.join(", "),
      exemption.reason,
    ]
      .map(escape)
      .join(" | "),
  );
  return [
    "| Rule | Cluster | Kind | Namespace | Name | Waived checks | Reason |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((row) => `| ${row} |`),
  ].join("\n");
}
