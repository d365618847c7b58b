import { strict as assert } from "node:assert";
import { rbacNoClusterAdmin, rbacNoWildcards } from "../../policy/rules/rbac";
import { devContext, planned } from "./fixtures";

function followerRole(rules: Array<Record<string, string[]>>, kind = "Role"): ReturnType<typeof planned> {
  return planned(
    `kubernetes:rbac.authorization.k8s.io/v1:${kind}`,
    `spoke-east-authn-${kind.toLowerCase()}`,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind,
      metadata: { name: "conjur-authenticator", namespace: kind === "Role" ? "conjur-system" : undefined },
      rules,
    },
  );
}

function binding(
  kind: "RoleBinding" | "ClusterRoleBinding",
  roleRef: { kind: string; name: string },
): ReturnType<typeof planned> {
  return planned(`kubernetes:rbac.authorization.k8s.io/v1:${kind}`, `spoke-east-${kind.toLowerCase()}`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind,
    metadata: { name: "conjur-authenticator" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef },
    subjects: [{ kind: "ServiceAccount", name: "conjur-follower", namespace: "conjur-system" }],
  });
}

describe("rbac-no-wildcards", () => {
  it("passes the authn-k8s ClusterRole with named verbs and resources", () => {
    const role = followerRole(
      [
        { apiGroups: [""], resources: ["pods", "serviceaccounts"], verbs: ["get", "list"] },
        { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] },
      ],
      "ClusterRole",
    );
    assert.deepEqual(rbacNoWildcards.check(role, devContext), []);
  });

  it("fails on '*' in verbs, resources or apiGroups, naming the rule index and list", () => {
    const role = followerRole([
      { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
      { apiGroups: ["*"], resources: ["*/scale"], verbs: ["*"] },
    ]);
    assert.deepEqual(rbacNoWildcards.check(role, devContext), [
      'rules[1].verbs contains ["*"]; name each one',
      'rules[1].resources contains ["*/scale"]; name each one',
      'rules[1].apiGroups contains ["*"]; name each one',
    ]);
  });
});

describe("rbac-no-cluster-admin", () => {
  it("passes a binding to a narrow ClusterRole", () => {
    assert.deepEqual(
      rbacNoClusterAdmin.check(
        binding("ClusterRoleBinding", { kind: "ClusterRole", name: "conjur-authenticator" }),
        devContext,
      ),
      [],
    );
  });

  it("fails on RoleBinding and ClusterRoleBinding to cluster-admin", () => {
    for (const kind of ["RoleBinding", "ClusterRoleBinding"] as const) {
      const messages = rbacNoClusterAdmin.check(
        binding(kind, { kind: "ClusterRole", name: "cluster-admin" }),
        devContext,
      );
      assert.equal(messages.length, 1, kind);
      assert.match(messages[0], /cluster-admin/);
    }
  });
});
