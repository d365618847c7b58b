// Pod Security Standards as the admission controller applies them (`baseline`, `restricted`), checked
// per container and field so a message says exactly what to change. Shared by the policy rules
// (policy/rules/podSecurity.ts) and the live-cluster preflight (tools/preflight), below both.
import type { PlannedResource, SubCheckFinding } from "./types";
import {
  asArray,
  asRecord,
  asString,
  containersOf,
  describeContainer,
  describeValue,
  field,
  podTemplateOf,
  type ContainerRef,
  type JsonRecord,
} from "./kubernetes";

/** Sub-checks of `pod-security-restricted`; exemptions name these in `waive`. */
export const POD_SECURITY_CHECKS = [
  "runAsNonRoot",
  "runAsUser",
  "allowPrivilegeEscalation",
  "capabilities",
  "seccompProfile",
  "hostPath",
  "volumeTypes",
  "hostNetwork",
  "hostPID",
  "hostIPC",
  "hostPort",
  "privileged",
] as const;
export type PodSecurityCheck = (typeof POD_SECURITY_CHECKS)[number];

/** Volume types the restricted profile allows. */
export const ALLOWED_VOLUME_TYPES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
] as const;

const ALLOWED_SECCOMP_TYPES = ["RuntimeDefault", "Localhost"];
const ALLOWED_ADDED_CAPABILITIES = ["NET_BIND_SERVICE"];

/** Pod annotation declaring that the pod calls the Kubernetes API and so needs its token. */
export const CALLS_KUBE_API_ANNOTATION = "hubspoke.io/calls-kube-api";

interface PodSecurityFinding extends SubCheckFinding {
  subCheck: PodSecurityCheck;
}

export function podSecurityFindings(resource: PlannedResource): PodSecurityFinding[] {
  const template = podTemplateOf(resource);
  if (template === undefined) return [];
  const pod = template.spec;
  const podContext = asRecord(pod.securityContext) ?? {};
  const findings: PodSecurityFinding[] = [];
  const add = (subCheck: PodSecurityCheck, message: string): void => {
    findings.push({ subCheck, message });
  };

  for (const hostNamespace of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    if (pod[hostNamespace] === true) add(hostNamespace, `pod: ${hostNamespace} must not be true`);
  }
  if (podContext.runAsNonRoot === false) {
    add("runAsNonRoot", "pod: securityContext.runAsNonRoot must not be false");
  }
  if (podContext.runAsUser === 0) add("runAsUser", "pod: securityContext.runAsUser must not be 0 (root)");
  const podSeccomp = asString(field(podContext, "seccompProfile", "type"));
  if (podSeccomp !== undefined && !ALLOWED_SECCOMP_TYPES.includes(podSeccomp)) {
    add(
      "seccompProfile",
      `pod: securityContext.seccompProfile.type must be RuntimeDefault or Localhost (is ${podSeccomp})`,
    );
  }

  for (const volumeEntry of asArray(pod.volumes)) {
    const volume = asRecord(volumeEntry);
    if (volume === undefined) continue;
    const volumeName = asString(volume.name) ?? "(unnamed)";
    const volumeTypes = Object.keys(volume).filter(
      (key) => key !== "name" && volume[key] !== null && volume[key] !== undefined,
    );
    for (const volumeType of volumeTypes) {
      if ((ALLOWED_VOLUME_TYPES as readonly string[]).includes(volumeType)) continue;
      add(
        volumeType === "hostPath" ? "hostPath" : "volumeTypes",
        `volume "${volumeName}": ${volumeType} volumes are not allowed (allowed: ${ALLOWED_VOLUME_TYPES.join(", ")})`,
      );
    }
  }

  for (const ref of containersOf(pod)) {
    containerFindings(ref, podContext).forEach((finding) => findings.push(finding));
  }
  return findings;
}

