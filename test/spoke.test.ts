// ConjurSpoke and Tenant through the mocks: providers per cluster, the follower pod, RBAC,
// adoption and retention of tenants, phases, and the wiring back into the hub.
import { strict as assert } from "node:assert";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { providerClusters, clusterOf } from "../tools/plan-output";
import { authenticatorRbacRules } from "../components/kube";
import { evaluate, kubernetesObjects, objectNamed, ofKind, secretPaths, unwrap } from "./support/stacks";

type Json = any;

const inSpoke = (e: Evaluation, spoke: string) =>
  e.resources.filter(
    (r) => r.urn.includes(`::hubspoke:spoke:ConjurSpoke$`) && r.urn.includes(`spoke-${spoke}`),
  );

function follower(e: Evaluation, cluster: string): Json {
  return objectNamed(e, "Deployment", "conjur-follower", `k8s-${cluster}`).inputs;
}

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

  it("runs the seed fetcher as the init container, with the reference env and downward API fields", () => {
    const spec = follower(staging, "stg-payments").spec.template.spec;
    const init = spec.initContainers[0];
    assert.equal(init.name, "authenticator");
    assert.equal(init.image, "cyberark/dap-seedfetcher:0.6.1");
    const env = Object.fromEntries(init.env.map((e: Json) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(
      env.CONJUR_SEED_FILE_URL,
      "https://conjur.staging.acme.internal/configuration/acme/seed/follower",
    );
    assert.equal(env.SEEDFILE_DIR, "/tmp/seedfile");
    assert.equal(env.FOLLOWER_HOSTNAME, "conjur-follower");
    assert.equal(env.AUTHENTICATOR_ID, "payments");
    assert.equal(env.CONJUR_ACCOUNT, "acme");
    assert.equal(
      env.CONJUR_AUTHN_LOGIN,
      "host/conjur/authn-k8s/payments/apps/conjur-system/service_account/conjur-follower",
    );
    assert.deepEqual(env.CONJUR_SSL_CERTIFICATE, {
      configMapKeyRef: { name: "conjur-connect", key: "conjur-ca.pem" },
    });
    assert.deepEqual(env.MY_POD_NAME, { fieldRef: { fieldPath: "metadata.name" } });
    assert.deepEqual(env.MY_POD_NAMESPACE, { fieldRef: { fieldPath: "metadata.namespace" } });
    assert.deepEqual(env.MY_POD_IP, { fieldRef: { fieldPath: "status.podIP" } });
  });

  it("shares the seed between the two containers through a memory-backed emptyDir", () => {
    const spec = follower(staging, "stg-payments").spec.template.spec;
    const volume = spec.volumes.find((v: Json) => v.name === "seedfile");
    assert.equal(volume.emptyDir.medium, "Memory");
    for (const c of [spec.initContainers[0], spec.containers[0]]) {
      assert.ok(
        c.volumeMounts.some((m: Json) => m.name === "seedfile" && m.mountPath === "/tmp/seedfile"),
        c.name,
      );
    }
  });

  it("probes the follower's /health over HTTPS, with limits and a hardened security context on every container", () => {
    const spec = follower(prod, "prod-payments-euw1").spec.template.spec;
    const main = spec.containers[0];
    assert.deepEqual(main.readinessProbe.httpGet, { path: "/health", port: "https", scheme: "HTTPS" });
    assert.deepEqual(main.livenessProbe.httpGet, { path: "/health", port: "https", scheme: "HTTPS" });
    assert.equal(spec.securityContext.runAsNonRoot, true);
    assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault");
    for (const c of [...spec.initContainers, ...spec.containers]) {
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, c.name);
      assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"], c.name);
      assert.ok(c.resources.requests.cpu && c.resources.limits.memory, c.name);
    }
    assert.equal(follower(prod, "prod-payments-euw1").spec.replicas, 3, "replicas from the spec");
    assert.ok(spec.affinity.podAntiAffinity, "replicas spread over nodes");
  });

  it("names the follower Service as FOLLOWER_HOSTNAME and puts its FQDN in the follower certificate", () => {
    const service = objectNamed(staging, "Service", "conjur-follower", "k8s-stg-payments");
    assert.equal((service.inputs as Json).spec.ports[0].port, 443);
    const csr = staging.resources.find((r) => r.name === "pki-payments-follower-tls-csr");
    assert.ok(
      (csr?.inputs["dnsNames"] as string[]).includes("conjur-follower.conjur-system.svc.cluster.local"),
    );
    const euc1 = prod.resources.find((r) => r.name === "pki-web-euw1-follower-tls-csr");
    assert.ok(euc1, "converted spokes get a follower certificate");
  });

  it("gives every replicated follower a PodDisruptionBudget", () => {
    const pdb = objectNamed(prod, "PodDisruptionBudget", "conjur-follower", "k8s-prod-payments-euw1");
    assert.deepEqual((pdb.inputs as Json).spec.selector, {
      matchLabels: { "app.kubernetes.io/name": "conjur-follower" },
    });
  });

  it("grants the authenticator exactly the listed verbs, no wildcard, bound per tenant namespace", () => {
    for (const role of ofKind(staging, "ClusterRole")) {
      const rules = (role.inputs as Json).rules as Json[];
      for (const rule of rules) {
        for (const field of ["verbs", "resources", "apiGroups"])
          assert.ok(!rule[field].includes("*"), `${role.urn} ${field}`);
      }
      if ((role.inputs as Json).metadata.name === "hubspoke-conjur-authenticator") {
        assert.deepEqual(rules, authenticatorRbacRules());
      }
    }
    const verbs = authenticatorRbacRules().flatMap((r) => r.verbs);
    assert.deepEqual([...new Set(verbs)].sort(), ["create", "get", "list"]);
    // Argo CD's `edit` bindings (ArgoCdSpokeAccess, test/gitops.test.ts) are not the authenticator's.
    const bindings = ofKind(staging, "RoleBinding").filter(
      (b) => b.provider?.includes("k8s-stg-payments") && !b.urn.includes("ArgoCdSpokeAccess"),
    );
    const namespaces = bindings.map((b) => (b.inputs as Json).metadata.namespace).sort();
    assert.deepEqual(namespaces, ["conjur-system", "fraud", "payments"]);
    assert.equal(
      ofKind(staging, "ClusterRoleBinding").filter(
        (b) => (b.inputs as Json).roleRef?.name === "hubspoke-conjur-authenticator",
      ).length,
      0,
    );
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
    const toFollower = (egress?.inputs as Json).spec.egress.find((rule: Json) =>
      rule.to?.some(
        (peer: Json) => peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "conjur-follower",
      ),
    );
    assert.deepEqual(toFollower.ports, [{ protocol: "TCP", port: 443 }]);
  });

  it("admits the onboarded tenants to the follower on 443 (and 636) by namespace name, and lets the follower reach the primary, DNS and the API only", () => {
    const policy = objectNamed(staging, "NetworkPolicy", "conjur-follower", "k8s-stg-payments");
    const spec = (policy.inputs as Json).spec;
    assert.deepEqual(spec.ingress[0].ports, [
      { protocol: "TCP", port: 443 },
      { protocol: "TCP", port: 636 },
    ]);
    assert.deepEqual(spec.ingress[0].from[0].namespaceSelector.matchExpressions, [
      { key: "kubernetes.io/metadata.name", operator: "In", values: ["payments", "fraud"] },
    ]);
    assert.deepEqual(spec.ingress[0].from[1].namespaceSelector.matchLabels, {
      "kubernetes.io/metadata.name": "hubspoke-monitoring",
    });
    assert.deepEqual(spec.egress[0].ports, [{ protocol: "TCP", port: 443 }]);
  });

  it("keeps the data key, follower key and hub token in Secrets, the public CA in a ConfigMap", () => {
    const dataKey = objectNamed(staging, "Secret", "conjur-data-key", "k8s-stg-payments");
    assert.deepEqual(secretPaths(dataKey.inputs), ["stringData"]);
    const connect = objectNamed(staging, "ConfigMap", "conjur-connect", "k8s-stg-payments");
    assert.deepEqual(secretPaths(connect.inputs), []);
    assert.match(String((connect.inputs as Json).data["conjur-ca.pem"]), /BEGIN CERTIFICATE/);
    const token = objectNamed(staging, "Secret", "conjur-hub-authenticator-token", "k8s-stg-payments");
    assert.equal((token.inputs as Json).type, "kubernetes.io/service-account-token");
  });

  it("feeds each converted spoke's API URL, CA and token to the hub's policy-load Job as secrets", () => {
    const access = objectNamed(staging, "Secret", "authn-web-cluster", "k8s-stg-mgmt");
    assert.deepEqual(secretPaths(access.inputs), ["stringData"]);
    const data = unwrap((access.inputs as Json).stringData) as Json;
    assert.equal(data["api-url"], "https://api.stg-web.acme.internal:6443");
    assert.match(data["ca.crt"], /BEGIN CERTIFICATE/);
    assert.match(data.token, /PLACEHOLDER-token/);
    const script = (objectNamed(staging, "ConfigMap", "conjur-policy").inputs as Json).data[
      "load.sh"
    ] as string;
    for (const variable of ["api-url", "ca-cert", "service-account-token"]) {
      assert.match(script, new RegExp(`set_variable 'conjur/authn-k8s/web/kubernetes/${variable}'`));
    }
  });

  it("lists exactly the converted spokes in the hub's authenticators and policy", () => {
    assert.deepEqual(prod.outputs["authenticatorIds"], ["hub", "payments-euw1", "web-euw1"]);
    const policy = String(prod.outputs["conjurPolicy"]);
    assert.match(policy, /conjur\/authn-k8s\/web-euw1/);
    assert.doesNotMatch(policy, /web-euc1/);
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
