// External Secrets through Conjur: the pure builders (SecretStore, ExternalSecret, the follower
// ingress rule), the Conjur policy they need (one authn-jwt host per opted-in service account, reading
// its own applications' variables only), what the stacks render per opted-in tenant, URN stability,
// and bad input.
import { strict as assert } from "node:assert";
import { buildEstatePolicy, PolicySpoke } from "../components/conjur/policy";
import {
  esoFollowerIngress,
  esoToFollowerIngressRule,
  externalSecretDocuments,
  secretStoreSpec,
  storeServiceAccounts,
} from "../components/eso/documents";
import { esoGrants, esoJwtHosts } from "../components/eso/policy";
import { configErrorsFor, expectConfigError } from "./support/config-errors";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { asOpenSource, evaluate, objectNamed, ofKind, secretPaths, stackFileConfig } from "./support/stacks";
import { customResourceFieldChecker, validateCustomResource } from "./support/crd-schema";

type Json = any;

const TENANT = {
  name: "payments",
  externalSecrets: { refreshInterval: "1h" },
  applications: [
    { name: "ledger", serviceAccount: "ledger", secrets: ["db-password"] },
    { name: "checkout", serviceAccount: "checkout", secrets: ["psp-api-key", "db-password"] },
    { name: "checkout-worker", serviceAccount: "checkout", secrets: ["queue-token"] },
    { name: "idle", serviceAccount: "idle", secrets: [] },
  ],
};
const SPOKE: PolicySpoke = {
  name: "stg",
  jwtKeys: { kind: "public-keys" },
  tenants: [
    TENANT,
    {
      name: "fraud",
      externalSecrets: false,
      applications: [{ name: "scorer", serviceAccount: "scorer", secrets: ["t"] }],
    },
  ],
};

describe("External Secrets builders", () => {
  it("one SecretStore per service account that has secrets to sync", () => {
    assert.deepEqual(storeServiceAccounts(TENANT), ["ledger", "checkout"]);
  });

  it("a SecretStore logs in to the spoke's authn-jwt with the tenant's own service account", () => {
    const spec = secretStoreSpec({
      endpoint: {
        url: "https://conjur.example",
        caPem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
        audience: "https://conjur-leader.example",
      },
      account: "acme",
      authenticatorId: "stg",
      serviceAccount: "ledger",
    });
    assert.equal(spec.provider.conjur.url, "https://conjur.example");
    assert.match(Buffer.from(spec.provider.conjur.caBundle, "base64").toString(), /BEGIN CERTIFICATE/);
    assert.deepEqual(spec.provider.conjur.auth, {
      jwt: {
        account: "acme",
        serviceID: "stg",
        serviceAccountRef: { name: "ledger", audiences: ["https://conjur-leader.example"] },
      },
    });
    const object = {
      apiVersion: "external-secrets.io/v1",
      kind: "SecretStore",
      metadata: { name: "s", namespace: "payments" },
      spec,
    };
    assert.deepEqual(validateCustomResource(object), []);
    assert.deepEqual(customResourceFieldChecker([object]).check(object), []);
  });

  it("one ExternalSecret per declared secret, from the application's own variable, never deleting the Secret", () => {
    const docs = externalSecretDocuments("stg", TENANT, "15m");
    assert.deepEqual(
      docs.map((d) => d.name),
      [
        "hubspoke-ledger-db-password",
        "hubspoke-checkout-psp-api-key",
        "hubspoke-checkout-db-password",
        "hubspoke-checkout-worker-queue-token",
      ],
    );
    const worker = docs[3].spec as Json;
    assert.equal(worker.refreshInterval, "15m");
    assert.deepEqual(worker.secretStoreRef, { kind: "SecretStore", name: "hubspoke-conjur-checkout" });
    assert.deepEqual(worker.data, [
      { secretKey: "queue-token", remoteRef: { key: "tenants/stg/payments/checkout-worker/queue-token" } },
    ]);
    assert.equal(worker.target.creationPolicy, "Orphan");
    assert.equal(worker.target.deletionPolicy, "Retain");
  });

  it("admits exactly ESO's controller pods to a follower, on the follower pods' HTTPS port", () => {
    assert.deepEqual(
      esoToFollowerIngressRule("external-secrets", { "app.kubernetes.io/name": "external-secrets" }, 9443),
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "external-secrets" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "external-secrets" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 9443 }],
      },
    );
    const eso = { namespace: "eso", controllerLabels: { app: "eso" } };
    assert.deepEqual(esoFollowerIngress(eso, SPOKE, 443)[0]?.ports, [{ protocol: "TCP", port: 443 }]);
    const optedOut = { tenants: SPOKE.tenants.map((t) => ({ ...t, externalSecrets: false as const })) };
    assert.deepEqual(esoFollowerIngress(eso, optedOut, 443), [], "no ESO tenant, no extra ingress");
  });
});