function containerFindings(ref: ContainerRef, podContext: JsonRecord): PodSecurityFinding[] {
  const findings: PodSecurityFinding[] = [];
  const who = describeContainer(ref);
  const context = asRecord(ref.container.securityContext) ?? {};
  const add = (subCheck: PodSecurityCheck, message: string): void => {
    findings.push({ subCheck, message: `${who}: ${message}` });
  };

  // The container value overrides the pod value, so an explicit false on the container fails.
  const runAsNonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
  if (runAsNonRoot !== true) {
    add(
      "runAsNonRoot",
      `securityContext.runAsNonRoot must be true on the container or the pod (is ${describeValue(context.runAsNonRoot)})`,
    );
  }
  if (context.runAsUser === 0) add("runAsUser", "securityContext.runAsUser must not be 0 (root)");
  if (context.allowPrivilegeEscalation !== false) {
    add(
      "allowPrivilegeEscalation",
      `securityContext.allowPrivilegeEscalation must be false (is ${describeValue(context.allowPrivilegeEscalation)})`,
    );
  }
  if (context.privileged === true) add("privileged", "securityContext.privileged must not be true");

  const capabilities = asRecord(context.capabilities) ?? {};
  const dropped = asArray(capabilities.drop);
  if (!dropped.includes("ALL")) {
    add(
      "capabilities",
      `securityContext.capabilities.drop must include "ALL" (is ${describeValue(capabilities.drop)})`,
    );
  }
  const addedBeyondAllowed = asArray(capabilities.add).filter(
    (capability) => typeof capability !== "string" || !ALLOWED_ADDED_CAPABILITIES.includes(capability),
  );
  if (addedBeyondAllowed.length > 0) {
    add(
      "capabilities",
      `securityContext.capabilities.add may only contain NET_BIND_SERVICE (has ${JSON.stringify(addedBeyondAllowed)})`,
    );
  }

  const seccomp =
    asString(field(context, "seccompProfile", "type")) ??
    asString(field(podContext, "seccompProfile", "type"));
  if (seccomp === undefined || !ALLOWED_SECCOMP_TYPES.includes(seccomp)) {
    add(
      "seccompProfile",
      `securityContext.seccompProfile.type must be RuntimeDefault or Localhost on the container or the pod (is ${describeValue(seccomp)})`,
    );
  }

  asArray(ref.container.ports).forEach((portEntry, index) => {
    const hostPort = field(portEntry, "hostPort");
    if (hostPort !== undefined && hostPort !== null && hostPort !== 0) {
      add("hostPort", `ports[${index}].hostPort must not be set (is ${describeValue(hostPort)})`);
    }
  });
  return findings;
}

// ---- The baseline profile, and either profile as a whole (the preflight judges tenant workloads) ----

/** Sub-checks of the Pod Security Standard `baseline` profile (Kubernetes docs, pod-security-standards.md). */
export const BASELINE_CHECKS = [
  "hostProcess",
  "hostNetwork",
  "hostPID",
  "hostIPC",
  "privileged",
  "capabilities",
  "hostPath",
  "hostPort",
  "appArmor",
  "seLinux",
  "procMount",
  "seccompProfile",
  "sysctls",
] as const;
export type BaselineCheck = (typeof BASELINE_CHECKS)[number];

/** Capabilities `baseline` lets a container add (the container runtime's default set). */
export const BASELINE_ALLOWED_CAPABILITIES = [
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
];

/** The "safe" sysctls `baseline` allows, up to Pod Security version v1.33. */
export const BASELINE_SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
];

const ALLOWED_SELINUX_TYPES = [
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
];
const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

