// Which input changes make Pulumi replace a resource instead of updating it, per resource type the
// program uses, with the source of each rule. The plan diff asks this module only; a type it does
// not cover is "cannot tell", never "no change". Sources were read at these revisions:
//   K8S   pulumi/pulumi-kubernetes 94977969d (provider v4 line; this repo pins 4.34.2):
//         provider/pkg/provider/diff.go (forceNewProperties and the per-kind table),
//         provider/pkg/provider/provider.go Diff (metadata.name/namespace always force a
//         replacement; Patch resources only those; delete-before-replace when the name stays),
//         convertPatchToDiff/addPatchValueToDiff + openapi/match.go PatchPropertiesChanged (a change
//         replaces when a force-new path is that path or an ancestor of it), DiffConfig (providers).
//   TLS   hashicorp/terraform-provider-tls (what pulumi-tls 5.x bridges), internal/provider/
//         resource_*.go: every attribute with a RequiresReplace plan modifier.
//   RAND  hashicorp/terraform-provider-random (what pulumi-random 4.x bridges),
//         internal/provider/resource_bytes.go, resource_password.go.
//   ENG   pulumi/pulumi 1b5949891b pkg/resource/deploy/step_generator.go: providerChanged,
//         applyReplaceOnChanges, processIgnoreChanges, calculateDependentReplacements, the protect
//         check before a replacement; step.go: protected resources are not deleted.
import { PathSegment, pathContains, parsePropertyPath, valueAt } from "./property-path";

/** How one resource type decides between update and replace. */
export interface TypeRule {
  /** Short name of the rule set, for reports ("kubernetes", "tls", ...). */
  readonly family: "kubernetes" | "tls" | "random" | "kubernetes-provider" | "component";
  /** Why a change at this input path forces a replacement, or undefined (an in-place update). */
  forcesReplacement(path: readonly PathSegment[]): string | undefined;
  /** Whether the provider asks for delete-before-replace on a replacement (same name, same place). */
  providerDeleteBeforeReplace(oldInputs: unknown, newInputs: unknown): boolean;
}

// ---- Kubernetes objects (K8S diff.go, transcribed; `*` is the JSONPath `[*]`) ----

const labelSelector = (prefix: string): string[] => [`${prefix}.matchExpressions`, `${prefix}.matchLabels`];
const containerFields = (prefix: string): string[] =>
  [
    "args",
    "command",
    "env",
    "image",
    "imagePullPolicy",
    "lifecycle",
    "livenessProbe",
    "ports",
    "readinessProbe",
    "resources",
    "securityContext",
    "stdin",
    "stdinOnce",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "volumeDevices",
    "volumeMounts",
    "workingDir",
  ].map((f) => `${prefix}.${f}`);

const WORKLOAD_SELECTOR = ["spec.selector", ...labelSelector("spec.selector")];
const STATEFUL_SET = [
  "spec.podManagementPolicy",
  "spec.revisionHistoryLimit",
  "spec.serviceName",
  "spec.volumeClaimTemplates",
  ...WORKLOAD_SELECTOR,
];
const JOB = ["spec.completions", "spec.parallelism", "spec.template", ...WORKLOAD_SELECTOR];
const ROLE_BINDING = ["roleRef"];
const POD = [
  ...[
    "affinity",
    "automountServiceAccountToken",
    "dnsConfig",
    "dnsPolicy",
    "enableServiceLinks",
    "hostAliases",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostname",
    "imagePullSecrets",
    "nodeName",
    "nodeSelector",
    "overhead",
    "preemptionPolicy",
    "priority",
    "priorityClassName",
    "readinessGates",
    "restartPolicy",
    "runtimeClassName",
    "schedulerName",
    "securityContext",
    "serviceAccount",
    "serviceAccountName",
    "shareProcessNamespace",
    "subdomain",
    "terminationGracePeriodSeconds",
    "volumes",
  ].map((f) => `spec.${f}`),
  ...containerFields("spec.containers[*]"),
  ...containerFields("spec.initContainers[*]"),
];

/** group -> version -> kind -> force-new paths (K8S diff.go `forceNew`; core listed once). */
const KUBERNETES_FORCE_NEW: Readonly<
  Record<string, Readonly<Record<string, Readonly<Record<string, string[]>>>>>
