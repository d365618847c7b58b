// API-server rules a schema does not carry, checked on the plan's manifests: object and namespace
// names (DNS-1123/1035), label and annotation syntax, port names (IANA_SVC_NAME) and the ports that
// refer to them, workload selectors that match their pod template, and Services that select a pod.
// Pure: plain Kubernetes objects in, problems out (sources: k8s.io/apimachinery/pkg/util/validation,
// pkg/apis/core/validation, pkg/apis/apps/validation).
import { labelSelectorMatches, selectsEverything } from "../policy/selectors";

export type KubeObject = Record<string, unknown>;

export interface ManifestProblem {
  /** `Deployment conjur-system/conjur-follower`. */
  readonly object: string;
  /** Field path inside the object, e.g. `spec.template.spec.containers[0].ports[1].name`. */
  readonly path: string;
  readonly message: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])*$/;
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;

export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

export function isDns1035Label(value: string): boolean {
  return value.length <= 63 && DNS1035_LABEL.test(value);
}

/** Why a label or annotation key is invalid (`[prefix/]name`), or undefined. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2) return "has more than one '/'";
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) {
    return `prefix "${prefix}" is not a DNS-1123 subdomain (at most 253 characters)`;
  }
  if (name.length === 0 || name.length > 63) return `name part must be 1-63 characters (is ${name.length})`;
  if (!QUALIFIED_NAME_PART.test(name)) {
    return "name part must be alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric";
  }
  return undefined;
}

/** Why a label value is invalid, or undefined. */
export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return `must be a string (is ${JSON.stringify(value)})`;
  if (value.length > 63) return `must be at most 63 characters (is ${value.length})`;
  if (!LABEL_VALUE.test(value)) {
    return "must be empty or alphanumeric, '-', '_' or '.', starting and ending with an alphanumeric";
  }
  return undefined;
}

/** Why a port name is not an IANA_SVC_NAME, or undefined. */
export function portNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 15) return `must be 1-15 characters (is ${name.length})`;
  if (!IANA_SVC_NAME.test(name))
    return "must be lower-case alphanumeric or '-', starting and ending with an alphanumeric";
  if (name.includes("--")) return "must not contain '--'";
  if (!/[a-z]/.test(name)) return "must contain at least one letter";
  return undefined;
}

// ---- reading objects ----

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function at(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((current, key) => record(current)?.[key], value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function describeObject(object: KubeObject): string {
  const namespace = str(at(object, "metadata", "namespace"));
  const name = str(at(object, "metadata", "name")) ?? "(unnamed)";
  return `${str(object["kind"]) ?? "?"} ${namespace ? `${namespace}/` : ""}${name}`;
}

/** Where a kind keeps its pod template, or undefined for kinds without one. */
export function podTemplatePath(kind: string | undefined): string[] | undefined {
  switch (kind) {
    case "Pod":
      return [];
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return ["spec", "template"];
    case "CronJob":
      return ["spec", "jobTemplate", "spec", "template"];
    default:
      return undefined;
  }
}

interface PodTemplate {
  readonly labels: Record<string, unknown>;
  readonly spec: Record<string, unknown>;
  readonly path: string;
}

export function podTemplate(object: KubeObject): PodTemplate | undefined {
  const path = podTemplatePath(str(object["kind"]));
  if (path === undefined) return undefined;
  const template = path.length === 0 ? object : at(object, ...path);
  return {
    labels: record(at(template, "metadata", "labels")) ?? {},
    spec: record(at(template, "spec")) ?? {},
    path: path.join("."),
  };
}

function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

// ---- the checks ----

/** Kinds whose names the API server validates as DNS labels rather than subdomains. */
const DNS1123_LABEL_NAMED = new Set(["Namespace", "StatefulSet"]);
/** RBAC names are path segments (`system:controller:x` is fine). */
const PATH_SEGMENT_NAMED = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);

/** metadata.name and metadata.namespace as the API server validates them for the object's kind. */
export function checkNames(object: KubeObject): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (path: string, message: string) =>
    problems.push({ object: describeObject(object), path, message });
  const kind = str(object["kind"]);
  const name = at(object, "metadata", "name");
  if (typeof name !== "string" || name === "") {
    add("metadata.name", "must be set");
  } else if (kind === "Service") {
    if (!isDns1035Label(name))
      add("metadata.name", `"${name}" is not a DNS-1035 label (a-z first, at most 63)`);
  } else if (kind !== undefined && DNS1123_LABEL_NAMED.has(kind)) {
    if (!isDns1123Label(name)) add("metadata.name", `"${name}" is not a DNS-1123 label (at most 63)`);
  } else if (kind !== undefined && PATH_SEGMENT_NAMED.has(kind)) {
    if (name === "." || name === ".." || /[/%]/.test(name)) {
      add("metadata.name", `"${name}" is not a valid path segment name`);
    }
  } else if (!isDns1123Subdomain(name)) {
    add("metadata.name", `"${name}" is not a DNS-1123 subdomain (at most 253)`);
  } else if ((kind === "Job" || kind === "CronJob") && name.length > (kind === "Job" ? 63 : 52)) {
    // The controller copies the name into a label value (job-name), which is capped at 63; CronJob adds a suffix.
    add("metadata.name", `a ${kind} name must be at most ${kind === "Job" ? 63 : 52} characters`);
  }
  const namespace = at(object, "metadata", "namespace");
  if (namespace !== undefined && (typeof namespace !== "string" || !isDns1123Label(namespace))) {
    add("metadata.namespace", `${JSON.stringify(namespace)} is not a DNS-1123 label`);
  }
  if (kind === "ConfigMap" || kind === "Secret") {
    for (const field of ["data", "stringData", "binaryData"]) {
      for (const key of Object.keys(record(object[field]) ?? {})) {
        if (key.length > 253 || !CONFIG_MAP_KEY.test(key)) {
          add(`${field}["${key}"]`, "keys must be alphanumeric, '-', '_' or '.', at most 253 characters");
        }
      }
    }
  }
  return problems;
}

