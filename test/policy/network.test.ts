import { strict as assert } from "node:assert";
import {
  defaultDenyDirections,
  namespaceDefaultDeny,
  namespaceDefaultDenyStaged,
  networkStageOf,
  noNodePortServices,
} from "../../policy/rules/network";
import { defaultDenyPolicy, devContext, namespace, planned, SPOKE_PROVIDER } from "./fixtures";

function followerService(spec: Record<string, unknown>): ReturnType<typeof planned> {
  return planned("kubernetes:core/v1:Service", "hub-conjur-primary", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "conjur-primary", namespace: "conjur-system" },
    spec,
  });
}

describe("no-nodeport-services", () => {
  it("passes ClusterIP and a LoadBalancer without pinned nodePorts", () => {
    assert.deepEqual(
      noNodePortServices.check(followerService({ type: "ClusterIP", ports: [{ port: 443 }] }), devContext),
      [],
    );
    assert.deepEqual(
      noNodePortServices.check(
        followerService({ type: "LoadBalancer", ports: [{ port: 443, targetPort: 8443 }] }),
        devContext,
      ),
      [],
    );
  });

  it("fails on type NodePort", () => {
    assert.equal(
      noNodePortServices.check(followerService({ type: "NodePort", ports: [{ port: 443 }] }), devContext)
        .length,
      1,
    );
  });

  it("fails on a LoadBalancer that pins a nodePort", () => {
    const service = followerService({ type: "LoadBalancer", ports: [{ port: 443, nodePort: 30443 }] });
    assert.deepEqual(noNodePortServices.check(service, devContext), [
      "spec.ports[0].nodePort is set (30443); let the LoadBalancer manage node ports",
    ]);
  });
});

describe("namespace-default-deny (stack rule)", () => {
  it("passes when each namespace has a default-deny policy for ingress and egress on its cluster", () => {
    const resources = [namespace("conjur-system"), defaultDenyPolicy("conjur-system")];
    assert.deepEqual(namespaceDefaultDeny.checkStack(resources, devContext), []);
  });

  it("accepts separate ingress and egress default-deny policies", () => {
    const resources = [
      namespace("monitoring"),
      defaultDenyPolicy("monitoring", { podSelector: {} }),
      defaultDenyPolicy("monitoring", { podSelector: {}, policyTypes: ["Egress"] }),
    ];
    assert.deepEqual(namespaceDefaultDeny.checkStack(resources, devContext), []);
  });

  it("fails when a namespace has no NetworkPolicy at all, reporting the namespace's URN", () => {
    const ns = namespace("logging");
    const violations = namespaceDefaultDeny.checkStack([ns], devContext);
    assert.equal(violations.length, 1);
    assert.equal(violations[0].urn, ns.urn);
    assert.equal(violations[0].rule, "namespace-default-deny");
    assert.match(violations[0].message, /"logging" has no default-deny NetworkPolicy for Ingress and Egress/);
  });

  it("treats an adopted NamespacePatch like a Namespace", () => {
    const patch = planned("kubernetes:core/v1:NamespacePatch", "spoke-east-tenant-payments", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "payments", labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
    });
    assert.equal(namespaceDefaultDeny.checkStack([patch], devContext).length, 1);
    assert.deepEqual(namespaceDefaultDeny.checkStack([patch, defaultDenyPolicy("payments")], devContext), []);
  });

  it("fails when the policy allows traffic, selects only some pods, or omits Egress", () => {
    const allowsIngress = defaultDenyPolicy("conjur-system", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ namespaceSelector: {} }] }],
    });
    assert.deepEqual(defaultDenyDirections(allowsIngress), ["Egress"]);
    const someAppOnly = defaultDenyPolicy("conjur-system", {
      podSelector: { matchLabels: { app: "conjur" } },
      policyTypes: ["Ingress", "Egress"],
    });
    assert.deepEqual(defaultDenyDirections(someAppOnly), []);
    const ingressOnly = defaultDenyPolicy("conjur-system", { podSelector: {}, policyTypes: ["Ingress"] });
    const violations = namespaceDefaultDeny.checkStack([namespace("conjur-system"), ingressOnly], devContext);
    assert.equal(violations.length, 1);
    assert.match(violations[0].message, /for Egress/);
  });

  it("does not accept a policy for the same namespace name on another cluster", () => {
    const onSpoke = defaultDenyPolicy("conjur-system", undefined, {
      cluster: "spoke-east",
      provider: SPOKE_PROVIDER,
    });
    assert.equal(
      namespaceDefaultDeny.checkStack([namespace("conjur-system"), onSpoke], devContext).length,
      1,
    );
  });
});

describe("namespace-default-deny follows the tenant's network stage (read from the rendered namespace)", () => {
  const tenantPatch = (stage: string | undefined, name = "spoke-east-tenant-payments-namespace-labels") =>
    planned("kubernetes:core/v1:NamespacePatch", name, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "payments",
        ...(stage ? { annotations: { "hubspoke.io/network-isolation": stage } } : {}),
      },
    });

  it("observe and off: not mandatory, reported by the advisory staged rule instead", () => {
    for (const stage of ["observe", "off"]) {
      assert.deepEqual(namespaceDefaultDeny.checkStack([tenantPatch(stage)], devContext), []);
      const staged = namespaceDefaultDenyStaged.checkStack([tenantPatch(stage)], devContext);
      assert.equal(staged.length, 1);
      assert.equal(staged[0].level, "advisory");
      assert.match(staged[0].message, new RegExp(`network stage "${stage}"`));
    }
  });

  it("enforce, an unknown value or no annotation at all: mandatory (fails closed)", () => {
    for (const stage of ["enforce", "bogus", undefined]) {
      assert.equal(
        namespaceDefaultDeny.checkStack([tenantPatch(stage)], devContext).length,
        1,
        String(stage),
      );
      assert.deepEqual(namespaceDefaultDenyStaged.checkStack([tenantPatch(stage)], devContext), []);
    }
    assert.deepEqual(
      namespaceDefaultDeny.checkStack([tenantPatch("enforce"), defaultDenyPolicy("payments")], devContext),
      [],
    );
  });

  it("an imported namespace and its patch are one namespace: the patch's stage decides", () => {
    const imported = planned("kubernetes:core/v1:Namespace", "spoke-east-tenant-payments-namespace", {
      metadata: { name: "payments" },
    });
    assert.deepEqual(networkStageOf([imported, tenantPatch("observe")]), "observe");
    assert.deepEqual(namespaceDefaultDeny.checkStack([imported, tenantPatch("observe")], devContext), []);
    assert.equal(
      namespaceDefaultDenyStaged.checkStack([imported, tenantPatch("observe")], devContext).length,
      1,
    );
  });
});
