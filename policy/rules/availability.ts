// Availability advice: a replicated workload should have a PodDisruptionBudget, or a node drain can take
// all its replicas down at once.
import { asRecord, clusterKey, field, isFullObjectOf, kubernetesKind, objectIdentity } from "../kubernetes";
import { labelSelectorMatches } from "../selectors";
import type { PlannedResource, StackRule, Violation } from "../types";

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
    // Budgets indexed by cluster and namespace once (linear in the resources, not workloads × budgets).
    const where = (resource: PlannedResource) =>
      JSON.stringify([clusterKey(resource), objectIdentity(resource).namespace ?? ""]);
    const budgets = new Map<string, PlannedResource[]>();
    for (const budget of resources.filter((resource) => kubernetesKind(resource) === "PodDisruptionBudget")) {
      budgets.set(where(budget), [...(budgets.get(where(budget)) ?? []), budget]);
    }
    const violations: Violation[] = [];
    for (const workload of resources.filter((resource) =>
      isFullObjectOf(resource, ["Deployment", "StatefulSet"]),
    )) {
      if (replicas(workload) <= 1) continue;
      const identity = objectIdentity(workload);
      const podLabels = asRecord(field(workload.props, "spec", "template", "metadata", "labels")) ?? {};
      const covered = (budgets.get(where(workload)) ?? []).some((budget) =>
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
