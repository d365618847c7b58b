import { strict as assert } from "node:assert";
import {
  looksGenerated,
  noSecretLookingValues,
  noSecretOutsideSecretObjects,
  secretLookingReason,
} from "../../policy/rules/secrets";
import { configMap, devContext, followerDeployment, followerPod, planned, wrappedSecret } from "./fixtures";

const PUBLIC_CA_CERT = [
  "-----BEGIN CERTIFICATE-----",
  "MIIBszCCAVmgAwIBAgIUQ1cJ0Zq6k1p2lGk3VwYb6Q2n3yMwCgYIKoZIzj0EAwIw",
  "-----END CERTIFICATE-----",
].join("\n");
const PRIVATE_KEY = [
  "-----BEGIN EC PRIVATE KEY-----",
  "MHcCAQEEIBkqv9p0Qn8Zc3m7Yx2Lr5Tg4Wb1Hd6Fs0Jk2Nv8QeCoAoGCCqGSM49",
  "-----END EC PRIVATE KEY-----",
].join("\n");
const DATA_KEY = "q3Vb9ZxT1mK8pL2wR7sYc4Nf6Hd0Jg5Ea+Uo/Ik3Mz8=";

describe("no-secret-looking-values", () => {
  it("passes ConfigMaps with public certificates, config files and ordinary labels", () => {
    const resource = configMap("conjur-ca", {
      "ca.crt": PUBLIC_CA_CERT,
      "fluent-bit.yaml":
        "pipeline:\n  outputs:\n    - name: forward\n      tls: On\n      tls.ca_file: /etc/tls/ca.crt\n      shared_key: ${FLUENT_FORWARD_SHARED_KEY}\n",
      "prometheus.yml":
        "scrape_configs:\n  - job_name: federate-east\n    bearer_token_file: /var/run/secrets/token\n",
      CONJUR_AUTHN_URL: "https://conjur-follower.conjur-system.svc/authn-k8s/spoke-east",
      CONJUR_SSL_CERTIFICATE_NAME: "conjur-ca",
    });
    assert.deepEqual(noSecretLookingValues.check(resource, devContext), []);
    assert.deepEqual(noSecretLookingValues.check(followerDeployment(), devContext), []);
  });

  it("fails on a PEM private key in ConfigMap data", () => {
    const messages = noSecretLookingValues.check(
      configMap("conjur-tls", { "tls.key": PRIVATE_KEY }),
      devContext,
    );
    assert.deepEqual(messages, ['data["tls.key"]: contains a PEM private key; move it to a Secret']);
  });

  it("fails on an AWS access key id and on a generated value under a credential key", () => {
    const messages = noSecretLookingValues.check(
      configMap("aws", { AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE", "data-key": DATA_KEY }),
      devContext,
    );
    assert.equal(messages.length, 2);
    assert.match(messages[0], /AWS access key id/);
    assert.match(messages[1], /key "data-key" holds a generated-looking secret/);
  });

  it("fails on a database URL with a literal password, but not with a $(VAR) reference", () => {
    assert.equal(
      secretLookingReason("DATABASE_URL", "postgres://conjur:S3cr3tPass@postgres:5432/conjur"),
      "contains a URL with a password",
    );
    assert.equal(
      secretLookingReason("DATABASE_URL", "postgres://conjur:$(DB_PASSWORD)@postgres:5432/conjur"),
      undefined,
    );
  });

  it("fails on an env literal password and names the container and variable", () => {
    const resource = followerPod(
      (_pod, follower) => (follower.env = [{ name: "POSTGRES_PASSWORD", value: "changeme123" }]),
    );
    assert.deepEqual(noSecretLookingValues.check(resource, devContext), [
      'container "follower": env POSTGRES_PASSWORD: key "POSTGRES_PASSWORD" holds a literal password; use valueFrom.secretKeyRef',
    ]);
  });

  it("passes env that takes the password from a Secret, or points at a file", () => {
    const resource = followerPod((_pod, follower) => {
      follower.env = [
        { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: "conjur-db", key: "password" } } },
        { name: "POSTGRES_PASSWORD_FILE", value: "/run/secrets/db/password" },
        { name: "CONJUR_AUTHN_TOKEN_FILE", value: "/run/conjur/access-token" },
      ];
    });
    assert.deepEqual(noSecretLookingValues.check(resource, devContext), []);
  });

  it("fails on secrets in annotations and in embedded config lines", () => {
    const annotated = planned("kubernetes:core/v1:Service", "hub-conjur", {
      metadata: {
        name: "conjur",
        namespace: "conjur-system",
        annotations: { "conjur.org/api-token": DATA_KEY },
      },
      spec: { type: "ClusterIP", ports: [{ port: 443 }] },
    });
    assert.deepEqual(noSecretLookingValues.check(annotated, devContext), [
      'metadata.annotations["conjur.org/api-token"]: key "conjur.org/api-token" holds a generated-looking secret',
    ]);
    const fluentBit = configMap(
      "fluent-bit-config",
      { "fluent-bit.yaml": "pipeline:\n  outputs:\n    - name: http\n      http_passwd: hunter2hunter2\n" },
      "logging",
    );
    assert.equal(noSecretLookingValues.check(fluentBit, devContext).length, 1);
  });

  it("keeps false positives low: checksums, readable names, public keys and booleans pass", () => {
    assert.equal(
      secretLookingReason(
        "checksum/secret",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      ),
      undefined,
    );
    assert.equal(secretLookingReason("token-audience", "conjur-authn-k8s-spoke-east"), undefined);
    assert.equal(
      secretLookingReason("ssh-public-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9x"),
      undefined,
    );
    assert.equal(secretLookingReason("conjur.org/secrets-destination", "file"), undefined);
    assert.equal(secretLookingReason("PASSWORD_MIN_LENGTH", "12"), undefined);
    assert.equal(secretLookingReason("enable-password-auth", "true"), undefined);
    assert.equal(looksGenerated("prometheus-federation-2024-config-v1"), false);
    assert.equal(looksGenerated(DATA_KEY), true);
  });

  it("treats Pulumi secrets as opaque rather than as secret-looking literals", () => {
    const resource = configMap("conjur-ca", { "data-key": "[secret]" });
    assert.deepEqual(noSecretLookingValues.check(resource, devContext), []);
  });
});

