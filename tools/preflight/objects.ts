// The two views the preflight compares: what the stack would create (the plan's recorded objects, per
// cluster) and the pod-bearing objects of the live inventory, as the policy rules read them.
import type { PlannedResource } from "../../policy/engine";
import { parseKubernetesType } from "../../policy/kubernetes";
import type { Json, KubeObject } from "./inventory";

/** One Kubernetes object of the plan, as the preflight needs it. */
export interface PlanObject {
  readonly kind: string;
  readonly group: string;
  readonly namespace?: string;
  readonly name: string;
  /** A server-side-apply patch of an existing object (NamespacePatch): it never creates. */
  readonly patch: boolean;
  /** Adopted with `import`: the object exists by design. */
  readonly imported: boolean;
  readonly props: Json;
  readonly urn: string;
}

/** The props of a recorded resource, as the plan engine hands them to the policy rules. */
export interface RecordedObject {
  readonly urn: string;
  readonly type: string;
  readonly cluster: string | null;
  readonly props: Json;
  readonly imported: boolean;
}

export function planObject(r: RecordedObject): PlanObject | undefined {
  const token = parseKubernetesType(r.type);
  const metadata = (r.props["metadata"] ?? {}) as Json;
  const name = metadata["name"];
  if (!token || typeof name !== "string") return undefined;
  const namespace = typeof metadata["namespace"] === "string" ? metadata["namespace"] : undefined;
  return {
    kind: token.kind,
    group: token.group,
    ...(namespace !== undefined ? { namespace } : {}),
    name,
    patch: token.patch,
    imported: r.imported,
    props: r.props,
    urn: r.urn,
  };
}

/** Cluster name -> its plan objects. */
export function planObjectsByCluster(recorded: readonly RecordedObject[]): Map<string, PlanObject[]> {
  const byCluster = new Map<string, PlanObject[]>();
  for (const r of recorded) {
    if (!r.cluster) continue;
    const object = planObject(r);
    if (!object) continue;
    const list = byCluster.get(r.cluster) ?? [];
    list.push(object);
    byCluster.set(r.cluster, list);
  }
  return byCluster;
}

/** `apps/v1` -> `apps`; `v1` -> `` (the core group). */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
}

/** An inventory object as the policy engine's PlannedResource, so the project's own rules judge it. */
export function asPlannedResource(object: KubeObject, cluster: string): PlannedResource {
  const group = groupOf(object.apiVersion);
  const version = object.apiVersion.slice(object.apiVersion.indexOf("/") + 1);
  const module = group === "" ? `core/${version}` : `${group}/${version}`;
  return {
    urn: `inventory:${cluster}:${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`,
    type: `kubernetes:${module}:${object.kind}`,
    name: object.metadata.name,
    props: object,
    cluster,
    provider: null,
    opts: {},
  };
}
