// Network exposure rules: no Services opened on every node's ports, and a default-deny NetworkPolicy in
// every namespace the stack creates or adopts once its network stage is enforce (advisory before).
import {
  asArray,
  asRecord,
  asString,
  clusterKey,
  field,
  kubernetesKind,
  objectIdentity,
} from "../kubernetes";
import { selectsEverything } from "../selectors";
import type { PlannedResource, Rule, StackRule, Violation } from "../types";

export const noNodePortServices: Rule = {
  name: "no-nodeport-services",
  description: "Services are not of type NodePort and LoadBalancer Services do not pin nodePorts.",
  level: "mandatory",
  check: (resource) => {
    if (kubernetesKind(resource) !== "Service") return [];
    const type = asString(field(resource.props, "spec", "type"));
    if (type === "NodePort")
      return ["spec.type NodePort opens the port on every node; use ClusterIP or LoadBalancer"];
    if (type !== "LoadBalancer") return [];
    const messages: string[] = [];
    asArray(field(resource.props, "spec", "ports")).forEach((port, index) => {
      const nodePort = field(port, "nodePort");
      if (nodePort !== undefined && nodePort !== null && nodePort !== 0) {
        messages.push(
          `spec.ports[${index}].nodePort is set (${JSON.stringify(nodePort)}); let the LoadBalancer manage node ports`,
        );
      }
    });
    return messages;
  },
};

type Direction = "Ingress" | "Egress";

/** The directions a NetworkPolicy denies for every pod of its namespace, per Kubernetes semantics. */
export function defaultDenyDirections(networkPolicy: PlannedResource): Direction[] {
  const spec = asRecord(networkPolicy.props.spec);
  if (spec === undefined || !selectsEverything(spec.podSelector)) return [];
  const ingressRules = asArray(spec.ingress);
  const egressRules = asArray(spec.egress);
  // Without policyTypes, Ingress is implied and Egress only when egress rules are present.
  const declaredTypes = spec.policyTypes === undefined ? undefined : asArray(spec.policyTypes);
  const policyTypes = declaredTypes ?? (egressRules.length > 0 ? ["Ingress", "Egress"] : ["Ingress"]);
  const denied: Direction[] = [];
  if (policyTypes.includes("Ingress") && ingressRules.length === 0) denied.push("Ingress");
  if (policyTypes.includes("Egress") && egressRules.length === 0) denied.push("Egress");
  return denied;
}

/** Annotation the stack puts on a tenant namespace with its network stage (components/naming.ts). */
export const NETWORK_ISOLATION_ANNOTATION = "hubspoke.io/network-isolation";

/**
 * A namespace's network stage, read from the rendered objects themselves so `pulumi preview
 * --policy-pack` and the offline plan judge alike: `observe` or `off` on a tenant that is not
 * enforced yet, else `enforce` (the stack's own namespaces carry no annotation and are always
 * enforced). An adopted namespace may be two resources (an import and the patch carrying the
 * annotation); the annotation on either decides.
 */
export function networkStageOf(namespaceObjects: readonly PlannedResource[]): "off" | "observe" | "enforce" {
  for (const namespace of namespaceObjects) {
    const stage = asString(field(namespace.props, "metadata", "annotations", NETWORK_ISOLATION_ANNOTATION));
    if (stage === "off" || stage === "observe") return stage;
    if (stage !== undefined) return "enforce";
  }
  return "enforce";
}

function missingDefaultDeny(
  resources: PlannedResource[],
  rule: StackRule,
  stages: readonly ("off" | "observe" | "enforce")[],
  describe: (namespaceName: string, missing: readonly Direction[], stage: string) => string,
): Violation[] {
  // The directions each namespace's policies deny, indexed once (linear in the resources).
  const deniedIn = new Map<string, Set<Direction>>();
  for (const policy of resources.filter((resource) => kubernetesKind(resource) === "NetworkPolicy")) {
    const key = JSON.stringify([clusterKey(policy), objectIdentity(policy).namespace]);
    const denied = deniedIn.get(key) ?? new Set<Direction>();
    for (const direction of defaultDenyDirections(policy)) denied.add(direction);
    deniedIn.set(key, denied);
  }
  const violations: Violation[] = [];
  const report = (urn: string, message: string): void => {
    violations.push({ rule: rule.name, level: rule.level, urn, message });
  };
  // One verdict per namespace and cluster, reported on the object that carries its stage.
  const byNamespace = new Map<string, PlannedResource[]>();
  for (const namespace of resources.filter((resource) => kubernetesKind(resource) === "Namespace")) {
    const namespaceName = objectIdentity(namespace).name;
    if (namespaceName === undefined) {
      if (stages.includes("enforce"))
        report(
          namespace.urn,
          "namespace has no explicit metadata.name, so its default-deny NetworkPolicy cannot be checked",
        );
      continue;
    }
    const key = JSON.stringify([clusterKey(namespace), namespaceName]);
    byNamespace.set(key, [...(byNamespace.get(key) ?? []), namespace]);
  }
  for (const objects of byNamespace.values()) {
    const stage = networkStageOf(objects);
    if (!stages.includes(stage)) continue;
    const carrier =
      objects.find(
        (o) => field(o.props, "metadata", "annotations", NETWORK_ISOLATION_ANNOTATION) !== undefined,
      ) ?? objects[0];
    const namespaceName = objectIdentity(carrier).name as string;
    const denied = deniedIn.get(JSON.stringify([clusterKey(carrier), namespaceName])) ?? new Set<Direction>();
    const missing = (["Ingress", "Egress"] as const).filter((direction) => !denied.has(direction));
    if (missing.length > 0) report(carrier.urn, describe(namespaceName, missing, stage));
  }
  return violations;
}

export const namespaceDefaultDeny: StackRule = {
  name: "namespace-default-deny",
  description:
    "Every namespace the stack creates or adopts (Namespace, NamespacePatch) whose network stage is enforce " +
    "(the stack's own namespaces always are) has, on the same cluster, a NetworkPolicy selecting all pods " +
    "that denies all ingress and all egress.",
  level: "mandatory",
  checkStack: (resources) =>
    missingDefaultDeny(
      resources,
      namespaceDefaultDeny,
      ["enforce"],
      (name, missing) =>
        `namespace "${name}" has no default-deny NetworkPolicy for ${missing.join(" and ")} ` +
        `(podSelector: {}, policyTypes [${missing.join(", ")}], no ${missing.map((d) => d.toLowerCase()).join("/")} rules)`,
    ),
};

/**
 * The same check, advisory, for tenants still observed (or left alone): the pack never forces a
 * disruptive setting on them, but keeps saying what is still open until they are enforced.
 */
export const namespaceDefaultDenyStaged: StackRule = {
  name: "namespace-default-deny-staged",
  description:
    `Tenant namespaces whose network stage is observe or off (annotation ${NETWORK_ISOLATION_ANNOTATION}) ` +
    "have no default deny yet: run the preflight and move them to enforce.",
  level: "advisory",
  checkStack: (resources) =>
    missingDefaultDeny(
      resources,
      namespaceDefaultDenyStaged,
      ["observe", "off"],
      (name, missing, stage) =>
        `namespace "${name}" is at network stage "${stage}": no default deny for ${missing.join(" and ")} yet; ` +
        "check the preflight's network findings, then set network.mode: enforce",
    ),
};
