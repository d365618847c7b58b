// The Conjur policy builder and ids, per edition: authenticators, seed fetch grants, tenant isolation.
import { strict as assert } from "node:assert";
import { conjurAuthenticators, enabledAuthenticators, seedFileUrl } from "../components/conjur/ids";
import { authnJwtBranch, jwtFixedValues, jwtHostId, jwtVariableNames } from "../components/conjur/authn-jwt";
import {
  buildEstatePolicy,
  ConjurEdition,
  estatePolicyDocuments,
  EstatePolicyInput,
  parsePolicy,
  renderPolicy,
  type Statement,
} from "../components/conjur/policy";

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

const spokes: EstatePolicyInput["spokes"] = [
  {
    name: "payments",
    jwtKeys: { kind: "jwks-uri", withCaCert: false },
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
          // Shares checkout's service account: one host, its own permits.
          { name: "refunds", serviceAccount: "checkout", secrets: ["psp-key"] },
        ],
      },
    ],
  },
  {
    name: "web",
    jwtKeys: { kind: "public-keys" },
    tenants: [
      { name: "front", applications: [{ name: "site", serviceAccount: "site", secrets: ["session"] }] },
    ],
  },
];

const inputs: Record<ConjurEdition, EstatePolicyInput> = {
  oss: { edition: "oss", hubAuthenticator: true, spokes },
  enterprise: { edition: "enterprise", hubAuthenticator: false, spokes },
};

const parsed = (edition: ConjurEdition) =>
  parsePolicy(renderPolicy(buildEstatePolicy(inputs[edition]))) as Rec[];

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

/** Roles granted to a member (full ids), across the document. */
function rolesOf(records: ReturnType<typeof flatten>, member: string): string[] {
  return records
    .filter((r) => r.rec.tag === "grant" && resolve(r.policy, r.rec.member as Rec) === member)
    .map((r) => resolve(r.policy, r.rec.role as Rec))
    .sort();
}

/** Full ids of the roles permitted on each tenant variable. */
function variableReaders(records: ReturnType<typeof flatten>): Map<string, string[]> {
  const readers = new Map<string, string[]>();
  for (const v of records.filter((r) => r.rec.tag === "variable" && r.full.startsWith("tenants/")))
    readers.set(v.full, []);
  for (const p of records.filter((r) => r.rec.tag === "permit" && r.rec.resource?.tag === "variable")) {
    const resource = resolve(p.policy, p.rec.resource as Rec);
    readers.get(resource)?.push(resolve(p.policy, p.rec.role as Rec));
    assert.deepEqual(p.rec.privileges, ["read", "execute"]);
  }
  return readers;
}

describe("conjur ids", () => {
  it("lists authn, then authn-k8s, then authn-jwt authenticators in a stable order", () => {
    assert.equal(
      conjurAuthenticators(enabledAuthenticators(["hub"], ["payments", "web"])),
      "authn,authn-k8s/hub,authn-jwt/payments,authn-jwt/web",
    );
  });

  it("builds the Leader's seed URL and the host a service-account token maps to", () => {
    assert.equal(
      seedFileUrl("conjur.acme.com", "acme"),
      "https://conjur.acme.com/configuration/acme/seed/follower",
    );
    assert.equal(
      jwtHostId("web", "conjur-system", "conjur-follower"),
      "conjur/authn-jwt/web/apps/system:serviceaccount:conjur-system:conjur-follower",
    );
  });
});