> = {
  apps: {
    v1beta1: { StatefulSet: STATEFUL_SET },
    v1beta2: { DaemonSet: WORKLOAD_SELECTOR, Deployment: WORKLOAD_SELECTOR, StatefulSet: STATEFUL_SET },
    v1: { DaemonSet: WORKLOAD_SELECTOR, Deployment: WORKLOAD_SELECTOR, StatefulSet: STATEFUL_SET },
  },
  core: {
    v1: {
      PersistentVolumeClaim: [
        "spec.accessModes",
        "spec.selector",
        "spec.storageClassName",
        "spec.volumeName",
        ...labelSelector("spec.selector"),
      ],
      Pod: POD,
      ResourceQuota: ["spec.scopes"],
      Secret: ["type"],
      Service: ["spec.clusterIP"],
    },
  },
  // Only the beta PodDisruptionBudget is immutable; policy/v1 (what this program uses) updates.
  policy: { v1beta1: { PodDisruptionBudget: ["spec"] } },
  "rbac.authorization.k8s.io": {
    v1alpha1: { ClusterRoleBinding: ROLE_BINDING, RoleBinding: ROLE_BINDING },
    v1beta1: { ClusterRoleBinding: ROLE_BINDING, RoleBinding: ROLE_BINDING },
    v1: { ClusterRoleBinding: ROLE_BINDING, RoleBinding: ROLE_BINDING },
  },
  "storage.k8s.io": { v1: { StorageClass: ["parameters", "provisioner"] } },
  batch: { v1beta1: { Job: JOB }, v1: { Job: JOB }, v2alpha1: { Job: JOB } },
};

const IDENTITY = ["metadata.name", "metadata.namespace"];

/**
 * Provider settings that change Kubernetes replace rules. Both default to false (K8S
 * provider.go Configure; also settable through PULUMI_K8S_ENABLE_CONFIGMAP_MUTABLE /
 * PULUMI_K8S_ENABLE_SECRET_MUTABLE, which an offline plan cannot see).
 */
export interface KubernetesProviderSettings {
  readonly enableConfigMapMutable: boolean;
  readonly enableSecretMutable: boolean;
}

export function kubernetesProviderSettings(providerInputs: unknown): KubernetesProviderSettings {
  const get = (key: string) => valueAt(providerInputs, [key]);
  return {
    enableConfigMapMutable:
      get("enableConfigMapMutable") === true || get("enableConfigMapMutable") === "true",
    enableSecretMutable: get("enableSecretMutable") === true || get("enableSecretMutable") === "true",
  };
}

/** `kubernetes:apps/v1:Deployment` -> group, version, kind (core objects are `core/v1`). */
function kubernetesGvk(type: string): { group: string; version: string; kind: string } {
  const [, groupVersion = "", kind = ""] = type.split(":");
  const slash = groupVersion.lastIndexOf("/");
  return { group: groupVersion.slice(0, slash), version: groupVersion.slice(slash + 1), kind };
}

/** The force-new paths of one Kubernetes object (K8S diff.go forceNewProperties, Diff for patches). */
export function kubernetesForceNewPaths(
  type: string,
  newInputs: unknown,
  settings: KubernetesProviderSettings,
): string[] {
  const { group, version, kind } = kubernetesGvk(type);
  if (kind.endsWith("Patch")) return IDENTITY; // "Patch resources can be updated in place for all other properties."
  const immutable = valueAt(newInputs, ["immutable"]) === true;
  const kinds = KUBERNETES_FORCE_NEW[group]?.[version];
  if (kinds === undefined) return IDENTITY;
  if (group === "core" && kind === "Secret" && (!settings.enableSecretMutable || immutable)) {
    return [...IDENTITY, "type", "stringData", "data"];
  }
  if (kinds[kind]) return [...IDENTITY, ...kinds[kind]];
  if (group === "core" && kind === "ConfigMap" && (!settings.enableConfigMapMutable || immutable)) {
    return [...IDENTITY, "binaryData", "data"];
  }
  return IDENTITY;
}

function forceNewRule(paths: readonly string[], source: string) {
  const parsed = paths.map((p) => ({ text: p, segments: parsePropertyPath(p) ?? [p] }));
  return (path: readonly PathSegment[]): string | undefined => {
    // A change replaces when a force-new path is that path or one of its ancestors (match.go).
    const hit = parsed.find((p) => pathContains(p.segments, path));
    if (!hit) return undefined;
    return hit.segments.length === path.length
      ? `cannot change in place (${source})`
      : `inside ${hit.text}, which cannot change in place (${source})`;
  };
}

