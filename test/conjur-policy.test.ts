// The Conjur policy builder and ids: structure, authenticators, seed fetch grants, tenant isolation.
import { strict as assert } from "node:assert";
import {
  authenticatorIds,
  conjurAuthenticators,
  followerHostId,
  followerLogin,
  seedFileUrl,
} from "../components/conjur/ids";
import { buildEstatePolicy, EstatePolicyInput, parsePolicy, renderPolicy } from "../components/conjur/policy";

interface Rec {
  tag: string;
  id?: string;
  body?: Rec[];
  role?: Rec;
  member?: Rec;
  resource?: Rec;
  privileges?: string[];
  annotations?: Record<string, string>;
}

const input: EstatePolicyInput = {
  spokes: [
    {
      name: "payments",
      tenants: [
        {
          name: "shop",
          applications: [
            {
              name: "ledger",
              serviceAccount: "ledger",
              workload: { kind: "stateful-set", name: "ledger" },
              secrets: ["db-password"],
            },
            { name: "checkout", serviceAccount: "checkout", secrets: ["psp-key", "db-password"] },
          ],
        },
      ],
    },
    {
      name: "web",
      tenants: [
        { name: "front", applications: [{ name: "site", serviceAccount: "site", secrets: ["session"] }] },
      ],
    },
  ],
};

const parsed = () => parsePolicy(renderPolicy(buildEstatePolicy(input))) as Rec[];

/** Every record with its full id, walking nested policies the way Conjur resolves ids. */
function flatten(records: Rec[], prefix = ""): { full: string; rec: Rec; policy: string }[] {
  const out: { full: string; rec: Rec; policy: string }[] = [];
  for (const rec of records) {
    const id = rec.id ?? "";
    const full = id ? (prefix ? `${prefix}/${id}` : id) : prefix;
    out.push({ full, rec, policy: prefix });
    if (rec.tag === "policy" && rec.body) out.push(...flatten(rec.body, full));
  }
  return out;
}

const resolve = (policy: string, ref: Rec) => (ref.id ? (policy ? `${policy}/${ref.id}` : ref.id) : policy);

describe("conjur ids", () => {
  it("lists authn and one authn-k8s authenticator for the hub and each spoke", () => {
    assert.equal(
      conjurAuthenticators(authenticatorIds(["payments", "web"])),
      "authn,authn-k8s/hub,authn-k8s/payments,authn-k8s/web",
    );
  });

  it("builds the seed fetch login and URL the follower uses", () => {
    assert.equal(
      followerLogin("web"),
      "host/conjur/authn-k8s/web/apps/conjur-system/service_account/conjur-follower",
    );
    assert.equal(
      seedFileUrl("conjur.acme.com", "acme"),
      "https://conjur.acme.com/configuration/acme/seed/follower",
    );
  });
});