describe("External Secrets in the Conjur policy", () => {
  const permitsOf = (statements: Json[], host: string) =>
    statements
      .filter((s) => s.kind === "permit" && s.role.id === host)
      .map((s) => s.resource.id)
      .sort();

  it("one host per opted-in service account, named after its token subject, with claim annotations", () => {
    const hosts = esoJwtHosts(SPOKE) as Json[];
    assert.deepEqual(
      hosts.map((h) => h.id),
      ["system:serviceaccount:payments:ledger", "system:serviceaccount:payments:checkout"],
    );
    assert.equal(hosts[0].annotations["authn-jwt/stg/kubernetes.io/namespace"], "payments");
  });

  it("each host reads its own applications' variables and nothing else; an opted-out tenant gets nothing", () => {
    const grants = esoGrants(SPOKE) as Json[];
    const checkout = "conjur/authn-jwt/stg/apps/system:serviceaccount:payments:checkout";
    assert.deepEqual(permitsOf(grants, checkout), [
      "tenants/stg/payments/checkout-worker/queue-token",
      "tenants/stg/payments/checkout/db-password",
      "tenants/stg/payments/checkout/psp-api-key",
    ]);
    assert.deepEqual(permitsOf(grants, "conjur/authn-jwt/stg/apps/system:serviceaccount:payments:ledger"), [
      "tenants/stg/payments/ledger/db-password",
    ]);
    assert.ok(!JSON.stringify(grants).includes("fraud"));
    assert.ok(
      grants.some(
        (g) =>
          g.kind === "grant" && g.role.id === "conjur/authn-jwt/stg/consumers" && g.member.id === checkout,
      ),
    );
  });

  const jwtBranch = (statements: Json[]) =>
    statements.find((s) => s.kind === "policy" && s.id === "conjur/authn-jwt/stg");
  const hostIds = (branch: Json) =>
    branch.body
      .find((s: Json) => s.kind === "policy" && s.id === "apps")
      .body.filter((s: Json) => s.kind === "host")
      .map((h: Json) => h.id);
  const checkout = "conjur/authn-jwt/stg/apps/system:serviceaccount:payments:checkout";
  /** The estate policy of SPOKE in one edition, checked to hold no statement twice. */
  const estatePolicy = (edition: "oss" | "enterprise"): Json[] => {
    const statements = buildEstatePolicy({ edition, hubAuthenticator: edition === "oss", spokes: [SPOKE] });
    const texts = statements.map((s) => JSON.stringify(s));
    assert.equal(new Set(texts).size, texts.length, "no statement twice");
    return statements;
  };

  it("oss: the service-account hosts main already builds serve ESO, each host and permit once", () => {
    const statements = estatePolicy("oss");
    const hosts = hostIds(jwtBranch(statements));
    for (const sa of ["ledger", "checkout"]) {
      assert.equal(hosts.filter((h: string) => h === `system:serviceaccount:payments:${sa}`).length, 1, sa);
    }
    assert.deepEqual(permitsOf(statements, checkout), permitsOf(esoGrants(SPOKE), checkout));
  });

  it("enterprise: ESO hosts sit next to the follower's under authn-jwt/<spoke>, reading their own variables only", () => {
    const statements = estatePolicy("enterprise");
    assert.deepEqual(hostIds(jwtBranch(statements)), [
      "system:serviceaccount:conjur-system:conjur-follower",
      "system:serviceaccount:payments:ledger",
      "system:serviceaccount:payments:checkout",
    ]);
    assert.deepEqual(permitsOf(statements, checkout), [
      "tenants/stg/payments/checkout-worker/queue-token",
      "tenants/stg/payments/checkout/db-password",
      "tenants/stg/payments/checkout/psp-api-key",
    ]);
    assert.ok(
      statements.some(
        (g) =>
          g.kind === "grant" && g.role.id === "conjur/authn-jwt/stg/consumers" && g.member.id === checkout,
      ),
    );
    assert.ok(
      !statements.some((s) => s.kind === "permit" && /fraud/.test(s.role.id) && /authn-jwt/.test(s.role.id)),
    );
  });
});

