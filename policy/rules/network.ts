// Network exposure rules: no Services opened on every node's ports, and a default-deny NetworkPolicy in
// every namespace the stack creates or adopts, so only explicit allow policies open traffic.
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

export const namespaceDefaultDeny: StackRule = {
  name: "namespace-default-deny",
  description:
    "Every namespace the stack creates or adopts (Namespace, NamespacePatch) has, on the same cluster, a " +
    "NetworkPolicy selecting all pods that denies all ingress and all egress.",
  level: "mandatory",
  checkStack: (resources) => {
    const networkPolicies = resources.filter((resource) => kubernetesKind(resource) === "NetworkPolicy");
    const violations: Violation[] = [];
    for (const namespace of resources.filter((resource) => kubernetesKind(resource) === "Namespace")) {
      const report = (message: string): void => {
        violations.push({
          rule: namespaceDefaultDeny.name,
          level: namespaceDefaultDeny.level,
          urn: namespace.urn,
          message,
        });
      };
      const namespaceName = objectIdentity(namespace).name;
      if (namespaceName === undefined) {
        report(
          "namespace has no explicit metadata.name, so its default-deny NetworkPolicy cannot be checked",
        );
        continue;
      }
      const denied = new Set<Direction>(
        networkPolicies
          .filter(
            (policy) =>
              clusterKey(policy) === clusterKey(namespace) &&
              objectIdentity(policy).namespace === namespaceName,
          )
          .flatMap(defaultDenyDirections),
      );
      const missing = (["Ingress", "Egress"] as const).filter((direction) => !denied.has(direction));
      if (missing.length > 0) {
        report(
          `namespace "${namespaceName}" has no default-deny NetworkPolicy for ${missing.join(" and ")} ` +
            `(podSelector: {}, policyTypes [${missing.join(", ")}], no ${missing.map((d) => d.toLowerCase()).join("/")} rules)`,
        );
      }
    }
    return violations;
  },
};
