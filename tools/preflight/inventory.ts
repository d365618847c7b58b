// The live cluster as `kubectl get ... -A -o yaml` describes it (a `kind: List`), indexed for the
// preflight: objects by kind, namespace and name, namespace labels, pods with their owning workload.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

export type Json = Record<string, unknown>;

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { kind: string; name: string }[];
    readonly managedFields?: readonly Json[];
  };
  readonly spec?: Json;
  readonly status?: Json;
  readonly [key: string]: unknown;
}

/**
 * The exact command whose output the preflight reads (one file per cluster, named after its key under
 * `clusters`). `--show-managed-fields` is optional: with it the preflight also checks who owns each
 * namespace label (see docs/conversion.md).
 */
export const INVENTORY_KINDS =
  "namespaces,pods,deployments,statefulsets,daemonsets,cronjobs,jobs,replicasets,services,ingresses," +
  "networkpolicies,resourcequotas,limitranges,rolebindings,serviceaccounts";
export const INVENTORY_COMMAND = `kubectl get ${INVENTORY_KINDS} -A -o yaml`;

export class InventoryError extends Error {
  constructor(
    public readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = "InventoryError";
  }
}

const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses one inventory file's text; throws InventoryError naming the file and what is wrong. */
export function parseInventory(file: string, text: string): Inventory {
  let document: unknown;
  try {
    document = YAML.parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new InventoryError(file, `not YAML (${(err as Error).message.split("\n")[0]})`);
  }
  if (!isRecord(document) || document["kind"] !== "List" || !Array.isArray(document["items"])) {
    throw new InventoryError(
      file,
      `not a kind: List with items (write it with: ${INVENTORY_COMMAND} > ${path.basename(file)})`,
    );
  }
  const objects: KubeObject[] = [];
  document["items"].forEach((item: unknown, index) => {
    const metadata = isRecord(item) ? item["metadata"] : undefined;
    if (
      !isRecord(item) ||
      typeof item["kind"] !== "string" ||
      typeof item["apiVersion"] !== "string" ||
      !isRecord(metadata) ||
      typeof metadata["name"] !== "string"
    ) {
      throw new InventoryError(
        file,
        `items[${index}] is not a Kubernetes object (apiVersion, kind, metadata.name)`,
      );
    }
    objects.push(item as unknown as KubeObject);
  });
  return new Inventory(file, objects);
}

export function readInventoryFile(file: string): Inventory {
  return parseInventory(file, fs.readFileSync(file, "utf8"));
}

const key = (kind: string, namespace: string | undefined, name: string) =>
  `${kind}/${namespace ?? ""}/${name}`;

/** A pod-bearing object that owns pods: what a finding names. */
export interface WorkloadRef {
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

export class Inventory {
  private readonly index = new Map<string, KubeObject>();

  constructor(
    public readonly file: string,
    public readonly objects: readonly KubeObject[],
  ) {
    for (const object of objects) {
      this.index.set(key(object.kind, object.metadata.namespace, object.metadata.name), object);
    }
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.index.get(key(kind, namespace, name));
  }

  ofKind(kind: string, namespace?: string): KubeObject[] {
    return this.objects.filter(
      (o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace),
    );
  }

  hasNamespace(name: string): boolean {
    return this.get("Namespace", undefined, name) !== undefined;
  }

  /** A namespace's labels, with the `kubernetes.io/metadata.name` label the API server always sets. */
  namespaceLabels(name: string): Record<string, string> {
    const labels = this.get("Namespace", undefined, name)?.metadata.labels ?? {};
    return { ...labels, "kubernetes.io/metadata.name": name };
  }

  /**
   * The top-level workload a pod-bearing object belongs to: a pod's ReplicaSet's Deployment, a Job's
   * CronJob. Owners missing from the inventory are named from the reference itself.
   */
  workloadOf(object: KubeObject): WorkloadRef {
    let current: { kind: string; name: string } = { kind: object.kind, name: object.metadata.name };
    const namespace = object.metadata.namespace ?? "";
    let owners = object.metadata.ownerReferences ?? [];
    for (let depth = 0; depth < 4 && owners.length > 0; depth++) {
      const owner = owners[0];
      current = { kind: owner.kind, name: owner.name };
      owners = this.get(owner.kind, namespace, owner.name)?.metadata.ownerReferences ?? [];
    }
    return { ...current, namespace };
  }

  private podsByWorkload: Map<string, KubeObject[]> | undefined;

  /** Live pods owned (directly or through a ReplicaSet or Job) by this workload. */
  podsOf(workload: WorkloadRef): KubeObject[] {
    if (!this.podsByWorkload) {
      this.podsByWorkload = new Map();
      for (const pod of this.ofKind("Pod")) {
        const owner = this.workloadOf(pod);
        const ownerKey = key(owner.kind, owner.namespace, owner.name);
        this.podsByWorkload.set(ownerKey, [...(this.podsByWorkload.get(ownerKey) ?? []), pod]);
      }
    }
    return this.podsByWorkload.get(key(workload.kind, workload.namespace, workload.name)) ?? [];
  }

  /** Top-level workloads of a namespace: controllers nobody owns, and bare pods. */
  workloads(namespace: string): KubeObject[] {
    const kinds = ["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet", "Pod"];
    return this.objects.filter(
      (o) =>
        kinds.includes(o.kind) &&
        o.metadata.namespace === namespace &&
        (o.metadata.ownerReferences ?? []).length === 0,
    );
  }
}

/** `<dir>/<cluster>.yaml` for every file of the directory; unknown clusters and bad files throw. */
export function readInventoryDirectory(
  dir: string,
  knownClusters: readonly string[],
): Map<string, Inventory> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new InventoryError(dir, "not a directory");
  }
  const inventories = new Map<string, Inventory>();
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  if (files.length === 0) throw new InventoryError(dir, "holds no <cluster>.yaml file");
  for (const name of files) {
    const file = path.join(dir, name);
    const cluster = name.replace(/\.ya?ml$/, "");
    if (!knownClusters.includes(cluster)) {
      throw new InventoryError(
        file,
        `names cluster "${cluster}", which is not under clusters (known: ${knownClusters.join(", ")})`,
      );
    }
    inventories.set(cluster, readInventoryFile(file));
  }
  return inventories;
}
