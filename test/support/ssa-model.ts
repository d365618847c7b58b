// A small, exact model of what decides whether a rollback restores a tenant: the API server's
// server-side-apply field ownership of namespace labels and annotations, and object create/delete,
// as the Kubernetes docs (reference/using-api/server-side-apply.md) and pulumi-kubernetes 4.34 state:
// - applying a field another manager owns with a different value is a conflict, unless forced; force
//   sets the value and removes the field from every other manager;
// - applying the same value as another manager makes the field shared;
// - a field the applier owned and no longer applies is released: removed from the object when no other
//   manager owns it, kept (with its value) when another does. Deleting a Patch resource is exactly
//   that release (Pulumi's SSA guide: "Deleting a Patch resource will undo the patched changes");
// - creating an object that exists fails with AlreadyExists (upsertExistingObjects: false).
import type { RecordedResource } from "../../tools/mock-engine";

export type Section = "labels" | "annotations";

interface ModelObject {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly fields: Record<Section, Map<string, string>>;
  /** `labels/<key>` -> managers owning it. */
  readonly owners: Map<string, Set<string>>;
  readonly body: unknown;
}

export interface NamespaceState {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export class ApplyConflict extends Error {}
export class AlreadyExists extends Error {}

const objectKey = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}/${namespace ?? ""}/${name}`;

export class ModelCluster {
  private readonly objects = new Map<string, ModelObject>();

  /** Seeds an object as it exists before conversion, each label and annotation owned by the named manager. */
  seed(
    kind: string,
    namespace: string | undefined,
    name: string,
    metadata: Partial<Record<Section, Record<string, { value: string; manager?: string }>>> = {},
    body: unknown = {},
  ): void {
    const object: ModelObject = {
      kind,
      ...(namespace !== undefined ? { namespace } : {}),
      name,
      fields: { labels: new Map(), annotations: new Map() },
      owners: new Map(),
      body,
    };
    for (const section of ["labels", "annotations"] as const) {
      for (const [key, { value, manager }] of Object.entries(metadata[section] ?? {})) {
        object.fields[section].set(key, value);
        object.owners.set(`${section}/${key}`, new Set(manager ? [manager] : []));
      }
    }
    this.objects.set(objectKey(kind, namespace, name), object);
  }

  has(kind: string, namespace: string | undefined, name: string): boolean {
    return this.objects.has(objectKey(kind, namespace, name));
  }

  /** Client-side create, as the provider does it with upsertExistingObjects: false. */
  create(
    kind: string,
    namespace: string | undefined,
    name: string,
    manager: string,
    metadata: NamespaceState,
    body: unknown,
  ): void {
    if (this.has(kind, namespace, name))
      throw new AlreadyExists(`${kind} ${namespace ?? ""}/${name} already exists`);
    const seeded: Partial<Record<Section, Record<string, { value: string; manager: string }>>> = {};
    for (const section of ["labels", "annotations"] as const) {
      seeded[section] = Object.fromEntries(
        Object.entries(metadata[section]).map(([k, value]) => [k, { value, manager }]),
      );
    }
    this.seed(kind, namespace, name, seeded, body);
  }

  delete(kind: string, namespace: string | undefined, name: string): void {
    this.objects.delete(objectKey(kind, namespace, name));
  }

  /** A server-side apply of labels and annotations by one field manager (the whole applied set). */
  apply(kind: string, name: string, manager: string, applied: NamespaceState, force: boolean): void {
    const object = this.objects.get(objectKey(kind, undefined, name));
    if (!object) throw new Error(`${kind} ${name} not found`);
    const conflicts: string[] = [];
    for (const section of ["labels", "annotations"] as const) {
      for (const [key, value] of Object.entries(applied[section])) {
        const current = object.fields[section].get(key);
        const others = [...(object.owners.get(`${section}/${key}`) ?? [])].filter((m) => m !== manager);
        if (current !== undefined && current !== value && others.length > 0)
          conflicts.push(`${section}/${key} (${others.join(", ")})`);
      }
    }
    if (conflicts.length && !force) throw new ApplyConflict(`conflicts: ${conflicts.join("; ")}`);
    for (const section of ["labels", "annotations"] as const) {
      for (const [key, value] of Object.entries(applied[section])) {
        const field = `${section}/${key}`;
        const current = object.fields[section].get(key);
        const owners = object.owners.get(field) ?? new Set<string>();
        if (current !== value) owners.clear(); // a changed value (forced, or unowned) leaves one owner
        owners.add(manager);
        object.owners.set(field, owners);
        object.fields[section].set(key, value);
      }
      // Fields this manager owned and did not apply now are released.
      for (const [field, owners] of object.owners) {
        if (!field.startsWith(`${section}/`) || !owners.has(manager)) continue;
        const key = field.slice(section.length + 1);
        if (key in applied[section]) continue;
        owners.delete(manager);
        if (owners.size === 0) {
          object.owners.delete(field);
          object.fields[section].delete(key);
        }
      }
    }
  }

  namespace(name: string): NamespaceState {
    const object = this.objects.get(objectKey("Namespace", undefined, name));
    if (!object) throw new Error(`namespace ${name} not found`);
    return {
      labels: Object.fromEntries([...object.fields.labels].sort()),
      annotations: Object.fromEntries([...object.fields.annotations].sort()),
    };
  }

  /** Every object of a namespace (and the namespace), with its body: what a tenant would see. */
  contents(namespace: string): Record<string, unknown> {
    return Object.fromEntries(
      [...this.objects.values()]
        .filter((o) => o.namespace === namespace || (o.kind === "Namespace" && o.name === namespace))
        .map((o) => [
          objectKey(o.kind, o.namespace, o.name),
          o.kind === "Namespace" ? this.namespace(o.name) : o.body,
        ])
        .sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
  }
}

type Json = Record<string, any>;

const kindOf = (type: string) => {
  const kind = type.slice(type.lastIndexOf(":") + 1);
  return { kind: kind.endsWith("Patch") ? kind.slice(0, -5) : kind, patch: kind.endsWith("Patch") };
};

export interface Replay {
  /** The provider arguments of the cluster (enablePatchForce decides whether patches force). */
  readonly provider: Json;
  readonly resources: readonly RecordedResource[];
}

/** `pulumi up` of recorded resources, in registration order; stops at the first failure (dependents wait). */
export function up(cluster: ModelCluster, replay: Replay): void {
  for (const r of replay.resources) {
    const { kind, patch } = kindOf(r.type);
    const meta = (r.inputs["metadata"] ?? {}) as Json;
    const state: NamespaceState = {
      labels: { ...(meta.labels ?? {}) },
      annotations: { ...(meta.annotations ?? {}) },
    };
    if (r.options.import !== undefined) {
      if (!cluster.has(kind, meta.namespace, meta.name))
        throw new Error(`import of ${kind} ${meta.name}: not found`);
      continue; // an import reads the object; it writes nothing
    }
    if (patch) {
      const force =
        state.annotations["pulumi.com/patchForce"] === "true" ||
        String(replay.provider["enablePatchForce"]) === "true";
      cluster.apply(kind, meta.name, `pulumi-patch:${r.name}`, state, force);
    } else {
      cluster.create(kind, meta.namespace, meta.name, "pulumi-kubernetes", state, r.inputs);
    }
  }
}

/** `pulumi destroy`: reverse order; retained resources stay; a patch releases its fields; imports only leave the state. */
export function destroy(cluster: ModelCluster, replay: Replay): void {
  for (const r of [...replay.resources].reverse()) {
    if (r.options.retainOnDelete) continue;
    const { kind, patch } = kindOf(r.type);
    const meta = (r.inputs["metadata"] ?? {}) as Json;
    if (patch)
      cluster.apply(kind, meta.name, `pulumi-patch:${r.name}`, { labels: {}, annotations: {} }, false);
    else cluster.delete(kind, meta.namespace, meta.name);
  }
}
