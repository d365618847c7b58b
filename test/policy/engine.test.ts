import { strict as assert } from "node:assert";
import {
  environmentFromStackName,
  evaluate,
  plannedResourceFromPlanEntry,
  rules,
  stackContextFor,
  stackNameFromUrn,
  stackRules,
} from "../../policy/engine";
import {
  configMap,
  defaultDenyPolicy,
  devContext,
  followerDeployment,
  followerPod,
  fluentBitDaemonSet,
  namespace,
  planned,
  prodContext,
} from "./fixtures";

describe("policy engine", () => {
  it("has the public rule names, kebab-case and unique, with their levels", () => {
    const levels = Object.fromEntries([...rules, ...stackRules].map((rule) => [rule.name, rule.level]));
    assert.deepEqual(levels, {
      "pod-security-restricted": "mandatory",
      "resources-requests-and-limits": "mandatory",
      "image-tag-pinned": "mandatory",
      "probes-liveness-and-readiness": "mandatory",
      "no-secret-looking-values": "mandatory",
      "no-secret-outside-secret-objects": "mandatory",
      "rbac-no-wildcards": "mandatory",
      "rbac-no-cluster-admin": "mandatory",
      "no-nodeport-services": "mandatory",
      "explicit-provider": "mandatory",
      "read-only-root-filesystem": "advisory",
      "automount-token-only-when-needed": "advisory",
      "backup-bucket-protected": "mandatory",
      "namespace-default-deny": "mandatory",
      "namespace-default-deny-staged": "advisory",
      "irreplaceable-protected": "mandatory",
      "pdb-for-replicated-workloads": "advisory",
    });
    for (const name of Object.keys(levels)) assert.match(name, /^[a-z]+(?:-[a-z0-9]+)*$/);
  });

  it("reports nothing for a compliant namespace with its workload, budget and default deny", () => {
    const budget = planned("kubernetes:policy/v1:PodDisruptionBudget", "spoke-east-follower-pdb", {
      metadata: { name: "conjur-follower", namespace: "conjur-system" },
      spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "conjur-follower" } } },
    });
    const spokeScoped = { cluster: "spoke-east", provider: followerDeployment().provider };
    const resources = [
      { ...namespace("conjur-system"), ...spokeScoped },
      { ...defaultDenyPolicy("conjur-system"), ...spokeScoped },
      { ...budget, ...spokeScoped },
      followerDeployment(),
      configMap("conjur-ca", { "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" }),
    ];
    assert.deepEqual(evaluate(resources, prodContext), []);
  });

  it("reports each violation with rule name, level and the resource's URN", () => {
    const broken = followerPod((_pod, follower) => (follower.image = "cyberark/conjur-appliance:latest"));
    const unprotectedCa = planned(
      "tls:index/selfSignedCert:SelfSignedCert",
      "hub-ca",
      {},
      { provider: null, cluster: null },
    );
    const violations = evaluate([broken, namespace("logging"), unprotectedCa], prodContext);
    const summary = violations.map((v) => `${v.rule}|${v.level}|${v.urn}`);
    assert.ok(summary.includes(`image-tag-pinned|mandatory|${broken.urn}`));
    assert.ok(summary.includes(`pdb-for-replicated-workloads|advisory|${broken.urn}`));
    assert.ok(summary.includes(`namespace-default-deny|mandatory|${namespace("logging").urn}`));
    assert.ok(summary.includes(`irreplaceable-protected|mandatory|${unprotectedCa.urn}`));
    assert.equal(evaluate([unprotectedCa], devContext).length, 0);
  });

  it("applies exemptions exactly as the policy pack does", () => {
    const violations = evaluate(
      [fluentBitDaemonSet("hubspoke-logging"), fluentBitDaemonSet("monitoring")],
      devContext,
    );
    const podSecurity = violations.filter((v) => v.rule === "pod-security-restricted");
    assert.ok(podSecurity.length > 0);
    assert.ok(podSecurity.every((v) => v.urn === fluentBitDaemonSet("monitoring").urn));
  });

  it("reads the environment from a stack name or URN and protects irreplaceables in prod only", () => {
    assert.equal(environmentFromStackName("prod"), "prod");
    assert.equal(environmentFromStackName("acme/hubspoke/staging"), "staging");
    assert.equal(environmentFromStackName("feature-x"), undefined);
    assert.equal(stackNameFromUrn("urn:pulumi:prod::hubspoke::kubernetes:core/v1:Namespace::hub-ns"), "prod");
    assert.deepEqual(stackContextFor("prod"), { environment: "prod", protectIrreplaceable: true });
    assert.deepEqual(stackContextFor("dev"), { environment: "dev", protectIrreplaceable: false });
    assert.deepEqual(stackContextFor("prod", { protectIrreplaceable: false }).protectIrreplaceable, false);
  });

  it("turns an offline plan entry into a planned resource", () => {
    const resource = plannedResourceFromPlanEntry({
      urn: "urn:pulumi:dev::hubspoke::kubernetes:core/v1:ConfigMap::hub-conjur-ca",
      type: "kubernetes:core/v1:ConfigMap",
      name: "hub-conjur-ca",
      cluster: "hub",
      inputs: { metadata: { name: "conjur-ca" }, data: { "data-key": "[secret]" } },
    });
    assert.equal(resource.provider, null);
    assert.deepEqual(resource.opts, { protect: undefined, retainOnDelete: undefined });
    const rulesHit = evaluate([resource], devContext).map((v) => v.rule);
    assert.deepEqual(rulesHit, ["no-secret-outside-secret-objects", "explicit-provider"]);
  });
});
