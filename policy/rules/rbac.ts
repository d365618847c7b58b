// RBAC rules: least privilege stays reviewable only without wildcards and without cluster-admin bindings.
import type { Rule } from "../types";
import { asArray, asRecord, asString, field, kubernetesKind } from "../kubernetes";

const RULE_LISTS = ["verbs", "resources", "apiGroups"] as const;

export const rbacNoWildcards: Rule = {
  name: "rbac-no-wildcards",
  description: "Role and ClusterRole rules name their verbs, resources and API groups; no '*'.",
  level: "mandatory",
  check: (resource) => {
    const kind = kubernetesKind(resource);
    if (kind !== "Role" && kind !== "ClusterRole") return [];
    const messages: string[] = [];
    asArray(resource.props.rules).forEach((ruleEntry, index) => {
      const policyRule = asRecord(ruleEntry) ?? {};
      for (const list of RULE_LISTS) {
        // "*" and partial wildcards such as "*/scale" both grant more than was reviewed.
        const wildcards = asArray(policyRule[list]).filter(
          (entry) => typeof entry === "string" && entry.includes("*"),
        );
        if (wildcards.length > 0) {
          messages.push(`rules[${index}].${list} contains ${JSON.stringify(wildcards)}; name each one`);
        }
      }
    });
    return messages;
  },
};

export const rbacNoClusterAdmin: Rule = {
  name: "rbac-no-cluster-admin",
  description: "No RoleBinding or ClusterRoleBinding grants the cluster-admin ClusterRole.",
  level: "mandatory",
  check: (resource) => {
    const kind = kubernetesKind(resource);
    if (kind !== "RoleBinding" && kind !== "ClusterRoleBinding") return [];
    const roleKind = asString(field(resource.props, "roleRef", "kind"));
    const roleName = asString(field(resource.props, "roleRef", "name"));
    if (roleKind === "ClusterRole" && roleName === "cluster-admin") {
      return [
        `roleRef binds ClusterRole cluster-admin; bind a Role or ClusterRole with only the permissions needed`,
      ];
    }
    return [];
  },
};
