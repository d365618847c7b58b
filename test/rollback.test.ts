// Rollback restores: the plan's recorded resources for an adopted tenant, applied to an exact model of
// server-side-apply ownership (test/support/ssa-model.ts) and then destroyed, leave the namespace and
// everything in it exactly as before. Negative controls: a forced patch and a retained patch do not.
import { strict as assert } from "node:assert";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { ApplyConflict, destroy, ModelCluster, up, type Replay } from "./support/ssa-model";
import { evaluate } from "./support/stacks";

type Json = any;

/** The adopted payments tenant, enforced, with a quota and limits: every kind of object the stack adds. */
const enforcedPayments = (c: Json) => {
  const payments = c["hubspoke:spokes"][0].tenants[0];
  payments.network = { ...(payments.network ?? {}), mode: "enforce" };
  payments.limits = { defaultCpu: "2", defaultMemory: "4Gi" };
};

function tenantReplay(e: Evaluation, tenantComponent: string, providerName: string): Replay {
  const resources = e.resources.filter(
    (r: RecordedResource) => r.custom && r.parent?.endsWith(`::${tenantComponent}`) && !r.options.read,
  );
  assert.ok(resources.length >= 5, `${tenantComponent}: the tenant's resources are recorded`);
  const provider = e.resources.find((r) => r.name === providerName);
  assert.ok(provider, providerName);
  return { resources, provider: provider.inputs };
}

/** payments as appendix A of the conversion review models it, plus a label it shares with the stack. */
function clusterBeforeConversion(
  extraLabels: Record<string, { value: string; manager?: string }> = {},
): ModelCluster {
  const cluster = new ModelCluster();
  cluster.seed("Namespace", undefined, "payments", {
    labels: {
      "kubernetes.io/metadata.name": { value: "payments", manager: "kube-apiserver" },
      team: { value: "payments", manager: "kubectl-create" },
      "istio-injection": { value: "enabled", manager: "kubectl-label" },
      "cost-center": { value: "cc-4711", manager: "kubectl-label" },
      // Already what the stack sets: shared while converted, and still there after the rollback.
      "pod-security.kubernetes.io/warn": { value: "restricted", manager: "kubectl-label" },
      ...extraLabels,
    },
    annotations: { "acme.com/owner": { value: "payments-team@acme.com", manager: "kubectl-annotate" } },
  });
  cluster.seed(
    "NetworkPolicy",
    "payments",
    "default-deny",
    {},
    { spec: { podSelector: {}, policyTypes: ["Ingress"] } },
  );
  cluster.seed("ResourceQuota", "payments", "compute", {}, { spec: { hard: { "requests.cpu": "40" } } });
  cluster.seed(
    "LimitRange",
    "payments",
    "defaults",
    {},
    { spec: { limits: [{ type: "Container", defaultRequest: { cpu: "250m" } }] } },
  );
  cluster.seed(
    "RoleBinding",
    "payments",
    "payments-devs",
    {},
    { roleRef: { kind: "ClusterRole", name: "edit" } },
  );
  return cluster;
}

function withPatch(replay: Replay, change: (r: RecordedResource) => RecordedResource): Replay {
  return {
    ...replay,
    resources: replay.resources.map((r) => (r.type.endsWith("NamespacePatch") ? change(r) : r)),
  };
}