/** Every label map and label selector in the object, with its path. */
function labelMaps(object: KubeObject): Array<{ path: string; labels: Record<string, unknown> }> {
  const maps: Array<{ path: string; labels: Record<string, unknown> }> = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, `${path}[${index}]`));
      return;
    }
    const node = record(value);
    if (node === undefined) return;
    for (const [key, child] of Object.entries(node)) {
      const childPath = join(path, key);
      const isLabels = key === "labels" && path.endsWith("metadata");
      const isMatchLabels = key === "matchLabels";
      // A Service's selector is a plain map; elsewhere `selector` holds matchLabels/matchExpressions.
      const isServiceSelector = key === "selector" && path === "spec" && object["kind"] === "Service";
      if ((isLabels || isMatchLabels || isServiceSelector) && record(child)) {
        maps.push({ path: childPath, labels: record(child) ?? {} });
      } else {
        visit(child, childPath);
      }
    }
  };
  visit(object, "");
  return maps;
}

/** Label keys and values (metadata, templates, selectors) and annotation keys. */
export function checkLabels(object: KubeObject): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (path: string, message: string) =>
    problems.push({ object: describeObject(object), path, message });
  for (const { path, labels } of labelMaps(object)) {
    for (const [key, value] of Object.entries(labels)) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) add(`${path}["${key}"]`, `label key ${keyProblem}`);
      const valueProblem = labelValueProblem(value);
      if (valueProblem) add(`${path}["${key}"]`, `label value ${valueProblem}`);
    }
  }
  const annotationPaths = [["metadata"]];
  const templatePath = podTemplatePath(str(object["kind"]));
  if (templatePath && templatePath.length > 0) annotationPaths.push([...templatePath, "metadata"]);
  for (const path of annotationPaths) {
    for (const key of Object.keys(record(at(object, ...path, "annotations")) ?? {})) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) add(`${[...path, "annotations"].join(".")}["${key}"]`, `annotation key ${keyProblem}`);
    }
  }
  return problems;
}

interface ContainerPorts {
  readonly names: Set<string>;
}

function containers(
  podSpec: Record<string, unknown>,
): Array<{ container: Record<string, unknown>; path: string }> {
  const out: Array<{ container: Record<string, unknown>; path: string }> = [];
  for (const list of ["initContainers", "containers"]) {
    array(podSpec[list]).forEach((entry, index) => {
      const container = record(entry);
      if (container) out.push({ container, path: `${list}[${index}]` });
    });
  }
  return out;
}

