// ClusterAudit ships the audit policy to each cluster as a ConfigMap; the offline plan writes the same
// document to audit/<cluster>-audit-policy.yaml for self-managed control planes (not for EKS).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import {
  AUDIT_POLICY_CONFIGMAP,
  AUDIT_POLICY_FILE,
  buildAuditPolicy,
  renderAuditPolicy,
  validateAuditPolicy,
} from "../../components/audit/policy";
import type { Evaluation, RecordedResource } from "../../tools/mock-engine";
import { clusterOf, providerClusters } from "../../tools/plan-output";
import {
  capturePlan,
  CapturedPlan,
  plannedStack,
  planFiles,
  readManifests,
  testProgram,
} from "../support/plans";
import { UnknownFieldChecker, validateWithModel } from "../support/kubernetes-schema";

/**
 * The stack's own plan once index.ts wires ClusterAudit; until then the stack plus a ClusterAudit per
 * cluster (test/support/programs/with-cluster-audit.ts), so the same assertions hold before and after.
 */
async function planWithClusterAudit(stack: string): Promise<CapturedPlan> {
  const plan = await plannedStack(stack);
  const wired = (plan.result.evaluation?.resources ?? []).some(
    (r) => r.type === "hubspoke:audit:ClusterAudit",
  );
  return wired ? plan : capturePlan({ stack, program: testProgram("with-cluster-audit") });
}

describe("ClusterAudit and the plan's audit policy files", () => {
  let dev: CapturedPlan;
  let prod: CapturedPlan;
  before(async () => {
    dev = await planWithClusterAudit("dev");
    prod = await planWithClusterAudit("prod");
  });

  it("registers one hubspoke:audit:ClusterAudit per cluster with a ConfigMap on that cluster's provider", () => {
    const evaluation: Evaluation | undefined = dev.result.evaluation;
    assert.ok(evaluation);
    const components = evaluation.resources
      .filter((r) => r.type === "hubspoke:audit:ClusterAudit")
      .map((r) => r.name);
    assert.deepEqual(components.sort(), ["audit-dev-apps", "audit-dev-hub"]);
    const providers = providerClusters(evaluation.resources);
    for (const cluster of ["dev-hub", "dev-apps"]) {
      const configMap: RecordedResource | undefined = evaluation.resources.find(
        (r) => r.name === `audit-${cluster}-policy`,
      );
      assert.ok(configMap, cluster);
      assert.equal(
        configMap.urn,
        `urn:pulumi:dev::hubspoke::hubspoke:audit:ClusterAudit$kubernetes:core/v1:ConfigMap::audit-${cluster}-policy`,
      );
      assert.equal(clusterOf(configMap, providers), cluster);
      assert.deepEqual(
        (configMap.inputs["metadata"] as Record<string, unknown>)["name"],
        AUDIT_POLICY_CONFIGMAP,
      );
      assert.equal((configMap.inputs["metadata"] as Record<string, unknown>)["namespace"], "conjur-system");
    }
  });

  it("writes audit/<cluster>-audit-policy.yaml for each self-managed cluster, byte for byte the ConfigMap's policy", () => {
    assert.deepEqual(
      planFiles(dev.outDir).filter((f) => f.startsWith("audit/")),
      ["audit/dev-apps-audit-policy.yaml", "audit/dev-hub-audit-policy.yaml"],
    );
    const expected = renderAuditPolicy(buildAuditPolicy());
    for (const cluster of ["dev-hub", "dev-apps"]) {
      const text = fs.readFileSync(path.join(dev.outDir, "audit", `${cluster}-audit-policy.yaml`), "utf8");
      assert.equal(text, expected);
      const configMap = readManifests(dev.outDir).find(
        (d) =>
          d.cluster === cluster && (d.object["metadata"] as { name: string }).name === AUDIT_POLICY_CONFIGMAP,
      );
      assert.equal((configMap?.object["data"] as Record<string, string>)[AUDIT_POLICY_FILE], text);
    }
    assert.match(
      fs.readFileSync(path.join(dev.outDir, "summary.txt"), "utf8"),
      /\naudit policy files: audit\/dev-apps-audit-policy\.yaml, audit\/dev-hub-audit-policy\.yaml\n/,
    );
  });

  it("validates each written policy against the audit.k8s.io/v1 schema and its ordering rules", () => {
    for (const file of planFiles(dev.outDir).filter((f) => f.startsWith("audit/"))) {
      const policy: unknown = YAML.parse(fs.readFileSync(path.join(dev.outDir, file), "utf8"));
      assert.deepEqual(validateAuditPolicy(policy), [], file);
    }
  });

  it("writes no file for managed control planes (EKS) and says so in the summary", () => {
    assert.deepEqual(
      planFiles(prod.outDir).filter((f) => f.startsWith("audit/")),
      [],
    );
    assert.match(
      fs.readFileSync(path.join(prod.outDir, "summary.txt"), "utf8"),
      /\naudit on managed control planes \(enable the provider's audit logging instead\): prod-mgmt, prod-payments-euw1, prod-web-euw1\n/,
    );
  });

  it("passes every policy rule and the Kubernetes schema", () => {
    assert.equal(dev.result.exitCode, 0, dev.log.join("\n"));
    const aboutAudit = (dev.result.violations ?? []).filter((v) => v.urn.includes("ClusterAudit"));
    assert.deepEqual(aboutAudit, []);
    const configMaps = readManifests(dev.outDir)
      .map((d) => d.object)
      .filter((o) => (o["metadata"] as { name: string }).name === AUDIT_POLICY_CONFIGMAP);
    assert.equal(configMaps.length, 2);
    const checker = new UnknownFieldChecker([{ apiVersion: "v1", kind: "ConfigMap" }]);
    for (const object of configMaps)
      assert.deepEqual([...validateWithModel(object), ...checker.check(object)], []);
  });
});