describe("rollback restores an adopted tenant exactly (server-side-apply model)", () => {
  let patched: Replay;
  let imported: Replay;
  before(async () => {
    const staging = await evaluate("staging", enforcedPayments);
    patched = tenantReplay(staging, "spoke-payments-tenant-payments", "k8s-stg-payments");
    const prod = await evaluate("prod", (c: Json) => {
      enforcedPayments(c);
      delete c["hubspoke:spokes"][0].tenants[0].limits;
    });
    imported = tenantReplay(prod, "spoke-payments-euw1-tenant-payments", "k8s-prod-payments-euw1");
  });

  it("records what the test replays: a patch without force or retention, and every object the stack adds", () => {
    const patch = patched.resources.find((r) => r.type.endsWith("NamespacePatch")) as RecordedResource;
    assert.ok(!patch.options.retainOnDelete);
    assert.equal((patch.inputs as Json).metadata.annotations["pulumi.com/patchForce"], undefined);
    // Provider arguments reach the engine as strings.
    assert.equal(String(patched.provider["enablePatchForce"]), "false");
    assert.equal(String(patched.provider["upsertExistingObjects"]), "false");
    assert.equal(String(patched.provider["enableServerSideApply"]), "true");
    const names = patched.resources.map((r) => (r.inputs as Json).metadata.name).sort();
    assert.deepEqual(names, [
      "hubspoke-allow-egress",
      "hubspoke-allow-ingress",
      "hubspoke-conjur-authenticator",
      "hubspoke-conjur-connect",
      "hubspoke-default-deny",
      "hubspoke-limits",
      "hubspoke-quota",
      "payments",
    ]);
  });

  for (const [path, replay] of [
    ["adopt: patch (staging)", () => patched],
    ["adopt: import (prod)", () => imported],
  ] as const) {
    it(`${path}: up adds the stage, destroy leaves the namespace and its objects exactly as before`, () => {
      const cluster = clusterBeforeConversion();
      const before = cluster.contents("payments");
      up(cluster, replay());
      const converted = cluster.namespace("payments");
      assert.equal(converted.labels["pod-security.kubernetes.io/audit"], "restricted");
      assert.equal(converted.labels["pod-security.kubernetes.io/audit-version"], "v1.33");
      assert.equal(
        converted.labels["pod-security.kubernetes.io/enforce"],
        undefined,
        "enforce is kept as it was",
      );
      assert.equal(converted.annotations["hubspoke.io/network-isolation"], "enforce");
      assert.ok(cluster.has("NetworkPolicy", "payments", "hubspoke-default-deny"));
      assert.ok(
        cluster.has("NetworkPolicy", "payments", "default-deny"),
        "the tenant's own policy is untouched",
      );

      destroy(cluster, replay());
      assert.deepEqual(cluster.contents("payments"), before);
    });
  }

  it("a label another manager set to another value is a conflict: up stops at the namespace and writes nothing", () => {
    const cluster = clusterBeforeConversion({
      "pod-security.kubernetes.io/audit": { value: "baseline", manager: "argocd-controller" },
    });
    const before = cluster.contents("payments");
    assert.throws(() => up(cluster, patched), ApplyConflict);
    assert.deepEqual(cluster.contents("payments"), before);
  });

  describe("negative controls: the same check fails", () => {
    it("with a forced patch, the overwritten value is lost on destroy", () => {
      const cluster = clusterBeforeConversion({
        "pod-security.kubernetes.io/audit": { value: "baseline", manager: "argocd-controller" },
      });
      const before = cluster.contents("payments");
      const forced = withPatch(patched, (r) => ({
        ...r,
        inputs: {
          ...r.inputs,
          metadata: {
            ...(r.inputs as Json).metadata,
            annotations: { ...(r.inputs as Json).metadata.annotations, "pulumi.com/patchForce": "true" },
          },
        },
      }));
      up(cluster, forced);
      destroy(cluster, forced);
      assert.notDeepEqual(cluster.contents("payments"), before);
      assert.equal(cluster.namespace("payments").labels["pod-security.kubernetes.io/audit"], undefined);
    });

    it("with a provider that forces every patch, the same", () => {
      const cluster = clusterBeforeConversion({
        "pod-security.kubernetes.io/audit": { value: "baseline", manager: "argocd-controller" },
      });
      const before = cluster.contents("payments");
      const forcing = { ...patched, provider: { ...patched.provider, enablePatchForce: true } };
      up(cluster, forcing);
      destroy(cluster, forcing);
      assert.notDeepEqual(cluster.contents("payments"), before);
    });

    it("with a retained patch, the stack's labels stay after destroy", () => {
      const cluster = clusterBeforeConversion();
      const before = cluster.contents("payments");
      const retained = withPatch(patched, (r) => ({ ...r, options: { ...r.options, retainOnDelete: true } }));
      up(cluster, retained);
      destroy(cluster, retained);
      assert.notDeepEqual(cluster.contents("payments"), before);
      assert.equal(cluster.namespace("payments").labels["pod-security.kubernetes.io/audit"], "restricted");
    });
  });
});