/** Why a pod fails the `baseline` profile, per sub-check; [] when it passes. */
export function baselineFindings(resource: PlannedResource): SubCheckFinding[] {
  const template = podTemplateOf(resource);
  if (template === undefined) return [];
  const pod = template.spec;
  const podContext = asRecord(pod.securityContext) ?? {};
  const findings: SubCheckFinding[] = [];
  const add = (subCheck: BaselineCheck, message: string): void => {
    findings.push({ subCheck, message });
  };
  const contexts: Array<[string, JsonRecord]> = [["pod", podContext]];
  for (const ref of containersOf(pod)) {
    contexts.push([describeContainer(ref), asRecord(ref.container.securityContext) ?? {}]);
  }

  for (const hostNamespace of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    if (pod[hostNamespace] === true) add(hostNamespace, `pod: ${hostNamespace} must not be true`);
  }
  for (const volumeEntry of asArray(pod.volumes)) {
    const volume = asRecord(volumeEntry);
    if (volume?.hostPath !== undefined && volume.hostPath !== null) {
      add("hostPath", `volume "${asString(volume.name) ?? "(unnamed)"}": hostPath volumes are not allowed`);
    }
  }
  for (const [who, context] of contexts) {
    if (field(context, "windowsOptions", "hostProcess") === true)
      add("hostProcess", `${who}: securityContext.windowsOptions.hostProcess must not be true`);
    const seccomp = asString(field(context, "seccompProfile", "type"));
    if (seccomp === "Unconfined")
      add("seccompProfile", `${who}: securityContext.seccompProfile.type must not be Unconfined`);
    const appArmor = asString(field(context, "appArmorProfile", "type"));
    if (appArmor === "Unconfined")
      add("appArmor", `${who}: securityContext.appArmorProfile.type must not be Unconfined`);
    const seLinux = asRecord(context.seLinuxOptions);
    if (seLinux !== undefined) {
      const type = asString(seLinux.type) ?? "";
      if (!ALLOWED_SELINUX_TYPES.includes(type))
        add("seLinux", `${who}: securityContext.seLinuxOptions.type ${JSON.stringify(type)} is not allowed`);
      if (seLinux.user !== undefined || seLinux.role !== undefined)
        add("seLinux", `${who}: securityContext.seLinuxOptions.user and .role must not be set`);
    }
  }
  for (const sysctl of asArray(podContext.sysctls)) {
    const name = asString(field(sysctl, "name"));
    if (name !== undefined && !BASELINE_SAFE_SYSCTLS.includes(name))
      add("sysctls", `pod: sysctl ${name} is not in the safe set`);
  }
  for (const [annotation, value] of Object.entries(asRecord(template.metadata.annotations) ?? {})) {
    if (!annotation.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    const profile = String(value);
    if (profile !== "runtime/default" && !profile.startsWith("localhost/"))
      add("appArmor", `annotation ${annotation}: AppArmor profile ${profile} is not allowed`);
  }
  for (const ref of containersOf(pod)) {
    const who = describeContainer(ref);
    const context = asRecord(ref.container.securityContext) ?? {};
    if (context.privileged === true) add("privileged", `${who}: securityContext.privileged must not be true`);
    const added = asArray(field(context, "capabilities", "add")).filter(
      (capability) => typeof capability !== "string" || !BASELINE_ALLOWED_CAPABILITIES.includes(capability),
    );
    if (added.length > 0)
      add(
        "capabilities",
        `${who}: securityContext.capabilities.add has ${JSON.stringify(added)} beyond the default set`,
      );
    const procMount = asString(context.procMount);
    if (procMount !== undefined && procMount !== "Default")
      add("procMount", `${who}: securityContext.procMount must be Default (is ${procMount})`);
    asArray(ref.container.ports).forEach((portEntry, index) => {
      const hostPort = field(portEntry, "hostPort");
      if (hostPort !== undefined && hostPort !== null && hostPort !== 0)
        add("hostPort", `${who}: ports[${index}].hostPort must not be set (is ${describeValue(hostPort)})`);
    });
  }
  return findings;
}

const BASELINE_ONLY_CHECKS: readonly string[] = [
  "hostProcess",
  "appArmor",
  "seLinux",
  "procMount",
  "sysctls",
];

/**
 * Why a pod fails a Pod Security level as the admission controller applies it: `privileged` admits
 * everything; `baseline` is its own profile; `restricted` is `baseline` plus the restricted checks.
 */
export function podSecurityLevelFindings(
  resource: PlannedResource,
  level: "privileged" | "baseline" | "restricted",
): SubCheckFinding[] {
  if (level === "privileged") return [];
  if (level === "baseline") return baselineFindings(resource);
  return [
    ...podSecurityFindings(resource),
    ...baselineFindings(resource).filter((finding) => BASELINE_ONLY_CHECKS.includes(finding.subCheck)),
  ];
}
