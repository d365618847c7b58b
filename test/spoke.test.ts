// ConjurSpoke and Tenant through the mocks: providers per cluster, the follower pod, RBAC,
// adoption and retention of tenants, phases, and the wiring back into the hub.
import { strict as assert } from "node:assert";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { clusterOf, plannedResources, providerClusters } from "../tools/plan-output";
import { authenticatorRbacRules } from "../components/kube";
import * as YAML from "yaml";
import { validateCustomResource } from "./support/crd-schema";
import { evaluate as evaluatePolicy, stackContextFor } from "../policy/engine";
import { evaluate, kubernetesObjects, objectNamed, ofKind, secretPaths } from "./support/stacks";

const kindOf = (r: RecordedResource) => r.type.slice(r.type.lastIndexOf(":") + 1);

type Json = any;

const inSpoke = (e: Evaluation, spoke: string) =>
  e.resources.filter(
    (r) => r.urn.includes(`::hubspoke:spoke:ConjurSpoke$`) && r.urn.includes(`spoke-${spoke}`),
  );

describe("spokes through the mocks", () => {
  let staging: Evaluation;
  let prod: Evaluation;
  before(async () => {
    staging = await evaluate("staging");
    prod = await evaluate("prod");
  });

  it("puts every Kubernetes object on the provider of its own cluster", () => {
    for (const e of [staging, prod]) {
      const providers = providerClusters(e.resources);
      for (const r of kubernetesObjects(e)) {
        const cluster = clusterOf(r, providers);
        assert.ok(cluster, `${r.urn} has no cluster`);
        if (r.urn.includes("hubspoke:spoke:ConjurSpoke")) {
          const name = r.urn.slice(r.urn.lastIndexOf("::") + 2);
          const clusterOfSpoke: Record<string, string> =
            e === staging
              ? { payments: "stg-payments", web: "stg-web" }
              : { "payments-euw1": "prod-payments-euw1", "web-euw1": "prod-web-euw1" };
          const owner = Object.keys(clusterOfSpoke).find((s) => name.startsWith(`spoke-${s}-`));
          assert.ok(owner, `${r.urn} belongs to no spoke`);
          assert.equal(cluster, clusterOfSpoke[owner], r.urn);
        }
      }
    }
  });

  it("registers nothing for a spoke beyond the conversion phase", () => {
    assert.equal(inSpoke(prod, "web-euc1").length, 0);
    assert.ok(!prod.resources.some((r) => r.name === "k8s-prod-web-euc1"), "no provider either");
    assert.ok(!prod.resources.some((r) => r.name.includes("web-euc1")), "no certificates either");
    assert.deepEqual(prod.outputs["pendingSpokes"], [{ name: "web-euc1", phase: 3 }]);
  });

  it("adopts existing tenant namespaces with a patch of the stage's labels only, released (not retained) on delete", () => {
    const patch = ofKind(staging, "NamespacePatch").find(
      (r) => (r.inputs as Json).metadata.name === "payments",
    ) as RecordedResource;
    assert.ok(patch, "payments is patched, not created");
    assert.ok(!patch.options.retainOnDelete, "destroy releases the labels");
    const labels = (patch.inputs as Json).metadata.labels;
    assert.equal(
      labels["pod-security.kubernetes.io/enforce"],
      undefined,
      "an adopted namespace keeps its enforce label",
    );
    assert.equal(labels["pod-security.kubernetes.io/audit"], "restricted");
    assert.equal(labels["pod-security.kubernetes.io/warn-version"], "v1.33");
    assert.equal(labels["hubspoke.io/tenant"], "payments");
    assert.equal(labels["app.kubernetes.io/part-of"], undefined, "tenants often carry their own part-of");
    assert.deepEqual((patch.inputs as Json).metadata.annotations, {
      "hubspoke.io/network-isolation": "observe",
    });
    assert.ok(
      !ofKind(staging, "Namespace").some((r) => (r.inputs as Json).metadata.name === "payments"),
      "never a Namespace it would own",
    );
  });

  it("imports a tenant namespace when asked, declaring only its name, and retains it", () => {
    const imported = ofKind(prod, "Namespace").find(
      (r) => (r.inputs as Json).metadata.name === "payments",
    ) as RecordedResource;
    assert.equal(imported.options.import, "payments");
    assert.equal(imported.options.retainOnDelete, true);
    assert.deepEqual((imported.inputs as Json).metadata, { name: "payments" });
  });

  it("creates a new tenant namespace when it does not exist, restricted and enforced, and retains it on delete", () => {
    const created = ofKind(staging, "Namespace").find(
      (r) => (r.inputs as Json).metadata.name === "fraud",
    ) as RecordedResource;
    assert.equal(created.options.import, undefined);
    assert.equal(created.options.retainOnDelete, true);
    assert.equal(
      (created.inputs as Json).metadata.labels["pod-security.kubernetes.io/enforce"],
      "restricted",
    );
    assert.equal((created.inputs as Json).metadata.annotations["hubspoke.io/network-isolation"], "enforce");
  });

  it("gives each tenant its quota, and isolation only at the enforce stage, with a route to its follower", () => {
    const quota = objectNamed(staging, "ResourceQuota", "hubspoke-quota");
    assert.deepEqual((quota.inputs as Json).spec.hard, {
      "requests.cpu": "32",
      "requests.memory": "64Gi",
      pods: "60",
    });
    const policiesIn = (e: Evaluation, namespace: string) =>
      ofKind(e, "NetworkPolicy").filter((p) => (p.inputs as Json).metadata.namespace === namespace);
    assert.deepEqual(policiesIn(staging, "payments"), [], "observe renders no policy at all");
    const storefront = policiesIn(staging, "storefront");
    assert.deepEqual(storefront.map((p) => (p.inputs as Json).metadata.name).sort(), [
      "hubspoke-allow-egress",
      "hubspoke-allow-ingress",
      "hubspoke-default-deny",
    ]);
    const deny = storefront.find((p) => (p.inputs as Json).metadata.name === "hubspoke-default-deny");
    assert.deepEqual((deny?.inputs as Json).spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const egress = storefront.find((p) => (p.inputs as Json).metadata.name === "hubspoke-allow-egress");
    // Enterprise: to the follower's pods (the only ones in conjur-system), on the port they listen on.
    const toFollower = (egress?.inputs as Json).spec.egress.find((rule: Json) =>
      rule.to?.some(
        (peer: Json) =>
          peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "conjur-system",
      ),
    );
    assert.deepEqual(toFollower.ports, [{ protocol: "TCP", port: 9443 }]);
  });

  it("adding a tenant to a spoke changes no existing URN", async () => {
    const grown = await evaluate("staging", (c: Json) => {
      c["hubspoke:spokes"][1].tenants.push({ name: "search", existing: false, applications: [] });
    });
    const after = new Set(grown.resources.map((r) => r.urn));
    assert.deepEqual(
      staging.resources.map((r) => r.urn).filter((u) => !after.has(u)),
      [],
    );
    assert.ok(grown.resources.some((r) => r.urn.endsWith("::spoke-web-tenant-search")));
  });
});

// ---- Conjur topology per edition ----

const LEADER_URL = "https://conjur-leader.staging.acme.com";

describe("the Conjur topology on the spokes", () => {
  let dev: Evaluation;
  let staging: Evaluation;
  let appliance: Evaluation;
  before(async () => {
    dev = await evaluate("dev");
    staging = await evaluate("staging");
    appliance = await evaluate("staging", (c: Json) => {
      c["hubspoke:conjur"].follower = { kind: "appliance" };
      c["hubspoke:images"] = { appliance: "registry.acme.internal/cyberark/conjur-appliance:13.5.0" };
    });
  });

  describe("Open Source (dev): no follower, applications go to the hub with authn-jwt", () => {
    it("puts no follower and no Conjur secret on the spoke: conjur-system holds only a default deny and the audit policy", () => {
      const spokeObjects = kubernetesObjects(dev).filter((r) => r.provider?.includes("k8s-dev-apps"));
      assert.ok(spokeObjects.length > 10);
      const names = spokeObjects.map((r) => `${kindOf(r)} ${(r.inputs as Json).metadata?.name}`);
      assert.ok(!names.some((n) => /follower|ConjurFollower/.test(n)), names.join("\n"));
      assert.ok(!names.some((n) => /^Secret .*conjur/.test(n)), "no data key or hub secret on a spoke");
      const inConjurSystem = spokeObjects
        .filter((r) => (r.inputs as Json).metadata?.namespace === "conjur-system")
        .map((r) => `${kindOf(r)} ${(r.inputs as Json).metadata.name}`)
        .sort();
      assert.deepEqual(inConjurSystem, ["ConfigMap hubspoke-audit-policy", "NetworkPolicy default-deny"]);
    });

    it("gives the onboarded tenant the hub's URL, its authn-jwt endpoint and the estate CA", () => {
      const connect = objectNamed(dev, "ConfigMap", "hubspoke-conjur-connect", "k8s-dev-apps");
      const data = (connect.inputs as Json).data;
      assert.equal(data.CONJUR_APPLIANCE_URL, "https://conjur.dev.acme.internal");
      assert.equal(data.CONJUR_AUTHN_URL, "https://conjur.dev.acme.internal/authn-jwt/apps");
      assert.equal(data.CONJUR_ACCOUNT, "acme");
      assert.match(String(data.CONJUR_SSL_CERTIFICATE), /BEGIN CERTIFICATE/);
      assert.deepEqual(secretPaths(connect.inputs), []);
    });

    it("routes the enforced tenant's egress to the hub on 443, and binds no authn-k8s role", () => {
      const egress = objectNamed(dev, "NetworkPolicy", "hubspoke-allow-egress", "k8s-dev-apps");
      const rule = (egress.inputs as Json).spec.egress.find((r: Json) => r.to?.some((p: Json) => p.ipBlock));
      assert.deepEqual(rule.ports, [{ protocol: "TCP", port: 443 }]);
      assert.ok(
        !ofKind(dev, "RoleBinding").some(
          (r) => (r.inputs as Json).metadata.name === "hubspoke-conjur-authenticator",
        ),
      );
    });

    it("lets Conjur read the cluster's JWKS anonymously (issuer discovery only) and hands the hub its URL and CA", () => {
      const binding = objectNamed(
        dev,
        "ClusterRoleBinding",
        "hubspoke-service-account-issuer-discovery",
        "k8s-dev-apps",
      );
      assert.deepEqual((binding.inputs as Json).roleRef.name, "system:service-account-issuer-discovery");
      assert.deepEqual((binding.inputs as Json).subjects, [
        { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:unauthenticated" },
      ]);
      // The spoke's own load on the hub carries its authn-jwt settings (public values only).
      const jwt = (objectNamed(dev, "ConfigMap", "conjur-policy-apps", "k8s-dev-hub").inputs as Json).data;
      assert.equal(jwt["authn-jwt.jwks-uri"], "https://dev-apps-control-plane:6443/openid/v1/jwks");
      assert.equal(jwt["authn-jwt.issuer"], "https://kubernetes.default.svc.cluster.local");
      assert.equal(jwt["authn-jwt.audience"], "https://conjur.dev.acme.internal");
      assert.equal(jwt["authn-jwt.identity-path"], "conjur/authn-jwt/apps/apps");
      assert.match(String(jwt["authn-jwt.ca-cert"]), /BEGIN CERTIFICATE/);
      const script = jwt["load.sh"];
      for (const variable of [
        "jwks-uri",
        "ca-cert",
        "issuer",
        "token-app-property",
        "identity-path",
        "audience",
      ])
        assert.match(
          script,
          new RegExp(`set_variable 'conjur/authn-jwt/apps/${variable}' '/policy/authn-jwt.${variable}'`),
        );
      assert.doesNotMatch(script, /kubernetes\/(api-url|service-account-token)/);
    });
  });

  describe("Enterprise, Kubernetes Follower (staging)", () => {
    it("renders one ConjurFollower per converted spoke that the operator's CRD schema accepts", () => {
      const followers = ofKind(staging, "ConjurFollower");
      assert.equal(followers.length, 2);
      for (const f of followers) {
        const { apiVersion, kind, metadata, spec } = f.inputs as Json;
        assert.deepEqual(validateCustomResource({ apiVersion, kind, metadata, spec }), []);
      }
    });

    it("seeds from the Leader with authn-jwt/<spoke>, the Leader's CA and an audience of the Leader's URL", () => {
      const spec = (
        objectNamed(staging, "ConjurFollower", "conjur-follower", "k8s-stg-payments").inputs as Json
      ).spec;
      assert.deepEqual(spec.master, {
        hostname: "conjur-leader.staging.acme.com",
        account: "acme",
        authentication: "authn-jwt",
        audience: LEADER_URL,
        authenticatorID: "payments",
        caCertificateFrom: { configMapKeyRef: { name: "conjur-connect", key: "conjur-ca.pem" } },
      });
      assert.deepEqual(spec.resourceNames, {
        deployment: "conjur-follower",
        service: "conjur-follower",
        serviceAccount: "conjur-follower",
      });
      assert.equal(
        spec.images.conjur,
        "registry.acme.internal/cyberark/conjur-kubernetes-follower-conjur:2.6.0",
      );
      for (const container of [
        "configurator",
        "conjur",
        "nginx",
        "postgres",
        "syslogNg",
        "info",
        "failoverRebaser",
      ]) {
        assert.equal(spec.securityContext[container].runAsNonRoot, true, container);
        assert.deepEqual(spec.securityContext[container].capabilities, { drop: ["ALL"] }, container);
      }
      const config = (
        objectNamed(staging, "ConfigMap", "conjur-follower-config", "k8s-stg-payments").inputs as Json
      ).data;
      assert.deepEqual(YAML.parse(config["conjur.yml"]), {
        authenticators: ["authn", "authn-k8s/payments", "authn-jwt/payments"],
      });
      const connect = (objectNamed(staging, "ConfigMap", "conjur-connect", "k8s-stg-payments").inputs as Json)
        .data;
      assert.match(connect["conjur-ca.pem"], /BEGIN CERTIFICATE/);
      const ns = objectNamed(staging, "Namespace", "conjur-system", "k8s-stg-payments");
      assert.equal((ns.inputs as Json).metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    });

    it("lets the follower reach the Leader on 443, 5432 and 1999 only, and admits onboarded tenants on 9443", () => {
      const spec = (
        objectNamed(staging, "NetworkPolicy", "conjur-follower", "k8s-stg-payments").inputs as Json
      ).spec;
      assert.deepEqual(spec.podSelector, {});
      assert.deepEqual(spec.egress[1], {
        to: [{ ipBlock: { cidr: "10.250.0.0/24" } }],
        ports: [
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 5432 },
          { protocol: "TCP", port: 1999 },
        ],
      });
      assert.deepEqual(spec.ingress[0].ports, [{ protocol: "TCP", port: 9443 }]);
      assert.deepEqual(spec.ingress[0].from[0].namespaceSelector.matchExpressions, [
        { key: "kubernetes.io/metadata.name", operator: "In", values: ["payments", "fraud"] },
      ]);
    });

    it("holds no secret on the spoke, and binds the follower's authn-k8s role in each onboarded tenant", () => {
      const spokeSecrets = kubernetesObjects(staging).filter(
        (r) => kindOf(r) === "Secret" && r.urn.includes("hubspoke:spoke:ConjurSpoke"),
      );
      assert.deepEqual(
        spokeSecrets.map((r) => r.urn),
        [],
      );
      const bindings = ofKind(staging, "RoleBinding").filter(
        (r) => (r.inputs as Json).metadata.name === "hubspoke-conjur-authenticator",
      );
      assert.ok(bindings.length >= 2);
      for (const b of bindings) {
        assert.deepEqual((b.inputs as Json).subjects, [
          { kind: "ServiceAccount", name: "conjur-follower", namespace: "conjur-system" },
        ]);
      }
      const role = objectNamed(staging, "ClusterRole", "hubspoke-conjur-authenticator", "k8s-stg-payments");
      assert.deepEqual((role.inputs as Json).rules, authenticatorRbacRules());
    });

    it("enables each spoke's authn-jwt on the Leader through its API and loads the policy there", () => {
      const data = (configMap: string) =>
        (objectNamed(staging, "ConfigMap", configMap, "k8s-stg-mgmt").inputs as Json).data;
      assert.match(data("conjur-policy")["load.sh"], new RegExp(`URL='${LEADER_URL}'`));
      assert.doesNotMatch(data("conjur-policy")["load.sh"], /enable_authenticator '/);
      for (const spoke of ["payments", "web"]) {
        const script = data(`conjur-policy-${spoke}`)["load.sh"];
        assert.match(script, new RegExp(`URL='${LEADER_URL}'`));
        const enabled = [...script.matchAll(/^enable_authenticator '(.+)'$/gm)].map((m: string[]) => m[1]);
        assert.deepEqual(enabled, [`authn-jwt/${spoke}`], "each spoke's load enables its own authenticator");
        assert.match(script, /--request PATCH --data 'enabled=true' "\$URL\/\$1\/\$ACCOUNT"/);
      }
      assert.equal(
        data("conjur-policy")["bootstrap.sh"],
        undefined,
        "no account bootstrap: the Leader has its account",
      );
      assert.equal(staging.outputs["conjurEdition"], "enterprise");
      assert.equal(staging.outputs["conjurAuthenticators"], "authn,authn-jwt/payments,authn-jwt/web");
    });
  });

  describe("Enterprise, appliance follower (staging with follower.kind appliance)", () => {
    const pod = () =>
      (objectNamed(appliance, "Deployment", "conjur-follower", "k8s-stg-payments").inputs as Json).spec
        .template.spec;

    it("fetches the seed with authn-jwt into writable memory volumes, as CyberArk's manifests do", () => {
      const init = pod().initContainers[0];
      assert.equal(init.name, "authenticator");
      assert.equal(init.image, "cyberark/dap-seedfetcher:0.3.0");
      const env = Object.fromEntries(init.env.map((e: Json) => [e.name, e.value ?? e.valueFrom]));
      assert.equal(
        env.CONJUR_SEED_FILE_URL,
        "https://conjur-leader.staging.acme.com/configuration/acme/seed/follower",
      );
      assert.equal(env.FOLLOWER_HOSTNAME, "conjur-follower");
      assert.equal(env.AUTHENTICATOR, "authn-jwt");
      assert.equal(env.AUTHENTICATOR_ID, "payments");
      assert.equal(env.JWT_TOKEN_PATH, "/var/run/secrets/tokens/jwt");
      assert.equal(env.SEEDFILE_DIR, "/tmp/seedfile");
      assert.deepEqual(env.MY_POD_NAME, { fieldRef: { fieldPath: "metadata.name" } });
      const mounts = init.volumeMounts.map((m: Json) => m.mountPath).sort();
      assert.deepEqual(mounts, [
        "/etc/conjur/ssl",
        "/run/conjur",
        "/tmp",
        "/tmp/seedfile",
        "/var/run/secrets/tokens",
      ]);
      const token = pod().volumes.find((v: Json) => v.name === "jwt-token");
      assert.equal(token.projected.sources[0].serviceAccountToken.audience, LEADER_URL);
      for (const name of ["seedfile", "conjur-token", "conjur-ssl"]) {
        assert.equal(pod().volumes.find((v: Json) => v.name === name).emptyDir.medium, "Memory", name);
      }
    });

    it("starts the appliance with start-follower.sh, as root with AUDIT_WRITE, in a baseline namespace", () => {
      const main = pod().containers[0];
      assert.deepEqual(main.command, ["/tmp/seedfile/start-follower.sh"]);
      assert.equal(main.securityContext.runAsUser, 0);
      assert.deepEqual(main.securityContext.capabilities, { add: ["AUDIT_WRITE"] });
      assert.deepEqual(main.readinessProbe.httpGet, { path: "/health", port: "https", scheme: "HTTPS" });
      const env = Object.fromEntries(main.env.map((e: Json) => [e.name, e.value]));
      assert.equal(env.CONJUR_AUTHENTICATORS, "authn,authn-k8s/payments,authn-jwt/payments");
      assert.deepEqual(main.volumeMounts, [{ name: "seedfile", mountPath: "/tmp/seedfile", readOnly: true }]);
      const ns = objectNamed(appliance, "Namespace", "conjur-system", "k8s-stg-payments");
      assert.equal((ns.inputs as Json).metadata.labels["pod-security.kubernetes.io/enforce"], "baseline");
      const policy = (
        objectNamed(appliance, "NetworkPolicy", "conjur-follower", "k8s-stg-payments").inputs as Json
      ).spec;
      assert.deepEqual(policy.ingress[0].ports, [{ protocol: "TCP", port: 443 }]);
    });

    it("passes the policy pack: the appliance's root and AUDIT_WRITE are declared exemptions, nothing else", () => {
      const violations = evaluatePolicy(plannedResources(appliance), stackContextFor("staging"));
      assert.deepEqual(
        violations.filter((v) => v.level === "mandatory").map((v) => `${v.rule} ${v.message}`),
        [],
      );
    });
  });
});
