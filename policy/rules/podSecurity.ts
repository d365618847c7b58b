// Pod security rules: the Pod Security Standard `restricted` profile (checks in policy/pod-security.ts),
// plus the advisory hardening checks around it.
import type { Rule } from "../types";
import { containersOf, describeContainer, field, podTemplateOf } from "../kubernetes";
import { CALLS_KUBE_API_ANNOTATION, podSecurityFindings } from "../pod-security";

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