function kubernetesObjectRule(
  type: string,
  newInputs: unknown,
  settings: KubernetesProviderSettings,
): TypeRule {
  const { kind } = kubernetesGvk(type);
  const paths = kubernetesForceNewPaths(type, newInputs, settings);
  const mutability =
    kind === "Secret" && !settings.enableSecretMutable
      ? "Secrets are immutable unless the provider sets enableSecretMutable"
      : kind === "ConfigMap" && !settings.enableConfigMapMutable
        ? "ConfigMaps are immutable unless the provider sets enableConfigMapMutable"
        : "pulumi-kubernetes force-new field";
  return {
    family: "kubernetes",
    forcesReplacement: forceNewRule(paths, mutability),
    providerDeleteBeforeReplace(oldInputs, newer) {
      // K8S provider.go Diff: the object is named, not autonamed, and keeps its name and namespace.
      const name = valueAt(newer, ["metadata", "name"]);
      return (
        typeof name === "string" &&
        name === valueAt(oldInputs, ["metadata", "name"]) &&
        (valueAt(newer, ["metadata", "namespace"]) ?? "default") ===
          (valueAt(oldInputs, ["metadata", "namespace"]) ?? "default")
      );
    },
  };
}

// ---- @pulumi/tls and @pulumi/random: every input not listed here has RequiresReplace ----

/** Inputs that update in place; all others force a new resource (TLS/RAND schemas). */
const UPDATABLE_INPUTS: Readonly<Record<string, readonly string[]>> = {
  "tls:index/privateKey:PrivateKey": [],
  "tls:index/certRequest:CertRequest": [],
  "tls:index/selfSignedCert:SelfSignedCert": ["earlyRenewalHours"],
  "tls:index/locallySignedCert:LocallySignedCert": ["earlyRenewalHours"],
  "random:index/randomBytes:RandomBytes": [],
  // keepers with null values and overrideSpecial ""<->null are updates there; this program sets neither.
  "random:index/randomPassword:RandomPassword": [],
};

function terraformBridgedRule(type: string): TypeRule | undefined {
  const updatable = UPDATABLE_INPUTS[type];
  if (updatable === undefined) return undefined;
  const family = type.startsWith("tls:") ? "tls" : "random";
  return {
    family,
    forcesReplacement(path) {
      const top = String(path[0]);
      return updatable.includes(top) ? undefined : `${top} is not updatable (${family} provider schema)`;
    },
    // Nothing of these exists outside Pulumi's state: create-before-delete is the default.
    providerDeleteBeforeReplace: () => false,
  };
}

// ---- Provider resources ----

export const KUBERNETES_PROVIDER_TYPE = "pulumi:providers:kubernetes";

/**
 * K8S provider.go DiffConfig: a changed clusterIdentifier replaces; an unchanged, set one never
 * does (credentials rotate freely); without one, a changed active cluster (kubeconfig, context,
 * cluster) or renderYamlToDirectory replaces. A replaced provider replaces every object on it (ENG
 * calculateDependentReplacements).
 */
function kubernetesProviderRule(oldInputs: unknown): TypeRule {
  const oldIdentifier = valueAt(oldInputs, ["clusterIdentifier"]);
  return {
    family: "kubernetes-provider",
    forcesReplacement(path) {
      const top = String(path[0]);
      if (top === "clusterIdentifier")
        return "clusterIdentifier changed: a different cluster (provider DiffConfig)";
      if (typeof oldIdentifier === "string" && oldIdentifier !== "") return undefined;
      if (["kubeconfig", "context", "cluster", "renderYamlToDirectory"].includes(top)) {
        return `${top} changed and no clusterIdentifier pins the cluster (provider DiffConfig)`;
      }
      return undefined;
    },
    providerDeleteBeforeReplace: () => false,
  };
}

// ---- Components ----

/** This project's own component types: no provider, nothing outside Pulumi's state. */
export function isComponentType(type: string): boolean {
  return type.startsWith("hubspoke:");
}

const COMPONENT_RULE: TypeRule = {
  family: "component",
  forcesReplacement: () => undefined,
  providerDeleteBeforeReplace: () => false,
};

/**
 * The replace rule for one resource type, or undefined when this module cannot tell (a type the
 * program does not use today, or a provider other than Kubernetes').
 */
export function ruleFor(
  type: string,
  oldInputs: unknown,
  newInputs: unknown,
  settings: KubernetesProviderSettings,
): TypeRule | undefined {
  if (isComponentType(type)) return COMPONENT_RULE;
  if (type === KUBERNETES_PROVIDER_TYPE) return kubernetesProviderRule(oldInputs);
  if (type.startsWith("kubernetes:")) return kubernetesObjectRule(type, newInputs, settings);
  return terraformBridgedRule(type);
}

/** Resource types whose outputs are generated material: a replacement means new values downstream. */
export function generatesNewValues(type: string): boolean {
  return type.startsWith("tls:") || type.startsWith("random:");
}
