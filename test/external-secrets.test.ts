// External Secrets through Conjur: the pure builders (SecretStore, ExternalSecret, the follower
// ingress rule), the Conjur policy they need (one authn-jwt host per opted-in service account, reading
// its own applications' variables only), what the stacks render per opted-in tenant, URN stability,
// and bad input.
import { strict as assert } from "node:assert";
import { buildEstatePolicy, PolicySpoke } from "../components/conjur/policy";
import {
  esoToFollowerIngressRule,
  externalSecretDocuments,
  secretStoreSpec,
  storeServiceAccounts,
} from "../components/eso/documents";
import { esoAuthenticators, esoGrants, esoJwtHosts } from "../components/eso/policy";
import { configErrorsFor, expectConfigError } from "./support/config-errors";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { evaluate, ofKind, secretPaths } from "./support/stacks";
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
      },
      account: "acme",
      authenticatorId: "stg",
      serviceAccount: "ledger",
      audience: "https://conjur.example",
    });
    assert.equal(spec.provider.conjur.url, "https://conjur.example");
    assert.match(Buffer.from(spec.provider.conjur.caBundle, "base64").toString(), /BEGIN CERTIFICATE/);
    assert.deepEqual(spec.provider.conjur.auth, {
      jwt: {
        account: "acme",
        serviceID: "stg",
        serviceAccountRef: { name: "ledger", audiences: ["https://conjur.example"] },
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

  it("admits exactly ESO's controller pods to a follower, on HTTPS", () => {
    assert.deepEqual(
      esoToFollowerIngressRule("external-secrets", { "app.kubernetes.io/name": "external-secrets" }),
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "external-secrets" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "external-secrets" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 443 }],
      },
    );
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

  it("the estate policy holds one authn-jwt branch per spoke with opted-in tenants, enabled on the primary", () => {
    const other: PolicySpoke = {
      name: "web",
      tenants: [{ ...TENANT, name: "shop", externalSecrets: false }],
    };
    const statements = buildEstatePolicy({ spokes: [SPOKE, other] }) as Json[];
    const branches = statements.filter((s) => s.kind === "policy" && s.id.startsWith("conjur/authn-jwt/"));
    assert.deepEqual(
      branches.map((b) => b.id),
      ["conjur/authn-jwt/stg"],
    );
    const variables = branches[0].body.filter((s: Json) => s.kind === "variable").map((s: Json) => s.id);
    assert.deepEqual(variables, [
      "jwks-uri",
      "ca-cert",
      "issuer",
      "token-app-property",
      "identity-path",
      "audience",
    ]);
    assert.deepEqual(esoAuthenticators([SPOKE, other]), ["authn-jwt/stg"]);
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

  it("points every store at the hub's primary with the estate CA, and carries no secret value", () => {
    for (const store of esoObjects(staging, "SecretStore")) {
      const conjur = (store.inputs["spec"] as Json).provider.conjur;
      assert.equal(conjur.url, "https://conjur.staging.acme.internal");
      assert.deepEqual(conjur.auth.jwt.serviceAccountRef.audiences, [conjur.url]);
      assert.match(Buffer.from(conjur.caBundle, "base64").toString(), /BEGIN CERTIFICATE/);
      assert.equal(conjur.auth.jwt.serviceID, store.provider?.includes("stg-web") ? "web" : "payments");
    }
    for (const r of [...esoObjects(staging, "SecretStore"), ...esoObjects(staging, "ExternalSecret")])
      assert.deepEqual(secretPaths(r.inputs), [], r.urn);
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