const esoObjects = (e: Evaluation, kind: string): RecordedResource[] =>
  ofKind(e, kind).filter((r) => r.type.startsWith("kubernetes:external-secrets.io/v1:"));
const nsAndName = (r: RecordedResource) => {
  const m = r.inputs["metadata"] as Json;
  return `${m.namespace}/${m.name}`;
};

describe("External Secrets in the stacks", () => {
  let staging: Evaluation;
  before(async () => {
    staging = await evaluate("staging");
  });

  it("renders SecretStores and ExternalSecrets in opted-in tenants only", () => {
    assert.deepEqual(esoObjects(staging, "SecretStore").map(nsAndName).sort(), [
      "payments/hubspoke-conjur-checkout",
      "payments/hubspoke-conjur-ledger",
      "storefront/hubspoke-conjur-frontend",
    ]);
    assert.deepEqual(esoObjects(staging, "ExternalSecret").map(nsAndName).sort(), [
      "payments/hubspoke-checkout-db-password",
      "payments/hubspoke-checkout-psp-api-key",
      "payments/hubspoke-ledger-db-password",
      "storefront/hubspoke-frontend-session-key",
    ]);
    const storefront = esoObjects(staging, "ExternalSecret").find((r) =>
      nsAndName(r).startsWith("storefront"),
    );
    assert.equal((storefront?.inputs["spec"] as Json).refreshInterval, "15m");
  });

  const leader = (stackFileConfig("staging")["hubspoke:conjur"] as Json).leader;
  const storesOf = (e: Evaluation) =>
    esoObjects(e, "SecretStore").map((r) => ({ r, conjur: (r.inputs["spec"] as Json).provider.conjur }));
  const caOf = (conjur: Json) => Buffer.from(conjur.caBundle, "base64").toString();

  it("enterprise: every store reads from the spoke's follower under the Leader's CA, tokens for the Leader's URL", () => {
    for (const { r, conjur } of storesOf(staging)) {
      assert.equal(conjur.url, "https://conjur-follower.conjur-system.svc.cluster.local");
      assert.equal(caOf(conjur), leader.caCertificate);
      // = conjur/authn-jwt/<spoke>/audience as policy-load sets it (the follower replicates it).
      assert.deepEqual(conjur.auth.jwt.serviceAccountRef.audiences, [leader.url]);
      assert.equal(conjur.auth.jwt.serviceID, r.provider?.includes("stg-web") ? "web" : "payments");
    }
    for (const r of [...esoObjects(staging, "SecretStore"), ...esoObjects(staging, "ExternalSecret")])
      assert.deepEqual(secretPaths(r.inputs), [], r.urn);
  });

  it("enterprise: the follower admits ESO's controller on its pods' port", () => {
    const eso = (stackFileConfig("staging")["hubspoke:externalSecrets"] as Json) ?? {};
    const policy = objectNamed(staging, "NetworkPolicy", "conjur-follower", "k8s-stg-payments");
    const rule = ((policy.inputs as Json).spec.ingress as Json[]).find((i) =>
      i.from?.some((f: Json) => f.podSelector?.matchLabels && f.namespaceSelector),
    );
    assert.deepEqual(rule.ports, [{ protocol: "TCP", port: 9443 }]);
    assert.deepEqual(rule.from[0].namespaceSelector, {
      matchLabels: { "kubernetes.io/metadata.name": eso.namespace ?? "external-secrets" },
    });
  });

  it("oss: every store reads from the hub's primary under the estate CA, tokens for the hub's URL", async () => {
    const oss = await evaluate("staging", asOpenSource);
    const stores = storesOf(oss);
    assert.equal(stores.length, storesOf(staging).length);
    for (const { conjur } of stores) {
      assert.equal(conjur.url, "https://conjur.staging.acme.internal");
      assert.deepEqual(conjur.auth.jwt.serviceAccountRef.audiences, [conjur.url]);
      assert.match(caOf(conjur), /BEGIN CERTIFICATE/);
      assert.notEqual(caOf(conjur), leader.caCertificate);
    }
    assert.ok(
      !ofKind(oss, "NetworkPolicy").some((p) => (p.inputs as Json).metadata.name === "conjur-follower"),
    );
  });

  it("adds no NetworkPolicy, pod or Secret to a tenant: ESO's controller does the reading", () => {
    const kinds = new Set(
      staging.resources.filter((r) => r.urn.includes("ExternalSecretsSync")).map((r) => r.type),
    );
    assert.deepEqual([...kinds].sort(), [
      "hubspoke:eso:ExternalSecretsSync",
      "kubernetes:external-secrets.io/v1:ExternalSecret",
      "kubernetes:external-secrets.io/v1:SecretStore",
    ]);
  });

  it("renders nothing on a pending spoke", async () => {
    const prod = await evaluate("prod");
    assert.ok(!esoObjects(prod, "SecretStore").some((r) => r.provider?.includes("prod-web-euc1")));
    assert.ok(esoObjects(prod, "SecretStore").length > 0);
  });

  it("opting a tenant in, or adding an opted-in tenant, changes no existing URN", async () => {
    const grown = await evaluate("staging", (c: Json) => {
      c["hubspoke:spokes"][0].tenants[1].externalSecrets = true;
      c["hubspoke:spokes"][1].tenants.unshift({
        name: "catalog",
        existing: false,
        externalSecrets: true,
        applications: [{ name: "api", serviceAccount: "api", secrets: ["db-password"] }],
      });
    });
    const kept = new Set(grown.resources.map((r) => r.urn));
    assert.deepEqual(
      staging.resources.map((r) => r.urn).filter((u) => !kept.has(u)),
      [],
    );
    assert.ok(esoObjects(grown, "SecretStore").some((r) => nsAndName(r) === "fraud/hubspoke-conjur-scorer"));
  });
});