function namedPorts(container: Record<string, unknown>): ContainerPorts {
  return {
    names: new Set(
      array(container["ports"])
        .map((p) => str(at(p, "name")))
        .filter((n): n is string => n !== undefined),
    ),
  };
}

/**
 * Port names: container and Service ports are IANA_SVC_NAMEs (at most 15 characters; the API server
 * allows Service ports a DNS label, but a Service port name is also used as a targetPort and in
 * EndpointSlices, so the stricter rule is kept), unique in their pod or Service; a probe's or a
 * NetworkPolicy's named port is an IANA_SVC_NAME and a probe's names a port of its own container.
 */
export function checkPorts(object: KubeObject): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (path: string, message: string) =>
    problems.push({ object: describeObject(object), path, message });
  const template = podTemplate(object);
  if (template) {
    const base = join(template.path, "spec");
    const seen = new Map<string, string>();
    for (const { container, path } of containers(template.spec)) {
      array(container["ports"]).forEach((port, index) => {
        const name = at(port, "name");
        if (name === undefined) return;
        const portPath = join(base, `${path}.ports[${index}].name`);
        const problem = typeof name === "string" ? portNameProblem(name) : "must be a string";
        if (problem) add(portPath, `port name ${JSON.stringify(name)} ${problem}`);
        if (typeof name === "string") {
          const previous = seen.get(name);
          if (previous) add(portPath, `port name "${name}" is already used at ${previous}`);
          seen.set(name, portPath);
        }
      });
      const own = namedPorts(container);
      for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        for (const handler of ["httpGet", "tcpSocket", "grpc"]) {
          const port = at(container, probe, handler, "port");
          if (typeof port !== "string") continue;
          const probePath = join(base, `${path}.${probe}.${handler}.port`);
          const problem = portNameProblem(port);
          if (problem) add(probePath, `named port "${port}" ${problem}`);
          else if (!own.names.has(port))
            add(probePath, `names port "${port}", which the container does not declare`);
        }
      }
    }
  }
  if (object["kind"] === "Service") {
    const seen = new Set<string>();
    const ports = array(at(object, "spec", "ports"));
    ports.forEach((port, index) => {
      const name = at(port, "name");
      const path = `spec.ports[${index}]`;
      if (name === undefined || name === "") {
        if (ports.length > 1) add(`${path}.name`, "must be set when a Service has more than one port");
      } else if (typeof name !== "string") {
        add(`${path}.name`, "must be a string");
      } else {
        const problem = portNameProblem(name);
        if (problem) add(`${path}.name`, `port name "${name}" ${problem}`);
        if (seen.has(name)) add(`${path}.name`, `port name "${name}" is used twice`);
        seen.add(name);
      }
      const target = at(port, "targetPort");
      if (typeof target === "string") {
        const problem = portNameProblem(target);
        if (problem) add(`${path}.targetPort`, `named port "${target}" ${problem}`);
      }
    });
  }
  if (object["kind"] === "NetworkPolicy") {
    for (const direction of ["ingress", "egress"]) {
      array(at(object, "spec", direction)).forEach((rule, ruleIndex) => {
        array(at(rule, "ports")).forEach((port, portIndex) => {
          const value = at(port, "port");
          if (typeof value !== "string") return;
          const problem = portNameProblem(value);
          if (problem)
            add(
              `spec.${direction}[${ruleIndex}].ports[${portIndex}].port`,
              `named port "${value}" ${problem}`,
            );
        });
      });
    }
  }
  return problems;
}

/** Deployments, StatefulSets, DaemonSets and ReplicaSets: a non-empty selector that selects their own template. */
export function checkWorkloadSelector(object: KubeObject): ManifestProblem[] {
  const kind = str(object["kind"]);
  const requiresSelector = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].includes(kind ?? "");
  const selector = at(object, "spec", "selector");
  const template = podTemplate(object);
  if (template === undefined || (!requiresSelector && selector === undefined) || kind === "Pod") return [];
  const problem = (message: string): ManifestProblem[] => [
    { object: describeObject(object), path: "spec.selector", message },
  ];
  const empty = record(selector) === undefined || selectsEverything(selector);
  if (requiresSelector && empty) return problem("must be a non-empty label selector");
  if (!labelSelectorMatches(selector, template.labels)) {
    return problem(
      `does not match the template labels (${JSON.stringify(template.labels)}); the API server rejects it`,
    );
  }
  return [];
}

