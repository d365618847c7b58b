// ConjurHub, the PKI and the secrets, through the mocks: providers, secrecy, env wiring, Jobs.
import { strict as assert } from "node:assert";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { isIrreplaceable } from "../policy/rules/protection";
import {
  asOpenSource,
  evaluate,
  kubernetesObjects,
  objectNamed,
  ofKind,
  plainJson,
  secretPaths,
  unwrap,
} from "./support/stacks";

type Json = any;

const container = (r: RecordedResource, name: string): Json =>
  (r.inputs as Json).spec.template.spec.containers.find((c: Json) => c.name === name);

const env = (c: Json, name: string): Json => c.env.find((e: Json) => e.name === name);

describe("hub through the mocks", () => {
  let staging: Evaluation;
  let prod: Evaluation;
  let prodEnterprise: Evaluation;
  before(async () => {
    // The Open Source hub (the primary, Postgres, bootstrap) on the staging and prod topologies.
    staging = await evaluate("staging", asOpenSource);
    prod = await evaluate("prod", asOpenSource);
    prodEnterprise = await evaluate("prod");
  });

  it("puts every hub Kubernetes object on the hub cluster's explicit provider", () => {
    const hubObjects = kubernetesObjects(staging).filter((r) => r.urn.includes("hubspoke:hub:ConjurHub$"));
    assert.ok(hubObjects.length > 20);
    for (const r of hubObjects) {
      assert.match(
        r.provider ?? "",
        /pulumi:providers:kubernetes::k8s-stg-mgmt::/,
        `${r.urn} has provider ${r.provider}`,
      );
    }
  });

  it("disables nothing by accident: every Kubernetes resource in every stack names a provider", async () => {
    for (const e of [staging, prod, await evaluate("dev")]) {
      const missing = kubernetesObjects(e).filter(
        (r) => !r.provider?.includes("pulumi:providers:kubernetes"),
      );
      assert.deepEqual(
        missing.map((r) => r.urn),
        [],
      );
    }
  });

  it("gives each provider a stable clusterIdentifier equal to the cluster's name", () => {
    const providers = staging.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
    assert.deepEqual(
      providers.map((p) => [p.name, p.inputs["clusterIdentifier"]]),
      [
        ["k8s-stg-mgmt", "stg-mgmt"],
        ["k8s-stg-payments", "stg-payments"],
        ["k8s-stg-web", "stg-web"],
      ],
    );
  });

  it("builds EKS providers from the cluster lookup with an exec token, not a stored credential", () => {
    const provider = prod.resources.find((r) => r.name === "k8s-prod-mgmt");
    const kubeconfig = JSON.parse(String(unwrap(provider?.inputs["kubeconfig"])));
    assert.equal(kubeconfig.users[0].user.exec.command, "aws");
    assert.deepEqual(kubeconfig.users[0].user.exec.args.slice(0, 2), ["eks", "get-token"]);
    assert.ok(kubeconfig.users[0].user.exec.args.includes("prod-mgmt"));
  });

  it("keeps generated secrets in Secret objects only: no other resource input holds a secret", () => {
    const leaks = kubernetesObjects(staging)
      .filter((r) => !r.type.endsWith(":Secret"))
      .flatMap((r) => secretPaths(r.inputs).map((p) => `${r.urn}: ${p}`));
    assert.deepEqual(leaks, []);
  });

  it("marks the data key, passwords and private keys secret inside their Secrets", () => {
    for (const name of [
      "conjur-data-key",
      "conjur-admin",
      "conjur-database",
      "conjur-primary-tls",
      "authn-hub-ca",
    ]) {
      const secret = objectNamed(staging, "Secret", name, "k8s-stg-mgmt");
      assert.deepEqual(secretPaths(secret.inputs), ["stringData"], name);
    }
  });

  it("creates the data key once as 32 random bytes with no keepers, protected in prod only", () => {
    for (const [e, protect] of [
      [staging, false],
      [prod, true],
    ] as const) {
      const key = e.resources.filter((r) => r.type === "random:index/randomBytes:RandomBytes");
      assert.equal(key.length, 1);
      assert.equal(key[0].inputs["length"], 32);
      assert.equal(key[0].inputs["keepers"], undefined);
      assert.equal(key[0].options.protect, protect);
    }
  });

  it("protects every CA's key and certificate in prod, and the policy pack recognises each as irreplaceable", () => {
    const caParts = [prod, prodEnterprise].flatMap((e) =>
      e.resources.filter((r) => r.urn.includes("hubspoke:pki:CertificateAuthority$")),
    );
    // Open Source: the root and authn-k8s/hub CAs; Enterprise: the root and one authn-k8s CA per spoke.
    assert.equal(caParts.length, 2 * 2 + 2 * 3);
    for (const r of caParts) {
      assert.ok(r.options.protect, `${r.urn} is not protected`);
      assert.ok(isIrreplaceable(r), `${r.urn} escapes the irreplaceable-protected rule`);
    }
    const dataKey = prod.resources.find((r) => r.type === "random:index/randomBytes:RandomBytes");
    assert.ok(dataKey && isIrreplaceable(dataKey));
  });

  it("issues authenticator CAs with CA:TRUE and cert signing, and server certificates for server auth", () => {
    const cas = prod.resources.filter((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert");
    assert.equal(cas.length, 1 + 1, "root CA and the hub authenticator CA (spokes use authn-jwt)");
    const enterpriseCas = prodEnterprise.resources.filter(
      (r) => r.type === "tls:index/selfSignedCert:SelfSignedCert",
    );
    assert.equal(
      enterpriseCas.length,
      1 + 2,
      "root CA and one authn-k8s CA per spoke (its follower serves it)",
    );
    for (const ca of cas) {
      assert.equal(ca.inputs["isCaCertificate"], true);
      assert.ok((ca.inputs["allowedUses"] as string[]).includes("cert_signing"));
    }
    const primary = prod.resources.find((r) => r.name === "pki-primary-tls-csr");
    assert.deepEqual((primary?.inputs["dnsNames"] as string[]).slice(0, 3), [
      "conjur.acme.com",
      "conjur.eu-west-1.acme.com",
      "conjur-primary",
    ]);
    assert.ok(
      (primary?.inputs["dnsNames"] as string[]).includes("conjur-primary.conjur-system.svc.cluster.local"),
    );
  });

  it("wires the primary's env from Secrets and lists exactly the hub and converted spokes' authenticators", () => {
    const primary = objectNamed(prod, "StatefulSet", "conjur-primary");
    const conjur = container(primary, "conjur");
    assert.deepEqual(env(conjur, "CONJUR_DATA_KEY").valueFrom, {
      secretKeyRef: { name: "conjur-data-key", key: "key" },
    });
    assert.deepEqual(env(conjur, "DATABASE_URL").valueFrom, {
      secretKeyRef: { name: "conjur-database", key: "url" },
    });
    assert.equal(env(conjur, "CONJUR_ACCOUNT").value, "acme");
    // web-euc1 is phase 3, beyond prod's conversion.phase 2; authn-jwt serves External Secrets.
    assert.equal(
      env(conjur, "CONJUR_AUTHENTICATORS").value,
      "authn,authn-k8s/hub,authn-jwt/payments-euw1,authn-jwt/web-euw1",
    );
    for (const e of conjur.env)
      assert.ok(e.value === undefined || !/PLACEHOLDER/.test(e.value), `${e.name} holds a literal secret`);
  });

  it("fronts Conjur with nginx on TLS using the generated certificate, with probes and limits on both containers", () => {
    const primary = objectNamed(staging, "StatefulSet", "conjur-primary");
    const spec = (primary.inputs as Json).spec.template.spec;
    const tlsVolume = spec.volumes.find((v: Json) => v.name === "tls");
    assert.equal(tlsVolume.secret.secretName, "conjur-primary-tls");
    for (const c of spec.containers) {
      assert.ok(c.readinessProbe && c.livenessProbe, `${c.name} probes`);
      assert.ok(c.resources.limits.cpu && c.resources.limits.memory, `${c.name} limits`);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
    }
    assert.equal(container(primary, "nginx").readinessProbe.httpGet.scheme, "HTTPS");
  });

  it("exposes the primary on 443 in-cluster and through a LoadBalancer that keeps client addresses", () => {
    const internal = objectNamed(staging, "Service", "conjur-primary");
    assert.equal((internal.inputs as Json).spec.type, "ClusterIP");
    const external = objectNamed(staging, "Service", "conjur-primary-external");
    assert.equal((external.inputs as Json).spec.type, "LoadBalancer");
    assert.equal((external.inputs as Json).spec.externalTrafficPolicy, "Local");
    assert.deepEqual((external.inputs as Json).spec.ports[0].port, 443);
    // dev asks for ClusterIP only.
    return evaluate("dev").then((dev) =>
      assert.equal(
        ofKind(dev, "Service").filter((s) => (s.inputs as Json).metadata.name === "conjur-primary-external")
          .length,
        0,
      ),
    );
  });

  it("runs Postgres with a persistent claim and TLS, reached with sslmode=verify-full", () => {
    const postgres = objectNamed(prod, "StatefulSet", "conjur-postgres");
    const claim = (postgres.inputs as Json).spec.volumeClaimTemplates[0];
    assert.equal(claim.spec.resources.requests.storage, "50Gi");
    assert.equal(claim.spec.storageClassName, "gp3");
    assert.ok(container(postgres, "postgres").args.includes("ssl=on"));
    const url = String(
      (unwrap((objectNamed(prod, "Secret", "conjur-database").inputs as Json).stringData) as Json).url,
    );
    assert.match(url, /sslmode=verify-full/);
  });

  it("loads the base policy, then one Job per spoke after it, each named after what it loads", async () => {
    const loadJobs = (e: Evaluation) =>
      ofKind(e, "Job").filter((j) => (j.inputs as Json).metadata.name.startsWith("conjur-policy-load-"));
    /** Job name by load: "" for the base, the spoke's name otherwise. */
    const loadNames = (e: Evaluation) =>
      Object.fromEntries(
        loadJobs(e).map((j) => {
          const jobName = (j.inputs as Json).metadata.name as string;
          const load = /^conjur-policy-load-(?:(.+)-)?[0-9a-f]{10}$/.exec(jobName);
          assert.ok(load, jobName);
          return [load[1] ?? "", jobName];
        }),
      );
    const bootstrapName = (e: Evaluation) =>
      ofKind(e, "Job")
        .map((j) => (j.inputs as Json).metadata.name as string)
        .find((n) => n.startsWith("conjur-bootstrap-"));
    const before = loadNames(staging);
    assert.deepEqual(Object.keys(before).sort(), ["", "payments", "web"]);
    const base = loadJobs(staging).find((j) => (j.inputs as Json).metadata.name === before[""]);
    for (const job of loadJobs(staging).filter((j) => j !== base)) {
      assert.deepEqual(
        job.options.dependsOn.filter((u) => u.includes("batch/v1:Job")),
        [base?.urn],
        job.urn,
      );
    }
    assert.deepEqual(loadNames(await evaluate("staging", asOpenSource)), before, "same inputs, same Jobs");

    const withApp = await evaluate("staging", (c: Json) => {
      asOpenSource(c);
      c["hubspoke:spokes"][0].tenants[0].applications.push({
        name: "refunds",
        serviceAccount: "refunds",
        secrets: ["key"],
      });
    });
    const after = loadNames(withApp);
    assert.notEqual(after["payments"], before["payments"], "a spoke's policy change re-runs its load");
    assert.equal(after["web"], before["web"], "another spoke's load does not re-run");
    assert.equal(after[""], before[""], "the base load does not re-run");
    assert.equal(
      bootstrapName(withApp),
      bootstrapName(staging),
      "bootstrap does not re-run for a policy change",
    );
    const policy = (objectNamed(withApp, "ConfigMap", "conjur-policy-payments").inputs as Json).data[
      "policy.yml"
    ] as string;
    assert.match(policy, /!variable refunds\/key/);
  });

  it("has each load set its authenticators' CA variables from mounted Secrets", () => {
    const script = (e: Evaluation, configMap: string) =>
      (objectNamed(e, "ConfigMap", configMap).inputs as Json).data["load.sh"] as string;
    // Enterprise: each spoke's authn-k8s CA is set on the Leader by that spoke's load; the Leader
    // replicates it to the follower.
    for (const id of ["payments-euw1", "web-euw1"]) {
      const leaderScript = script(prodEnterprise, `conjur-policy-${id}`);
      assert.match(
        leaderScript,
        new RegExp(`set_variable 'conjur/authn-k8s/${id}/ca/key' '/secrets/authn-${id}-ca/ca.key'`),
      );
      const authenticators = [...leaderScript.matchAll(/set_variable 'conjur\/authn-k8s\/([^/]+)\//g)].map(
        (m) => m[1],
      );
      assert.deepEqual([...new Set(authenticators)], [id], "a spoke's load sets its own authenticator only");
    }
    assert.doesNotMatch(script(prodEnterprise, "conjur-policy"), /authn-k8s|set_variable '/);
    const base = script(staging, "conjur-policy");
    assert.match(base, /set_variable 'conjur\/authn-k8s\/hub\/ca\/cert' '\/secrets\/authn-hub-ca\/ca.crt'/);
    assert.match(base, /set_variable 'conjur\/authn-k8s\/hub\/ca\/key' '\/secrets\/authn-hub-ca\/ca.key'/);
    assert.doesNotMatch(base, /PLACEHOLDER|authn-jwt/);
  });

  it("denies all traffic in conjur-system by default and admits the spokes' CIDRs to the primary on the TLS port only", () => {
    const policies = ofKind(staging, "NetworkPolicy").filter((r) => r.urn.includes("ConjurHub"));
    const deny = policies.find((p) => (p.inputs as Json).metadata.name === "default-deny");
    assert.deepEqual((deny?.inputs as Json).spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const primary = policies.find((p) => (p.inputs as Json).metadata.name === "conjur-primary");
    const ingress = (primary?.inputs as Json).spec.ingress;
    assert.equal(ingress.length, 1);
    assert.deepEqual(ingress[0].ports, [{ protocol: "TCP", port: 9443 }]);
    const cidrs = ingress[0].from.filter((f: Json) => f.ipBlock).map((f: Json) => f.ipBlock.cidr);
    assert.deepEqual(cidrs, ["10.110.0.0/16", "10.120.0.0/16"]);
    const postgres = policies.find((p) => (p.inputs as Json).metadata.name === "conjur-postgres");
    assert.deepEqual((postgres?.inputs as Json).spec.ingress[0].ports, [{ protocol: "TCP", port: 5432 }]);
  });

  it("exports the hub URL, CA and policy in clear, and the data key, admin password and recovery kit only as secrets", () => {
    const o = staging.outputs;
    assert.equal(o["hubUrl"], "https://conjur.staging.acme.internal");
    assert.match(String(o["caCertificate"]), /BEGIN CERTIFICATE/);
    assert.equal(o["conjurEdition"], "oss");
    assert.equal(o["conjurAuthenticators"], "authn,authn-k8s/hub,authn-jwt/payments,authn-jwt/web");
    assert.match(String(o["conjurPolicy"]), /conjur\/authn-jwt\/web/);
    assert.deepEqual(secretPaths(o).sort(), ["adminPassword", "dataKey", "recoveryKit"]);
    assert.doesNotMatch(
      plainJson({ ...o, dataKey: null, adminPassword: null, recoveryKit: null }),
      /PLACEHOLDER-password|PRIVATE KEY/,
    );
  });
});
