// Reading Kubernetes objects out of Pulumi resource props: type tokens, metadata, pod templates,
// containers, and the two shapes a Pulumi secret takes. Defensive throughout: props are untyped input.
import type { PlannedResource } from "./types";

export type JsonRecord = Record<string, unknown>;

/** Pulumi's signature key/value marking a serialised secret (`@pulumi/pulumi/runtime/rpc`). */
export const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIGNATURE_VALUE = "1b47061264138c4ac30d75fd1eb44270";
/** What the offline plan writes in place of a secret value. */
export const REDACTED_SECRET = "[secret]";

// Sentinels @pulumi/policy (proxy.js) and the Pulumi runtime use for values not known until the update.
const UNKNOWN_SENTINELS = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

export function isSecretValue(value: unknown): boolean {
  if (value === REDACTED_SECRET) return true;
  const record = asRecord(value);
  return record !== undefined && record[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE_VALUE;
}

export function isUnknownValue(value: unknown): boolean {
  return typeof value === "string" && UNKNOWN_SENTINELS.has(value);
}

export function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as JsonRecord)
    : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" && !isUnknownValue(value) ? value : undefined;
}

/** Walks a path of object keys; undefined as soon as a step is missing or not an object. */
export function field(value: unknown, ...path: string[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    const record = asRecord(current);
    if (record === undefined) return undefined;
    current = record[key];
  }
  return current;
}

export function stringMap(value: unknown): Record<string, unknown> {
  return asRecord(value) ?? {};
}

/** A parsed Kubernetes type token `kubernetes:<group>/<version>:<Kind>` ("core" is the core group). */
export interface KubernetesTypeToken {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Server-side-apply patch resources (`NamespacePatch`): partial objects the stack does not own. */
  readonly patch: boolean;
}

// Modules of @pulumi/kubernetes that are Pulumi constructs rather than Kubernetes API objects.
const NON_OBJECT_GROUPS = new Set(["helm.sh", "yaml", "kustomize"]);

export function parseKubernetesType(type: string): KubernetesTypeToken | undefined {
  const match = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
  if (match === null) return undefined;
  const [, module, typeName] = match;
  const [groupPart, version = ""] = module.split("/");
  if (NON_OBJECT_GROUPS.has(groupPart) || typeName.endsWith("List")) return undefined;
  const patch = typeName.endsWith("Patch") && typeName.length > "Patch".length;
  return {
    group: groupPart === "core" ? "" : groupPart,
    version,
    kind: patch ? typeName.slice(0, -"Patch".length) : typeName,
    patch,
  };
}

/** True for resources that are Kubernetes API objects (not Helm releases, YAML groups or providers). */
export function isKubernetesObject(resource: PlannedResource): boolean {
  return parseKubernetesType(resource.type) !== undefined;
}

/** The object's Kubernetes kind: props.kind when given, else from the type token (patch suffix removed). */
export function kubernetesKind(resource: PlannedResource): string | undefined {
  const token = parseKubernetesType(resource.type);
  if (token === undefined) return undefined;
  return asString(resource.props.kind) ?? token.kind;
}

/** Kind check on the type token, for full objects only (patches are partial and judged elsewhere). */
export function isFullObjectOf(resource: PlannedResource, kinds: readonly string[]): boolean {
  const token = parseKubernetesType(resource.type);
  return token !== undefined && !token.patch && kinds.includes(token.kind);
}

export interface ObjectIdentity {
  readonly kind: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

export function objectIdentity(resource: PlannedResource): ObjectIdentity {
  return {
    kind: kubernetesKind(resource),
    namespace: asString(field(resource.props, "metadata", "namespace")),
    name: asString(field(resource.props, "metadata", "name")),
  };
}

/** Groups resources that land on the same cluster: the cluster name, else the provider they use. */
export function clusterKey(resource: PlannedResource): string {
  return resource.cluster ?? resource.provider ?? "";
}

export const POD_BEARING_KINDS = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "Job",
  "CronJob",
] as const;

export interface PodTemplate {
  readonly spec: JsonRecord;
  readonly metadata: JsonRecord;
  /** Where the pod spec sits in the object, for messages (`spec.template.spec`). */
  readonly specPath: string;
  /** Run-to-completion pods (Jobs, CronJobs, bare Pods that never restart) have no probes by nature. */
  readonly runsToCompletion: boolean;
}

/** The pod template of a pod-bearing object, at the path its kind keeps it; undefined for other kinds. */
export function podTemplateOf(resource: PlannedResource): PodTemplate | undefined {
  if (!isFullObjectOf(resource, POD_BEARING_KINDS)) return undefined;
  const kind = parseKubernetesType(resource.type)?.kind;
  const props = resource.props;
  switch (kind) {
    case "Pod": {
      const spec = asRecord(props.spec) ?? {};
      const restartPolicy = asString(spec.restartPolicy);
      return {
        spec,
        metadata: asRecord(props.metadata) ?? {},
        specPath: "spec",
        runsToCompletion: restartPolicy === "Never" || restartPolicy === "OnFailure",
      };
    }
    case "CronJob":
      return {
        spec: asRecord(field(props, "spec", "jobTemplate", "spec", "template", "spec")) ?? {},
        metadata: asRecord(field(props, "spec", "jobTemplate", "spec", "template", "metadata")) ?? {},
        specPath: "spec.jobTemplate.spec.template.spec",
        runsToCompletion: true,
      };
    default:
      return {
        spec: asRecord(field(props, "spec", "template", "spec")) ?? {},
        metadata: asRecord(field(props, "spec", "template", "metadata")) ?? {},
        specPath: "spec.template.spec",
        runsToCompletion: kind === "Job",
      };
  }
}

export type ContainerRole = "container" | "init container" | "ephemeral container";

export interface ContainerRef {
  readonly container: JsonRecord;
  readonly name: string;
  readonly role: ContainerRole;
  /** Path inside the pod spec, e.g. `initContainers[0]`. */
  readonly path: string;
}

const CONTAINER_LISTS: ReadonlyArray<readonly [string, ContainerRole]> = [
  ["initContainers", "init container"],
  ["containers", "container"],
  ["ephemeralContainers", "ephemeral container"],
];

export function containersOf(podSpec: JsonRecord): ContainerRef[] {
  const refs: ContainerRef[] = [];
  for (const [list, role] of CONTAINER_LISTS) {
    asArray(podSpec[list]).forEach((entry, index) => {
      const container = asRecord(entry);
      if (container === undefined) return;
      const path = `${list}[${index}]`;
      refs.push({ container, name: asString(container.name) ?? path, role, path });
    });
  }
  return refs;
}

/** `init container "seed-fetch"`: how messages name a container. */
export function describeContainer(ref: ContainerRef): string {
  return `${ref.role} "${ref.name}"`;
}

/** Renders a found value for a message: `unset`, or its JSON. */
export function describeValue(value: unknown): string {
  return value === undefined ? "unset" : JSON.stringify(value);
}