describe("no-secret-outside-secret-objects", () => {
  it("passes a Secret holding a Pulumi secret", () => {
    const secret = planned("kubernetes:core/v1:Secret", "hub-data-key", {
      metadata: { name: "conjur-data-key", namespace: "conjur-system" },
      type: "Opaque",
      data: wrappedSecret(DATA_KEY),
    });
    assert.deepEqual(noSecretOutsideSecretObjects.check(secret, devContext), []);
  });

  it("fails on a wrapped secret in ConfigMap data, naming the path", () => {
    const resource = configMap("conjur-config", { CONJUR_DATA_KEY: wrappedSecret(DATA_KEY) });
    const messages = noSecretOutsideSecretObjects.check(resource, devContext);
    assert.equal(messages.length, 1);
    assert.match(messages[0], /^data\.CONJUR_DATA_KEY holds a Pulumi secret, but a ConfigMap object/);
  });

  it("fails on a redacted [secret] in a Deployment env literal", () => {
    const resource = followerPod(
      (_pod, follower) => (follower.env = [{ name: "CONJUR_AUTHN_API_KEY", value: "[secret]" }]),
    );
    const messages = noSecretOutsideSecretObjects.check(resource, devContext);
    assert.equal(messages.length, 1);
    assert.match(
      messages[0],
      /^spec\.template\.spec\.containers\[0\]\.env\[0\]\.value holds a Pulumi secret/,
    );
  });

  it("ignores non-Kubernetes resources such as the provider's secret kubeconfig", () => {
    const provider = planned(
      "pulumi:providers:kubernetes",
      "hub",
      { kubeconfig: "[secret]" },
      { provider: null },
    );
    assert.deepEqual(noSecretOutsideSecretObjects.check(provider, devContext), []);
  });
});
