// Pod security rules: the Pod Security Standard `restricted` profile, checked per container and field
// so a message says exactly what to change, plus the advisory hardening checks around it.
import type { PlannedResource, Rule, SubCheckFinding } from "../types";
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
} from "../kubernetes";

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

export const podSecurityRestricted: Rule = {
  name: "pod-security-restricted",
  description:
    "Pods meet the Pod Security Standard 'restricted' profile: non-root, no privilege escalation, all " +
    "capabilities dropped, RuntimeDefault seccomp, only safe volume types, no host namespaces or ports.",
  level: "mandatory",
  check: (resource) => podSecurityFindings(resource).map((finding) => finding.message),
  findings: (resource) => podSecurityFindings(resource),
};

export const readOnlyRootFilesystem: Rule = {
  name: "read-only-root-filesystem",
  description: "Containers run with a read-only root filesystem (emptyDir volumes for scratch paths).",
  level: "advisory",
  check: (resource) => {
    const template = podTemplateOf(resource);
    if (template === undefined) return [];
    return containersOf(template.spec)
      .filter((ref) => ref.role !== "ephemeral container")
      .filter((ref) => field(ref.container, "securityContext", "readOnlyRootFilesystem") !== true)
      .map((ref) => `${describeContainer(ref)}: securityContext.readOnlyRootFilesystem should be true`);
  },
};

export const automountTokenOnlyWhenNeeded: Rule = {
  name: "automount-token-only-when-needed",
  description:
    `Pods mount a service account token only when they call the Kubernetes API (annotation ` +
    `${CALLS_KUBE_API_ANNOTATION}: "true"); otherwise automountServiceAccountToken is false.`,
  level: "advisory",
  check: (resource) => {
    const template = podTemplateOf(resource);
    if (template === undefined) return [];
    if (template.spec.automountServiceAccountToken === false) return [];
    const callsKubeApi = field(template.metadata, "annotations", CALLS_KUBE_API_ANNOTATION) === "true";
    if (callsKubeApi) return [];
    return [
      `pod (${template.specPath}): automountServiceAccountToken should be false, or annotate the pod ` +
        `${CALLS_KUBE_API_ANNOTATION}: "true" if it calls the Kubernetes API`,
    ];
  },
};
