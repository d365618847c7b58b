// The preflight's NetworkPolicy evaluator against the semantics the Kubernetes documentation states:
// isolation per direction, policyTypes defaulting, union of allows, both ends, AND within a peer, OR
// across peers, ipBlock with except, named ports, endPort, protocols, selector operators.
import { strict as assert } from "node:assert";
import {
  evaluateConnection,
  policyTypesOf,
  selectorMatches,
  type Connection,
  type NetworkPolicyObject,
  type PodEndpoint,
} from "../../tools/preflight/netpol";

const nsLabels = (ns: string) => ({
  "kubernetes.io/metadata.name": ns,
  ...(ns === "monitoring" ? { team: "sre" } : {}),
});
const pod = (
  namespace: string,
  labels: Record<string, string> = {},
  ports: PodEndpoint["ports"] = [],
): PodEndpoint => ({
  kind: "pod",
  namespace,
  labels,
  ports,
});
const policy = (namespace: string, name: string, spec: Record<string, unknown>): NetworkPolicyObject => ({
  namespace,
  name,
  spec,
});
const web = pod("shop", { app: "web" }, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
const client = pod("other", { app: "client" });
const tcp = (from: Connection["from"], to: Connection["to"], port: number): Connection => ({
  from,
  to,
  port,
  protocol: "TCP",
});
const allowed = (c: Connection, policies: NetworkPolicyObject[]) =>
  evaluateConnection(c, policies, nsLabels).allowed;

describe("preflight: NetworkPolicy semantics", () => {
  it("allows everything to and from a pod no policy selects", () => {
    assert.ok(allowed(tcp(client, web, 8080), []));
    assert.ok(
      allowed(tcp(client, web, 8080), [
        policy("shop", "other-pods", { podSelector: { matchLabels: { app: "db" } } }),
      ]),
    );
  });

  it("defaults policyTypes: Ingress always, Egress only with egress rules", () => {
    assert.deepEqual(policyTypesOf({ podSelector: {} }), ["Ingress"]);
    assert.deepEqual(policyTypesOf({ podSelector: {}, egress: [{}] }), ["Ingress", "Egress"]);
    assert.deepEqual(policyTypesOf({ podSelector: {}, policyTypes: ["Egress"] }), ["Egress"]);
    // An ingress-only policy leaves egress open; an egress rule makes ingress isolated too.
    const ingressOnly = policy("shop", "deny-in", { podSelector: {} });
    assert.ok(allowed(tcp(web, client, 443), [ingressOnly]));
    assert.ok(!allowed(tcp(client, web, 8080), [ingressOnly]));
    const withEgressRule = policy("shop", "dns-only", {
      podSelector: {},
      egress: [{ ports: [{ port: 53, protocol: "UDP" }] }],
    });
    assert.ok(!allowed(tcp(client, web, 8080), [withEgressRule]), "ingress isolated by the implied type");
  });

  it("an 'allow' policy with policyTypes [Egress] isolates egress by itself", () => {
    const allowDns = policy("shop", "allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }] },
      ],
    });
    assert.ok(!allowed(tcp(web, client, 443), [allowDns]));
  });

  it("unions the rules of every selecting policy", () => {
    const a = policy("shop", "a", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] });
    const b = policy("shop", "b", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ ports: [{ port: 8080 }] }],
    });
    assert.ok(allowed(tcp(client, web, 8080), [a, b]));
    assert.ok(!allowed(tcp(client, web, 9090), [a, b]));
  });

  it("needs both ends: egress at the source and ingress at the destination", () => {
    const denyEgress = policy("other", "deny-out", { podSelector: {}, policyTypes: ["Egress"] });
    const verdict = evaluateConnection(tcp(client, web, 8080), [denyEgress], nsLabels);
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.ingress.allowed, true);
    assert.deepEqual(verdict.egress.isolatedBy, ["other/deny-out"]);
  });

  it("ANDs namespaceSelector and podSelector in one peer, ORs separate peers", () => {
    const and = policy("shop", "and", {
      podSelector: {},
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: "sre" } },
              podSelector: { matchLabels: { app: "prometheus" } },
            },
          ],
        },
      ],
    });
    assert.ok(allowed(tcp(pod("monitoring", { app: "prometheus" }), web, 8080), [and]));
    assert.ok(!allowed(tcp(pod("monitoring", { app: "grafana" }), web, 8080), [and]));
    assert.ok(!allowed(tcp(pod("other", { app: "prometheus" }), web, 8080), [and]));
    const or = policy("shop", "or", {
      podSelector: {},
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { team: "sre" } } },
            { podSelector: { matchLabels: { app: "prometheus" } } },
          ],
        },
      ],
    });
    assert.ok(allowed(tcp(pod("monitoring", { app: "grafana" }), web, 8080), [or]));
    assert.ok(
      !allowed(tcp(pod("other", { app: "prometheus" }), web, 8080), [or]),
      "a bare podSelector means the policy's namespace",
    );
    assert.ok(allowed(tcp(pod("shop", { app: "prometheus" }), web, 8080), [or]));
  });

  it("matches ipBlock (with except) on addresses only, never on pods; an unknown address only in an unrestricted block", () => {
    const egress = (to: Record<string, unknown>[]) =>
      policy("shop", "out", { podSelector: {}, policyTypes: ["Egress"], egress: [{ to }] });
    const block = egress([{ ipBlock: { cidr: "10.50.0.0/16", except: ["10.50.99.0/24"] } }]);
    assert.ok(allowed(tcp(web, { kind: "address", ip: "10.50.12.34" }, 5432), [block]));
    assert.ok(!allowed(tcp(web, { kind: "address", ip: "10.50.99.7" }, 5432), [block]));
    assert.ok(!allowed(tcp(web, pod("db"), 5432), [egress([{ ipBlock: { cidr: "0.0.0.0/0" } }])]));
    assert.ok(allowed(tcp(web, { kind: "address" }, 443), [egress([{ ipBlock: { cidr: "0.0.0.0/0" } }])]));
    assert.ok(
      !allowed(tcp(web, { kind: "address" }, 443), [
        egress([{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }]),
      ]),
    );
  });

  it("resolves named ports on the destination pod, honours endPort and protocols, and treats empty peers and ports as all", () => {
    const named = policy("shop", "named", { podSelector: {}, ingress: [{ ports: [{ port: "http" }] }] });
    assert.ok(allowed(tcp(client, web, 8080), [named]));
    assert.ok(!allowed(tcp(client, web, 8081), [named]));
    const range = policy("shop", "range", {
      podSelector: {},
      ingress: [{ ports: [{ port: 8000, endPort: 8100 }] }],
    });
    assert.ok(allowed(tcp(client, web, 8080), [range]));
    assert.ok(!allowed(tcp(client, web, 8101), [range]));
    const udp = policy("shop", "udp", {
      podSelector: {},
      ingress: [{ ports: [{ port: 8080, protocol: "UDP" }] }],
    });
    assert.ok(!allowed(tcp(client, web, 8080), [udp]));
    assert.ok(allowed(tcp(client, web, 1), [policy("shop", "all", { podSelector: {}, ingress: [{}] })]));
  });

  it("evaluates matchExpressions In, NotIn, Exists and DoesNotExist", () => {
    const labels = { app: "web", tier: "front" };
    const expr = (operator: string, values?: string[]) => ({
      matchExpressions: [{ key: "tier", operator, ...(values ? { values } : {}) }],
    });
    assert.ok(selectorMatches(expr("In", ["front", "back"]), labels));
    assert.ok(!selectorMatches(expr("NotIn", ["front"]), labels));
    assert.ok(selectorMatches(expr("NotIn", ["front"]), { app: "web" }), "NotIn matches an absent label");
    assert.ok(selectorMatches(expr("Exists"), labels));
    assert.ok(!selectorMatches(expr("DoesNotExist"), labels));
    assert.ok(selectorMatches({}, labels));
  });
});