/** The per-object checks, in one call. */
export function checkObject(object: KubeObject): ManifestProblem[] {
  return [
    ...checkNames(object),
    ...checkLabels(object),
    ...checkPorts(object),
    ...checkWorkloadSelector(object),
  ];
}

/**
 * The labels of the pods a workload creates: its template's, and for a StatefulSet also the
 * `statefulset.kubernetes.io/pod-name` label its controller puts on each pod (one set per ordinal).
 */
function podLabelSets(object: KubeObject, template: PodTemplate): Record<string, unknown>[] {
  if (object["kind"] !== "StatefulSet") return [template.labels];
  const name = str(at(object, "metadata", "name")) ?? "";
  const replicas = at(object, "spec", "replicas");
  const count = typeof replicas === "number" ? replicas : 1;
  return Array.from({ length: count }, (_, i) => ({
    ...template.labels,
    "statefulset.kubernetes.io/pod-name": `${name}-${i}`,
  }));
}

/**
 * Cross-object checks within one cluster: every Service with a selector selects the pod template of
 * some workload in its namespace, and a named targetPort is a port name of a selected container.
 */
export function checkServiceSelectors(objects: readonly KubeObject[]): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const templates = objects
    .map((object) => ({ object, template: podTemplate(object) }))
    .filter((t): t is { object: KubeObject; template: PodTemplate } => t.template !== undefined);
  for (const service of objects.filter((o) => o["kind"] === "Service")) {
    const selector = record(at(service, "spec", "selector"));
    if (selector === undefined || Object.keys(selector).length === 0) continue; // endpoints managed elsewhere
    const namespace = str(at(service, "metadata", "namespace")) ?? "default";
    const selected = templates.filter(
      ({ object, template }) =>
        (str(at(object, "metadata", "namespace")) ?? "default") === namespace &&
        podLabelSets(object, template).some((labels) =>
          labelSelectorMatches({ matchLabels: selector }, labels),
        ),
    );
    if (selected.length === 0) {
      problems.push({
        object: describeObject(service),
        path: "spec.selector",
        message: `${JSON.stringify(selector)} selects no pod template in namespace "${namespace}"`,
      });
      continue;
    }
    array(at(service, "spec", "ports")).forEach((port, index) => {
      const target = at(port, "targetPort");
      if (typeof target !== "string") return;
      const declared = selected.some(({ template }) =>
        containers(template.spec).some(({ container }) => namedPorts(container).names.has(target)),
      );
      if (!declared) {
        problems.push({
          object: describeObject(service),
          path: `spec.ports[${index}].targetPort`,
          message: `names port "${target}", which no selected container declares`,
        });
      }
    });
  }
  return problems;
}

/** Every check over one cluster's objects. */
export function checkClusterManifests(objects: readonly KubeObject[]): ManifestProblem[] {
  return [...objects.flatMap(checkObject), ...checkServiceSelectors(objects)];
}

/** Namespaces every cluster has. */
export const BUILT_IN_NAMESPACES: readonly string[] = [
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
];

/**
 * The API server refuses a namespaced object whose namespace does not exist. So every object of one
 * cluster's manifests sits in a namespace those manifests create (or adopt: an imported or patched
 * Namespace is a Namespace document too), a built-in one, or a declared prerequisite (installed
 * before the stack, like Argo CD's).
 */
export function checkNamespacesExist(
  objects: readonly KubeObject[],
  prerequisites: readonly string[] = [],
): ManifestProblem[] {
  const known = new Set([
    ...BUILT_IN_NAMESPACES,
    ...prerequisites,
    ...objects.filter((o) => o["kind"] === "Namespace").flatMap((o) => str(at(o, "metadata", "name")) ?? []),
  ]);
  return objects.flatMap((object) => {
    const namespace = str(at(object, "metadata", "namespace"));
    if (namespace === undefined || known.has(namespace)) return [];
    return [
      {
        object: describeObject(object),
        path: "metadata.namespace",
        message: `namespace "${namespace}" is neither created by these manifests, built in, nor a declared prerequisite`,
      },
    ];
  });
}

export function formatManifestProblem(problem: ManifestProblem): string {
  return `${problem.object}: ${problem.path}: ${problem.message}`;
}
