// Tenant stages: how a tenant's settings, its spoke's tenantDefaults and the built-ins resolve, and
// what each stage renders (pure builders, then through the mocks).
import { strict as assert } from "node:assert";
import { builtInStage, resolveTenantStage, type TenantStage } from "../stacks/tenancy";
import { tenantDefaultsSchema, tenantSchema } from "../stacks/schema";
import {
  enforcedStage,
  tenantNamespaceAnnotations,
  tenantNamespaceLabels,
  followerEgressRule,
  tenantNetworkPolicies,
} from "../components/tenancy/isolation";
import { ANNOTATION_NETWORK_ISOLATION } from "../components/naming";
import { NETWORK_ISOLATION_ANNOTATION } from "../policy/rules/network";
import { evalPolicy } from "./support/netpol";
import { evaluate, ofKind } from "./support/stacks";

type Json = any;

/** A tenant's stage from config as the user writes it (through the schema, as the spec does). */
const adopted = (over: Json = {}, defaults?: Json): TenantStage =>
  resolveTenantStage(
    tenantSchema.parse({ name: "t", existing: true, ...over }),
    defaults === undefined ? undefined : tenantDefaultsSchema.parse(defaults),
  );

/** An enterprise spoke with the appliance follower: its pods in conjur-system, on 443. */
const CONJUR_EGRESS = followerEgressRule(443);
describe("tenant stages", () => {
  describe("resolution", () => {
    it("never tightens an adopted namespace by default: enforce kept, audit/warn restricted, network observed, pinned version", () => {
      const stage = adopted();
      assert.deepEqual(stage.podSecurity, {
        enforce: "keep",
        audit: "restricted",
        warn: "restricted",
        version: "v1.33",
      });
      assert.equal(stage.network.mode, "observe");
      assert.equal(stage.onboarding.conjur, true);
    });

    it("starts a namespace the stack creates restricted and enforced", () => {
      assert.deepEqual(builtInStage(false).podSecurity.enforce, "restricted");
      assert.equal(adopted({ existing: false }).network.mode, "enforce");
    });

    it("takes the tenant's value over the spoke's tenantDefaults over the built-in, and adds up allow-lists", () => {
      const defaults = {
        podSecurity: { warn: "baseline", version: "v1.31" },
        network: {
          mode: "enforce",
          ingressFrom: [{ namespace: "ingress-nginx" }],
          egressTo: { dns: { nodeLocal: "169.254.20.10" } },
        },
        onboarding: { conjur: false },
      };
      const stage = adopted(
        {
          podSecurity: { warn: "restricted" },
          network: { ingressFrom: [{ namespace: "ml", ports: [8080] }], egressTo: { kubeApi: true } },
        },
        defaults,
      );
      assert.equal(stage.podSecurity.warn, "restricted", "tenant beats default");
      assert.equal(stage.podSecurity.version, "v1.31", "default beats built-in");
      assert.equal(stage.podSecurity.audit, "restricted", "built-in");
      assert.equal(stage.network.mode, "enforce");
      assert.equal(stage.onboarding.conjur, false);
      assert.deepEqual(
        stage.network.ingressFrom.map((p) => (p.kind === "namespace" ? p.namespace : p.cidr)),
        ["ingress-nginx", "ml"],
      );
      assert.deepEqual(stage.network.egressTo.kubeApi, ["0.0.0.0/0"]);
      assert.equal(stage.network.egressTo.nodeLocalDns, "169.254.20.10");
    });
  });

  describe("namespace labels and annotations", () => {
    it("sets only the modes that are not `keep`, each with its pinned version, plus the tenant marker", () => {
      assert.deepEqual(tenantNamespaceLabels({ name: "payments", stage: adopted() }), {
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "v1.33",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "v1.33",
        "hubspoke.io/tenant": "payments",
      });
      const privileged = adopted({ podSecurity: { enforce: "privileged", audit: "keep", warn: "baseline" } });
      assert.deepEqual(tenantNamespaceLabels({ name: "storefront", stage: privileged }), {
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/enforce-version": "v1.33",
        "pod-security.kubernetes.io/warn": "baseline",
        "pod-security.kubernetes.io/warn-version": "v1.33",
        "hubspoke.io/tenant": "storefront",
      });
    });

    it("states the network stage in the annotation the policy pack reads", () => {
      assert.equal(ANNOTATION_NETWORK_ISOLATION, NETWORK_ISOLATION_ANNOTATION);
      assert.deepEqual(tenantNamespaceAnnotations({ stage: adopted() }), {
        [ANNOTATION_NETWORK_ISOLATION]: "observe",
      });
    });
  });

  describe("NetworkPolicies per stage", () => {
    it("off and observe render no policy at all (any policy selecting a pod isolates it)", () => {
      assert.deepEqual(tenantNetworkPolicies(adopted({ network: { mode: "off" } }), CONJUR_EGRESS), []);
      assert.deepEqual(tenantNetworkPolicies(adopted(), CONJUR_EGRESS), []);
    });

    it("enforce renders the two allow policies, then the default deny, all prefixed", () => {
      const policies = tenantNetworkPolicies(enforcedStage(adopted()), CONJUR_EGRESS);
      assert.deepEqual(
        policies.map((p) => [p.role, p.name]),
        [
          ["ingress", "hubspoke-allow-ingress"],
          ["egress", "hubspoke-allow-egress"],
          ["default-deny", "hubspoke-default-deny"],
        ],
      );
      assert.deepEqual(policies[2].spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    });

    it("admits the stack's Prometheus and same-namespace pods, and lets pods reach DNS and (onboarded) the follower", () => {
      const policies = tenantNetworkPolicies(enforcedStage(adopted()), CONJUR_EGRESS);
      const pod = (namespace: string, labels: Record<string, string> = {}) => ({
        kind: "pod" as const,
        namespace,
        labels,
        ports: [],
      });
      const app = pod("payments", { app: "checkout" });
      const allowed = (from: Json, to: Json, port: number, protocol: "TCP" | "UDP" = "TCP") =>
        evalPolicy(policies, "payments", { from, to, port, protocol });
      assert.ok(allowed(pod("hubspoke-monitoring", { "app.kubernetes.io/name": "prometheus" }), app, 9102));
      assert.ok(!allowed(pod("hubspoke-monitoring", { "app.kubernetes.io/name": "grafana" }), app, 9102));
      assert.ok(allowed(pod("payments"), app, 8080), "same namespace");
      assert.ok(!allowed(pod("ingress-nginx"), app, 8080), "nothing else unless listed");
      assert.ok(allowed(app, pod("kube-system", { "k8s-app": "kube-dns" }), 53, "UDP"));
      assert.ok(allowed(app, pod("conjur-system", { "app.kubernetes.io/name": "conjur-follower" }), 443));
      const notOnboarded = tenantNetworkPolicies(
        enforcedStage(adopted({ onboarding: { conjur: false } })),
        CONJUR_EGRESS,
      );
      assert.ok(
        !evalPolicy(notOnboarded, "payments", {
          from: app,
          to: pod("conjur-system", { "app.kubernetes.io/name": "conjur-follower" }),
          port: 443,
          protocol: "TCP",
        }),
      );
    });

    it("renders each allow-list entry: callers, CIDRs with except and ports, namespaces, API, NodeLocal DNS, mesh", () => {
      const stage = adopted({
        network: {
          mode: "enforce",
          ingressFrom: [
            {
              namespace: "ingress-nginx",
              podSelector: { "app.kubernetes.io/name": "ingress-nginx" },
              ports: [8080],
            },
            { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] },
          ],
          egressTo: {
            cidrs: [
              "192.0.2.0/24",
              { cidr: "10.50.12.34/32", ports: [{ port: 5432 }, { port: 6000, endPort: 6010 }] },
            ],
            namespaces: [{ namespace: "catalog", ports: [8080] }],
            kubeApi: { cidrs: ["172.16.0.10/32"] },
            dns: { nodeLocal: "169.254.20.10" },
            meshControlPlane: { namespace: "istio-system" },
          },
        },
      });
      const [ingress, egress] = tenantNetworkPolicies(stage, CONJUR_EGRESS);
      assert.deepEqual(ingress.spec.ingress?.slice(2), [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 8080 }],
        },
        { from: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }] },
      ]);
      const rules = egress.spec.egress as Json[];
      const render = JSON.stringify(rules);
      for (const expected of [
        '{"to":[{"ipBlock":{"cidr":"169.254.20.10/32"}}],"ports":[{"protocol":"UDP","port":53},{"protocol":"TCP","port":53}]}',
        '{"to":[{"ipBlock":{"cidr":"172.16.0.10/32"}}],"ports":[{"protocol":"TCP","port":443},{"protocol":"TCP","port":6443}]}',
        '{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"istio-system"}}}],"ports":[{"protocol":"TCP","port":15012}]}',
        '{"to":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"catalog"}}}],"ports":[{"protocol":"TCP","port":8080}]}',
        '{"to":[{"ipBlock":{"cidr":"192.0.2.0/24"}}]}',
        '{"to":[{"ipBlock":{"cidr":"10.50.12.34/32"}}],"ports":[{"protocol":"TCP","port":5432},{"protocol":"TCP","port":6000,"endPort":6010}]}',
      ]) {
        assert.ok(render.includes(expected), `missing ${expected}`);
      }
    });
  });

  describe("through the mocks", () => {
    it("observe: only the namespace patch; enforce: policies ordered before the deny; Conjur off: no RoleBinding and no follower access", async () => {
      const e = await evaluate("staging", (c: Json) => {
        const payments = c["hubspoke:spokes"][0].tenants[0];
        payments.onboarding = { conjur: false };
        payments.applications = [];
        payments.externalSecrets = false;
      });
      const inPayments = (kind: string) =>
        ofKind(e, kind).filter(
          (r) =>
            (r.inputs as Json).metadata?.namespace === "payments" && r.provider?.includes("stg-payments"),
        );
      assert.deepEqual(inPayments("NetworkPolicy"), []);
      // No authenticator binding; Argo CD's (gitops registration, independent of Conjur) stays.
      assert.deepEqual(
        inPayments("RoleBinding").map((r) => (r.inputs as Json).metadata.name),
        ["hubspoke-argocd"],
      );
      const follower = ofKind(e, "NetworkPolicy").find(
        (r) => (r.inputs as Json).metadata.name === "conjur-follower" && r.provider?.includes("stg-payments"),
      );
      assert.deepEqual(
        (follower?.inputs as Json).spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values,
        ["fraud"],
      );
      const deny = ofKind(e, "NetworkPolicy").find(
        (r) =>
          (r.inputs as Json).metadata.name === "hubspoke-default-deny" &&
          (r.inputs as Json).metadata.namespace === "fraud",
      );
      assert.equal(
        deny?.options.dependsOn.length,
        3,
        "the deny waits for the namespace and both allow policies",
      );
    });
  });
});