describe("External Secrets config errors", () => {
  const errorsFor = (edit: (c: Json) => void) => configErrorsFor("staging", edit);
  const expectError = expectConfigError;

  it("ESO for a tenant with no applications", () => {
    const errors = errorsFor((c) =>
      c.spokes[0].tenants.push({ name: "empty", existing: false, externalSecrets: true }),
    );
    expectError(errors, "spokes[0].tenants[2].externalSecrets", /declares no application secrets/);
  });

  it("ESO for a tenant whose applications have no secrets", () => {
    const errors = errorsFor((c) =>
      c.spokes[0].tenants.push({
        name: "quiet",
        existing: false,
        externalSecrets: true,
        applications: [{ name: "api", serviceAccount: "api" }],
      }),
    );
    expectError(errors, "spokes[0].tenants[2].externalSecrets", /declares no application secrets/);
  });

  it("a secret listed twice by one application", () => {
    const errors = errorsFor((c) => c.spokes[0].tenants[0].applications[0].secrets.push("db-password"));
    expectError(errors, "spokes[0].tenants[0].applications[0].secrets[1]", /duplicate secret "db-password"/);
  });

  it("two applications whose secrets would sync to the same Secret name", () => {
    const errors = errorsFor((c) =>
      c.spokes[0].tenants[0].applications.push(
        { name: "a-b", serviceAccount: "a", secrets: ["c"] },
        { name: "a", serviceAccount: "a", secrets: ["b-c"] },
      ),
    );
    expectError(
      errors,
      "spokes[0].tenants[0].applications[3].secrets[0]",
      /duplicate secret name hubspoke-a-b-c/,
    );
  });

  it("a secret name that cannot name a Kubernetes Secret, and a bad refresh interval", () => {
    const errors = errorsFor((c) => {
      c.spokes[0].tenants[0].applications[0].secrets = ["DB_PASSWORD"];
      c.spokes[1].tenants[0].externalSecrets = { refreshInterval: "soon" };
    });
    expectError(errors, "spokes[0].tenants[0].applications[0].secrets[0]", /cannot name the Secret/);
    expectError(errors, "spokes[1].tenants[0].externalSecrets.refreshInterval", /not a duration/);
  });
});
