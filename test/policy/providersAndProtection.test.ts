import { strict as assert } from "node:assert";
import { explicitProvider } from "../../policy/rules/providers";
import { IRREPLACEABLE, irreplaceableProtected, isIrreplaceable } from "../../policy/rules/protection";
import { configMap, devContext, planned, prodContext } from "./fixtures";

describe("explicit-provider", () => {
  it("passes a Kubernetes object created with the cluster's provider", () => {
    assert.deepEqual(explicitProvider.check(configMap("conjur-ca", {}), devContext), []);
  });

  it("fails without a provider and with the default provider", () => {
    const withoutProvider = { ...configMap("conjur-ca", {}), provider: null };
    assert.deepEqual(explicitProvider.check(withoutProvider, devContext), [
      "no provider given; pass the cluster's k8s.Provider explicitly",
    ]);
    const defaultProvider = {
      ...configMap("conjur-ca", {}),
      provider: "urn:pulumi:dev::hubspoke::pulumi:providers:kubernetes::default_4_34_2::04f0e7a1",
    };
    assert.equal(explicitProvider.check(defaultProvider, devContext).length, 1);
  });

  it("ignores providers themselves and non-Kubernetes resources", () => {
    const provider = planned("pulumi:providers:kubernetes", "hub", {}, { provider: null });
    const randomBytes = planned(
      "random:index/randomBytes:RandomBytes",
      "hub-data-key",
      { length: 32 },
      { provider: null },
    );
    assert.deepEqual(explicitProvider.check(provider, devContext), []);
    assert.deepEqual(explicitProvider.check(randomBytes, devContext), []);
  });
});

describe("irreplaceable-protected (stack rule)", () => {
  const dataKey = planned(
    "random:index/randomBytes:RandomBytes",
    "hub-data-key",
    { length: 32 },
    { provider: null, cluster: null },
  );
  const ca = planned(
    "tls:index/selfSignedCert:SelfSignedCert",
    "hub-ca",
    { isCaCertificate: true },
    { provider: null, cluster: null },
  );
  const caKey = planned(
    "tls:index/privateKey:PrivateKey",
    "hub-ca-key",
    { algorithm: "ECDSA" },
    { provider: null, cluster: null },
  );
  const serverKey = planned(
    "tls:index/privateKey:PrivateKey",
    "hub-server-key",
    { algorithm: "ECDSA" },
    { provider: null, cluster: null },
  );

  it("matches the data key, the CA and the CA key, the backups' key, bucket and passphrase, the in-hub Leader's pods and admin password from one exported list, and nothing else", () => {
    assert.equal(IRREPLACEABLE.length, 8);
    for (const [type, name] of [
      ["aws:kms/key:Key", "dr-backup-kms-key"],
      ["aws:s3/bucket:Bucket", "dr-backup-bucket"],
      ["random:index/randomPassword:RandomPassword", "dr-backup-passphrase"],
      ["random:index/randomPassword:RandomPassword", "conjur-hub-leader-admin-password"],
      ["kubernetes:apps/v1:StatefulSet", "conjur-hub-leader"],
    ])
      assert.ok(isIrreplaceable({ type, name }), name);
    assert.equal(isIrreplaceable({ type: "aws:s3/bucket:Bucket", name: "logs" }), undefined);
    // Other StatefulSets (the Open Source hub's Postgres, Prometheus) are not.
    assert.equal(
      isIrreplaceable({ type: "kubernetes:apps/v1:StatefulSet", name: "conjur-hub-postgres" }),
      undefined,
    );
    assert.ok(isIrreplaceable(dataKey));
    assert.ok(isIrreplaceable(ca));
    assert.ok(isIrreplaceable(caKey));
    assert.equal(isIrreplaceable(serverKey), undefined);
  });

  it("passes in prod when they are protected", () => {
    const protectedResources = [dataKey, ca, caKey].map((r) => ({ ...r, opts: { protect: true } }));
    assert.deepEqual(irreplaceableProtected.checkStack([...protectedResources, serverKey], prodContext), []);
  });

  it("fails in prod for each unprotected one, with its URN", () => {
    const violations = irreplaceableProtected.checkStack(
      [dataKey, ca, { ...caKey, opts: { protect: true } }, serverKey],
      prodContext,
    );
    assert.deepEqual(
      violations.map((v) => v.urn),
      [dataKey.urn, ca.urn],
    );
    assert.match(violations[0].message, /hub-data-key .* must have protect: true in prod/);
  });

  it("does not require protection where the stack context does not (dev)", () => {
    assert.deepEqual(irreplaceableProtected.checkStack([dataKey, ca, caKey], devContext), []);
  });
});