describe("authn-jwt authenticator builder", () => {
  const branch = (keys: Parameters<typeof authnJwtBranch>[1]) =>
    parsePolicy(renderPolicy([authnJwtBranch("web", keys, [])])) as Rec[];
  const variables = (rec: Rec[]) => (rec[0].body ?? []).filter((r) => r.tag === "variable").map((r) => r.id);

  it("declares exactly one key source, ca-cert only with jwks-uri, and the claims settings", () => {
    const common = ["issuer", "token-app-property", "identity-path", "audience"];
    assert.deepEqual(variables(branch({ kind: "jwks-uri", withCaCert: false })), ["jwks-uri", ...common]);
    assert.deepEqual(variables(branch({ kind: "jwks-uri", withCaCert: true })), [
      "jwks-uri",
      "ca-cert",
      ...common,
    ]);
    assert.deepEqual(variables(branch({ kind: "public-keys" })), ["public-keys", ...common]);
    assert.deepEqual(jwtVariableNames({ kind: "public-keys" }), ["public-keys", ...common]);
  });

  it("has the authenticator and status webservices, consumers may authenticate, operators read the status", () => {
    const body = branch({ kind: "public-keys" })[0].body ?? [];
    assert.ok(body.some((r) => r.tag === "webservice" && !r.id));
    assert.ok(body.some((r) => r.tag === "webservice" && r.id === "status"));
    const permit = (group: string) => body.find((r) => r.tag === "permit" && r.role?.id === group);
    assert.deepEqual(permit("consumers")?.privileges, ["read", "authenticate"]);
    assert.deepEqual(permit("operators")?.privileges, ["read"]);
    assert.equal(permit("operators")?.resource?.id, "status");
  });

  it("maps tokens by their sub claim under the authenticator's own identity path", () => {
    assert.deepEqual(jwtFixedValues("web", "https://conjur.acme.com"), {
      "token-app-property": "sub",
      "identity-path": "conjur/authn-jwt/web/apps",
      audience: "https://conjur.acme.com",
    });
  });
});

describe("conjur policy builder, enterprise", () => {
  const records = () => flatten(parsed("enterprise"));

  it("declares per spoke an in-cluster authn-k8s branch (CA only, no kubernetes/* variables) and an authn-jwt branch", () => {
    const top = parsed("enterprise")
      .filter((r) => r.tag === "policy")
      .map((r) => r.id);
    // In load order: the base document, then each spoke's, which adds its branch to `tenants`.
    assert.deepEqual(top, [
      "conjur/seed-generation",
      "conjur/authn-k8s/payments",
      "conjur/authn-jwt/payments",
      "tenants",
      "conjur/authn-k8s/web",
      "conjur/authn-jwt/web",
      "tenants",
    ]);
    for (const spoke of ["payments", "web"]) {
      const vars = (parsed("enterprise").find((r) => r.id === `conjur/authn-k8s/${spoke}`)?.body ?? [])
        .filter((r) => r.tag === "variable")
        .map((r) => r.id);
      assert.deepEqual(vars, ["ca/cert", "ca/key"]);
    }
  });

  it("names each follower after its service-account token and grants it seed generation and its authn-jwt consumers", () => {
    for (const spoke of ["payments", "web"]) {
      const host = `conjur/authn-jwt/${spoke}/apps/system:serviceaccount:conjur-system:conjur-follower`;
      const declared = records().find((r) => r.rec.tag === "host" && r.full === host);
      assert.deepEqual(declared?.rec.annotations, {
        [`authn-jwt/${spoke}/kubernetes.io/namespace`]: "conjur-system",
        [`authn-jwt/${spoke}/kubernetes.io/serviceaccount/name`]: "conjur-follower",
      });
      assert.deepEqual(rolesOf(records(), host), [
        `conjur/authn-jwt/${spoke}/consumers`,
        "conjur/seed-generation/consumers",
      ]);
    }
    const seed = parsed("enterprise").find((r) => r.id === "conjur/seed-generation");
    assert.deepEqual(seed?.body?.find((r) => r.tag === "permit")?.privileges, ["execute"]);
  });

  it("annotates each application host for authn-k8s at its follower, granted its own spoke's consumers only", () => {
    const ledger = records().find((r) => r.rec.tag === "host" && r.full === "tenants/payments/shop/ledger");
    assert.deepEqual(ledger?.rec.annotations, {
      "authn-k8s/namespace": "shop",
      "authn-k8s/service-account": "ledger",
      "authn-k8s/stateful-set": "ledger",
      "authn-k8s/authentication-container-name": "authenticator",
      kubernetes: "true",
    });
    assert.deepEqual(rolesOf(records(), "tenants/web/front/site"), ["conjur/authn-k8s/web/consumers"]);
    assert.deepEqual(rolesOf(records(), "tenants/payments/shop/checkout"), [
      "conjur/authn-k8s/payments/consumers",
    ]);
  });

  it("isolates tenants: every variable is readable by its own application's host only", () => {
    const readers = variableReaders(records());
    assert.equal(readers.size, 5);
    for (const [variable, roles] of readers) {
      assert.deepEqual(roles, [variable.slice(0, variable.lastIndexOf("/"))], variable);
    }
  });

  it("adds the hub's authn-k8s branch only when a Conjur server runs in the hub cluster", () => {
    const withHub = renderPolicy(buildEstatePolicy({ ...inputs.enterprise, hubAuthenticator: true }));
    assert.match(withHub, /^- !policy\n {2}id: conjur\/authn-k8s\/hub$/m);
    assert.doesNotMatch(renderPolicy(buildEstatePolicy(inputs.enterprise)), /authn-k8s\/hub/);
  });
});

