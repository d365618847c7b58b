// Availability advice: a replicated workload should have a PodDisruptionBudget, or a node drain can take
// all its replicas down at once.
import type { PlannedResource, StackRule, Violation } from "../engine";
import {
  asArray,
  asRecord,
  asString,
  clusterKey,
  field,
  isFullObjectOf,
  kubernetesKind,
  objectIdentity,
} from "./kubernetes";

/** Kubernetes label selector semantics (matchLabels AND matchExpressions); an empty selector matches all. */
export function labelSelectorMatches(selector: unknown, labels: Record<string, unknown>): boolean {
  const record = asRecord(selector);
  if (record === undefined) return false; // a null selector selects nothing
  const matchLabels = asRecord(record.matchLabels) ?? {};
  if (!Object.entries(matchLabels).every(([key, value]) => labels[key] === value)) return false;
  return asArray(record.matchExpressions).every((expressionEntry) => {
    const expression = asRecord(expressionEntry) ?? {};
    const key = asString(expression.key) ?? "";
    const values = asArray(expression.values);
    const present = Object.prototype.hasOwnProperty.call(labels, key);
    switch (asString(expression.operator)) {
      case "In":
        return present && values.includes(labels[key]);
      case "NotIn":
        return !present || !values.includes(labels[key]);
      case "Exists":
        return present;
      case "DoesNotExist":
        return !present;
      default:
        return false;
    }
  });
}

function replicas(workload: PlannedResource): number {
  const value = field(workload.props, "spec", "replicas");
  return typeof value === "number" ? value : 1; // unset means 1
}

export const pdbForReplicatedWorkloads: StackRule = {
  name: "pdb-for-replicated-workloads",
  description:
    "A Deployment or StatefulSet with more than one replica has a PodDisruptionBudget in its namespace and " +
    "cluster whose selector matches its pod labels.",
  level: "advisory",
  checkStack: (resources) => {
    const budgets = resources.filter((resource) => kubernetesKind(resource) === "PodDisruptionBudget");
    const violations: Violation[] = [];
    for (const workload of resources.filter((resource) =>
      isFullObjectOf(resource, ["Deployment", "StatefulSet"]),
    )) {
      if (replicas(workload) <= 1) continue;
      const identity = objectIdentity(workload);
      const podLabels = asRecord(field(workload.props, "spec", "template", "metadata", "labels")) ?? {};
      const covered = budgets.some(
        (budget) =>
          clusterKey(budget) === clusterKey(workload) &&
          (objectIdentity(budget).namespace ?? "") === (identity.namespace ?? "") &&
          labelSelectorMatches(field(budget.props, "spec", "selector"), podLabels),
      );
      if (!covered) {
        violations.push({
          rule: pdbForReplicatedWorkloads.name,
          level: pdbForReplicatedWorkloads.level,
          urn: workload.urn,
          message:
            `${identity.kind ?? "workload"} "${identity.name ?? workload.name}" runs ${replicas(workload)} replicas ` +
            `but no PodDisruptionBudget in namespace "${identity.namespace ?? ""}" selects its pods`,
        });
      }
    }
    return violations;
  },
};
