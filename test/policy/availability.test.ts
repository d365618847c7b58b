import { strict as assert } from "node:assert";
import { pdbForReplicatedWorkloads } from "../../policy/rules/availability";
import { labelSelectorMatches } from "../../policy/selectors";
import { devContext, followerDeployment, planned, SPOKE_PROVIDER } from "./fixtures";

function followerBudget(
  selector: Record<string, unknown>,
  namespace = "conjur-system",
): ReturnType<typeof planned> {
  return planned(
    "kubernetes:policy/v1:PodDisruptionBudget",
    "spoke-east-follower-pdb",
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "conjur-follower", namespace },
      spec: { maxUnavailable: 1, selector },
    },
    { cluster: "spoke-east", provider: SPOKE_PROVIDER },
  );
}

describe("pdb-for-replicated-workloads (advisory stack rule)", () => {
  it("is advisory", () => assert.equal(pdbForReplicatedWorkloads.level, "advisory"));

  it("passes a replicated follower with a matching PodDisruptionBudget", () => {
    const budget = followerBudget({ matchLabels: { "app.kubernetes.io/name": "conjur-follower" } });
    assert.deepEqual(pdbForReplicatedWorkloads.checkStack([followerDeployment(), budget], devContext), []);
  });

  it("warns when no budget selects the pods, or the budget is in another namespace", () => {
    const follower = followerDeployment();
    const violations = pdbForReplicatedWorkloads.checkStack([follower], devContext);
    assert.equal(violations.length, 1);
    assert.equal(violations[0].urn, follower.urn);
    assert.match(violations[0].message, /Deployment "conjur-follower" runs 2 replicas/);
    const elsewhere = followerBudget(
      { matchLabels: { "app.kubernetes.io/name": "conjur-follower" } },
      "default",
    );
    assert.equal(pdbForReplicatedWorkloads.checkStack([follower, elsewhere], devContext).length, 1);
    const otherApp = followerBudget({ matchLabels: { "app.kubernetes.io/name": "postgres" } });
    assert.equal(pdbForReplicatedWorkloads.checkStack([follower, otherApp], devContext).length, 1);
  });

  it("does not ask single-replica workloads for a budget", () => {
    const single = followerDeployment((workload) => (workload.spec.replicas = 1));
    assert.deepEqual(pdbForReplicatedWorkloads.checkStack([single], devContext), []);
  });

  it("follows Kubernetes selector semantics for matchExpressions", () => {
    const labels = { "app.kubernetes.io/name": "conjur-follower", tier: "auth" };
    assert.ok(
      labelSelectorMatches(
        { matchExpressions: [{ key: "tier", operator: "In", values: ["auth", "db"] }] },
        labels,
      ),
    );
    assert.ok(
      !labelSelectorMatches(
        { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["auth"] }] },
        labels,
      ),
    );
    assert.ok(
      labelSelectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels),
    );
    assert.ok(labelSelectorMatches({}, labels), "an empty policy/v1 selector matches every pod");
    assert.ok(!labelSelectorMatches(undefined, labels), "a missing selector matches nothing");
  });
});
