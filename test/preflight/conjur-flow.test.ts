// The Conjur flow the conversion adds, per edition: where onboarded applications go (the follower's
// pods, or the hub), and that the tenant's enforce-stage egress and the follower's ingress policies,
// exactly as the stack renders them, admit it (and nothing but it on that port).
import { strict as assert } from "node:assert";
import { buildStackSpec, type StackSpec } from "../../stacks/spec";
import { conjurEgressRule, enforcedStage, tenantNetworkPolicies } from "../../components/tenancy/isolation";
import { conjurFlowTarget, plannedWorkloadViews } from "../../tools/preflight/flows";
import { evaluateConnection, type NetworkPolicyObject } from "../../tools/preflight/netpol";
import { asOpenSource, evaluate, objectNamed, stackConfig } from "../support/stacks";

type Json = any;

function specOf(stack: string, edit?: (c: Record<string, unknown>) => void): StackSpec {
  const raw = stackConfig(stack);
  edit?.(raw);
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (k.startsWith("hubspoke:")) config[k.slice(9)] = v;
  const result = buildStackSpec(config);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

const labelsOf = (ns: string) => ({ "kubernetes.io/metadata.name": ns });

describe("the Conjur flow of onboarded applications, per edition", () => {
  it("Open Source: to the hub's Conjur on 443, outside the cluster", () => {
    const target = conjurFlowTarget(specOf("dev"), []);
    assert.equal(target.port, 443);
    assert.equal(target.end.endpoint.kind, "address");
    assert.match(target.end.label, /conjur\.dev\.acme\.internal/);
  });

  it("Enterprise, Kubernetes Follower: to the operator's pods in conjur-system on 9443, admitted both ways", async () => {
    const spec = specOf("staging");
    const target = conjurFlowTarget(spec, []);
    assert.equal(target.port, 9443);
    assert.deepEqual(target.end.endpoint, {
      kind: "pod",
      namespace: "conjur-system",
      labels: {},
      ports: [{ name: "https", containerPort: 9443, protocol: "TCP" }],
    });
    // The policies as rendered: the tenant's at enforce, and the follower's from the stack.
    const storefront = spec.spokes[1].tenants.find((t) => t.name === "storefront");
    assert.ok(storefront);
    const tenantPolicies: NetworkPolicyObject[] = tenantNetworkPolicies(
      enforcedStage(storefront.stage),
      conjurEgressRule(spec),
    ).map((p) => ({ namespace: "storefront", name: p.name, spec: p.spec as Json }));
    const e = await evaluate("staging");
    const follower = objectNamed(e, "NetworkPolicy", "conjur-follower", "k8s-stg-web");
    const followerPolicies: NetworkPolicyObject[] = [
      { namespace: "conjur-system", name: "conjur-follower", spec: (follower.inputs as Json).spec },
      {
        namespace: "conjur-system",
        name: "default-deny",
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      },
    ];
    const app = { kind: "pod" as const, namespace: "storefront", labels: { app: "frontend" }, ports: [] };
    const verdict = (port: number) =>
      evaluateConnection(
        { from: app, to: target.end.endpoint, port, protocol: "TCP" },
        [...tenantPolicies, ...followerPolicies],
        labelsOf,
      );
    assert.equal(verdict(9443).allowed, true, JSON.stringify(verdict(9443)));
    assert.equal(verdict(5432).allowed, false, "nothing else on the follower");
  });

  it("Enterprise, appliance follower: to the planned Deployment's pods on 443", () => {
    const spec = specOf("staging", (c) => {
      (c["hubspoke:conjur"] as Json).follower = { kind: "appliance" };
      c["hubspoke:images"] = { appliance: "registry.acme.internal/cyberark/conjur-appliance:13.5.0" };
    });
    const views = plannedWorkloadViews([
      {
        kind: "Deployment",
        namespace: "conjur-system",
        name: "conjur-follower",
        props: {
          spec: {
            template: {
              metadata: { labels: { "app.kubernetes.io/name": "conjur-follower" } },
              spec: {
                containers: [{ name: "conjur-appliance", ports: [{ name: "https", containerPort: 443 }] }],
              },
            },
          },
        },
      },
    ]);
    const target = conjurFlowTarget(spec, views);
    assert.equal(target.port, 443);
    assert.equal(target.end.label, views[0].end.label);
  });

  it("an Open Source twin of staging goes to the hub", () => {
    assert.equal(conjurFlowTarget(specOf("staging", asOpenSource), []).end.endpoint.kind, "address");
  });
});