describe("conjur policy builder, oss", () => {
  const records = () => flatten(parsed("oss"));

  it("has no follower, no seed generation and no authn-k8s branch for a spoke: one authn-jwt branch each", () => {
    const top = parsed("oss")
      .filter((r) => r.tag === "policy")
      .map((r) => r.id);
    assert.deepEqual(top, [
      "conjur/authn-k8s/hub",
      "conjur/authn-jwt/payments",
      "tenants",
      "conjur/authn-jwt/web",
      "tenants",
    ]);
    assert.doesNotMatch(renderPolicy(buildEstatePolicy(inputs.oss)), /seed-generation|conjur-follower/);
  });

  it("declares each spoke's key source: jwks-uri for payments, public-keys for web", () => {
    const vars = (spoke: string) =>
      (parsed("oss").find((r) => r.id === `conjur/authn-jwt/${spoke}`)?.body ?? [])
        .filter((r) => r.tag === "variable")
        .map((r) => r.id);
    assert.equal(vars("payments")[0], "jwks-uri");
    assert.equal(vars("web")[0], "public-keys");
  });

  it("declares one host per tenant service account, named after its token subject, with claim checks", () => {
    const hosts = records()
      .filter((r) => r.rec.tag === "host")
      .map((r) => r.full)
      .sort();
    assert.deepEqual(hosts, [
      "conjur/authn-jwt/payments/apps/system:serviceaccount:shop:checkout",
      "conjur/authn-jwt/payments/apps/system:serviceaccount:shop:ledger",
      "conjur/authn-jwt/web/apps/system:serviceaccount:front:site",
    ]);
    const site = records().find((r) => r.full.endsWith("system:serviceaccount:front:site"));
    assert.deepEqual(site?.rec.annotations, {
      "authn-jwt/web/kubernetes.io/namespace": "front",
      "authn-jwt/web/kubernetes.io/serviceaccount/name": "site",
    });
    assert.deepEqual(rolesOf(records(), "conjur/authn-jwt/web/apps/system:serviceaccount:front:site"), [
      "conjur/authn-jwt/web/consumers",
    ]);
  });

  it("isolates tenants: a variable is readable by the host of its application's service account only", () => {
    const readers = variableReaders(records());
    assert.equal(readers.size, 5);
    for (const [variable, roles] of readers) {
      const [, spoke, tenant, app] = variable.split("/");
      const sa = spokes
        .find((s) => s.name === spoke)
        ?.tenants[0].applications.find((a) => a.name === app)?.serviceAccount;
      assert.deepEqual(roles, [jwtHostId(spoke, tenant, sa ?? "?")], variable);
    }
  });

  it("omits pending spokes entirely: no branch, no host, no grant", () => {
    const text = renderPolicy(buildEstatePolicy({ ...inputs.oss, spokes: [spokes[0]] }));
    assert.doesNotMatch(text, /authn-jwt\/web|tenants\/web|front/);
    assert.match(text, /authn-jwt\/payments/);
  });
});