describe("conjur policy builder", () => {
  it("declares one conjur/authn-k8s/<id> branch per authenticator with its webservice, CA variables and consumers", () => {
    const branches = parsed().filter((r) => r.tag === "policy" && r.id?.startsWith("conjur/authn-k8s/"));
    assert.deepEqual(
      branches.map((b) => b.id),
      ["conjur/authn-k8s/hub", "conjur/authn-k8s/payments", "conjur/authn-k8s/web"],
    );
    for (const branch of branches) {
      const body = branch.body ?? [];
      assert.ok(
        body.some((r) => r.tag === "webservice" && !r.id),
        `${branch.id}: authenticator webservice`,
      );
      assert.ok(
        body.some((r) => r.tag === "webservice" && r.id === "status"),
        `${branch.id}: status webservice`,
      );
      for (const v of ["ca/cert", "ca/key"])
        assert.ok(
          body.some((r) => r.tag === "variable" && r.id === v),
          `${branch.id}: ${v}`,
        );
      const permit = body.find((r) => r.tag === "permit" && r.role?.id === "consumers");
      assert.deepEqual(permit?.privileges, ["read", "authenticate"]);
    }
  });

  it("gives spoke authenticators the kubernetes/* variables (Conjur runs outside those clusters) and the hub none", () => {
    const vars = (id: string) =>
      (parsed().find((r) => r.id === `conjur/authn-k8s/${id}`)?.body ?? [])
        .filter((r) => r.tag === "variable")
        .map((r) => r.id);
    assert.deepEqual(vars("hub"), ["ca/cert", "ca/key"]);
    assert.deepEqual(vars("web"), [
      "ca/cert",
      "ca/key",
      "kubernetes/api-url",
      "kubernetes/ca-cert",
      "kubernetes/service-account-token",
    ]);
  });

  it("grants each follower host the seed-generation and its authenticator's consumers groups", () => {
    const records = flatten(parsed());
    const grants = records.filter((r) => r.rec.tag === "grant");
    for (const spoke of ["payments", "web"]) {
      const host = followerHostId(spoke);
      assert.ok(
        records.some((r) => r.rec.tag === "host" && r.full === host),
        `follower host ${host} declared`,
      );
      const roles = grants
        .filter((g) => resolve(g.policy, g.rec.member as Rec) === host)
        .map((g) => resolve(g.policy, g.rec.role as Rec));
      assert.deepEqual(roles.sort(), [
        `conjur/authn-k8s/${spoke}/consumers`,
        "conjur/seed-generation/consumers",
      ]);
    }
    const seed = parsed().find((r) => r.id === "conjur/seed-generation");
    assert.deepEqual(seed?.body?.find((r) => r.tag === "permit")?.privileges, ["execute"]);
  });

  it("annotates each application host for authn-k8s with its namespace, service account and workload", () => {
    const records = flatten(parsed());
    const ledger = records.find(
      (r) => r.rec.tag === "host" && r.full === "tenants/payments/shop/ledger",
    )?.rec;
    assert.deepEqual(ledger?.annotations, {
      "authn-k8s/namespace": "shop",
      "authn-k8s/service-account": "ledger",
      "authn-k8s/stateful-set": "ledger",
      "authn-k8s/authentication-container-name": "authenticator",
      kubernetes: "true",
    });
    const checkout = records.find((r) => r.full === "tenants/payments/shop/checkout")?.rec;
    assert.equal(checkout?.annotations?.["authn-k8s/deployment"], undefined);
  });

  it("isolates tenants: every permit on a variable names that application's own host, and only it", () => {
    const records = flatten(parsed());
    const variables = records.filter((r) => r.rec.tag === "variable" && r.full.startsWith("tenants/"));
    assert.equal(variables.length, 4);
    const permits = records.filter((r) => r.rec.tag === "permit" && r.rec.resource?.tag === "variable");
    for (const v of variables) {
      const holders = permits
        .filter((p) => resolve(p.policy, p.rec.resource as Rec) === v.full)
        .map((p) => resolve(p.policy, p.rec.role as Rec));
      const app = v.full.slice(0, v.full.lastIndexOf("/"));
      assert.deepEqual(holders, [app], `${v.full} is readable by ${holders.join(", ")}`);
    }
    // No application host gains any privilege on another application's variables.
    for (const p of permits) {
      const role = resolve(p.policy, p.rec.role as Rec);
      const resource = resolve(p.policy, p.rec.resource as Rec);
      assert.ok(resource.startsWith(`${role}/`), `${role} may not touch ${resource}`);
    }
  });

  it("grants every application host its spoke's authenticator consumers group, not another spoke's", () => {
    const records = flatten(parsed());
    const grants = records.filter((r) => r.rec.tag === "grant");
    const roleOf = (host: string) =>
      grants.filter((g) => g.rec.member?.id === host).map((g) => g.rec.role?.id);
    assert.deepEqual(roleOf("tenants/web/front/site"), ["conjur/authn-k8s/web/consumers"]);
    assert.deepEqual(roleOf("tenants/payments/shop/checkout"), ["conjur/authn-k8s/payments/consumers"]);
  });

  it("omits pending spokes entirely: no branch, no host, no grant", () => {
    const text = renderPolicy(buildEstatePolicy({ spokes: [input.spokes[0]] }));
    assert.doesNotMatch(text, /authn-k8s\/web|tenants\/web|front/);
    assert.match(text, /authn-k8s\/payments/);
  });

  it("serialises with Conjur's tags and keeps user values as quoted scalars", () => {
    const text = renderPolicy(
      buildEstatePolicy({
        spokes: [
          {
            name: "s",
            tenants: [
              { name: "t", applications: [{ name: "a", serviceAccount: "sa", secrets: ["true", "a: b"] }] },
            ],
          },
        ],
      }),
    );
    assert.match(text, /^- !policy\n {2}id: conjur\/authn-k8s\/hub$/m);
    assert.match(text, /- !variable ca\/cert/);
    assert.match(text, /^- !grant\n {2}role: !group conjur\/seed-generation\/consumers$/m);
    // A value that YAML would read as something else is quoted, not spliced into the document.
    assert.match(text, /!variable "a\/true"|!variable a\/true/);
    assert.match(text, /!variable "a\/a: b"/);
    const reparsed = flatten(parsePolicy(text) as Rec[]);
    assert.ok(reparsed.some((r) => r.full === "tenants/s/t/a/a: b"));
  });
});