describe("conjur policy split: a base and one document per spoke", () => {
  const docs = (input: EstatePolicyInput) => estatePolicyDocuments(input);
  const records = (statements: Statement[]) => flatten(parsePolicy(renderPolicy(statements)) as Rec[]);
  const declared = (statements: Statement[]) =>
    records(statements)
      .filter((r) => r.rec.tag !== "grant" && r.rec.tag !== "permit")
      .map((r) => (r.rec.tag === "policy" ? r.full : `${r.rec.tag}:${r.full}`));
  const referenced = (statements: Statement[]) =>
    records(statements)
      .filter((r) => r.rec.tag === "grant" || r.rec.tag === "permit")
      .flatMap((r) =>
        [r.rec.role, r.rec.member, r.rec.resource]
          .filter((ref): ref is Rec => ref !== undefined)
          .map((ref) => `${ref.tag}:${resolve(r.policy, ref)}`),
      );

  for (const edition of ["oss", "enterprise"] as const) {
    it(`${edition}: each spoke's document names only its own records and refers only to them or the base`, () => {
      const { base, spokes: perSpoke } = docs(inputs[edition]);
      assert.deepEqual(
        perSpoke.map((d) => d.name),
        ["payments", "web"],
      );
      const fromBase = new Set(declared(base));
      for (const { name, statements } of perSpoke) {
        const own = declared(statements);
        for (const id of own) {
          if (id === "tenants") continue;
          assert.match(
            id,
            new RegExp(`^(?:[a-z]+:)?(?:conjur/authn-(?:k8s|jwt)/${name}|tenants/${name})(?:/|$)`),
            id,
          );
        }
        const known = new Set([...own, ...fromBase]);
        for (const ref of referenced(statements)) assert.ok(known.has(ref), `${name} refers to ${ref}`);
      }
    });
  }

  it("keeps every document's size independent of the fleet: a spoke's document is the same among 1 or 300 spokes", () => {
    const fleet = (n: number): EstatePolicyInput => ({
      edition: "enterprise",
      hubAuthenticator: false,
      spokes: Array.from({ length: n }, (_, i) => ({ ...spokes[i % 2], name: `spoke-${i}` })),
    });
    const small = docs(fleet(1));
    const large = docs(fleet(300));
    assert.equal(renderPolicy(large.base), renderPolicy(small.base));
    assert.equal(renderPolicy(large.spokes[0].statements), renderPolicy(small.spokes[0].statements));
    const largest = Math.max(...large.spokes.map((d) => Buffer.byteLength(renderPolicy(d.statements))));
    const union = Buffer.byteLength(renderPolicy(buildEstatePolicy(fleet(300))));
    // As one document, this fleet's policy would not fit a ConfigMap (1 MiB); no part comes near it.
    assert.ok(union > 1024 * 1024, `union ${union} B`);
    assert.ok(largest * 100 < union, `largest part ${largest} B`);
  });
});

describe("policy serialisation", () => {
  it("serialises with Conjur's tags and keeps user values as quoted scalars", () => {
    const text = renderPolicy(
      buildEstatePolicy({
        edition: "enterprise",
        hubAuthenticator: false,
        spokes: [
          {
            name: "s",
            jwtKeys: { kind: "public-keys" },
            tenants: [
              { name: "t", applications: [{ name: "a", serviceAccount: "sa", secrets: ["true", "a: b"] }] },
            ],
          },
        ],
      }),
    );
    assert.match(text, /^- !policy\n {2}id: conjur\/authn-k8s\/s$/m);
    assert.match(text, /- !variable ca\/cert/);
    assert.match(text, /^- !grant\n {2}role: !group conjur\/seed-generation\/consumers$/m);
    // A value that YAML would read as something else is quoted, not spliced into the document.
    assert.match(text, /!variable "a\/true"|!variable a\/true/);
    assert.match(text, /!variable "a\/a: b"/);
    const reparsed = flatten(parsePolicy(text) as Rec[]);
    assert.ok(reparsed.some((r) => r.full === "tenants/s/t/a/a: b"));
  });
});
