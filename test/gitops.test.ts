// Argo CD registration: the pure builders (cluster Secret data, AppProject, ApplicationSet), what the
// stacks register (one cluster Secret per converted spoke, none for a pending one, credentials by
// cluster kind, least-privilege RBAC), URN stability as spokes and tenants are added, and bad input.
import { strict as assert } from "node:assert";
import {
  applicationSetSpec,
  appProjectSpec,
  ARGOCD_SECRET_TYPE_LABEL,
  clusterConfigJson,
  clusterSecretData,
  clusterSecretLabels,
  projectDestinations,
} from "../components/gitops/argocd";
import type { ArgoCdSpec } from "../stacks/gitops";
import { configErrorsFor, expectConfigError } from "./support/config-errors";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { evaluate, objectNamed, ofKind, secretPaths, unwrap } from "./support/stacks";

type Json = any;

const ARGOCD: ArgoCdSpec = {
  namespace: "argocd",
  access: "tenants",
  repoURL: "https://git.example/platform.git",
  targetRevision: "main",
  path: "spokes",
};
const SPOKE = { name: "payments", region: "eu-west-1", phase: 1, tenants: ["payments", "fraud"] };

describe("Argo CD builders", () => {
  it("writes bearer-token credentials with the cluster CA and TLS verified", () => {
    const config = JSON.parse(clusterConfigJson({ kind: "bearer-token", token: "t0k" }, "Q0E="));
    assert.deepEqual(config, { bearerToken: "t0k", tlsClientConfig: { insecure: false, caData: "Q0E=" } });
  });

  it("writes awsAuthConfig (cluster name and role ARN) for EKS, with no token", () => {
    const config = JSON.parse(
      clusterConfigJson(
        { kind: "aws", clusterName: "prod-web", roleArn: "arn:aws:iam::123456789012:role/argocd" },
        "Q0E=",
      ),
    );
    assert.deepEqual(config, {
      awsAuthConfig: { clusterName: "prod-web", roleARN: "arn:aws:iam::123456789012:role/argocd" },
      tlsClientConfig: { insecure: false, caData: "Q0E=" },
    });
  });

  it("limits a cluster to its tenant namespaces, never to cluster-scoped resources", () => {
    const tenants = clusterSecretData(SPOKE, "tenants", "https://api", "{}");
    assert.deepEqual(tenants, {
      name: "payments",
      server: "https://api",
      config: "{}",
      namespaces: "fraud,payments",
    });
    const wide = clusterSecretData(SPOKE, "all-namespaces", "https://api", "{}");
    assert.deepEqual(wide, { name: "payments", server: "https://api", config: "{}" });
  });

  it("labels the cluster Secret as Argo CD's cluster type with environment, region, spoke and phase", () => {
    assert.deepEqual(clusterSecretLabels("prod", SPOKE), {
      [ARGOCD_SECRET_TYPE_LABEL]: "cluster",
      "hubspoke.io/environment": "prod",
      "hubspoke.io/region": "eu-west-1",
      "hubspoke.io/spoke": "payments",
      "hubspoke.io/conversion-phase": "1",
      "app.kubernetes.io/part-of": "hubspoke",
      "app.kubernetes.io/managed-by": "pulumi",
    });
  });

  it("confines the AppProject to the tenant namespaces, no cluster-scoped kinds, no quota or limits", () => {
    const destinations = projectDestinations([{ spoke: SPOKE, server: "https://api" }], "tenants");
    assert.deepEqual(destinations, [
      { server: "https://api", namespace: "fraud" },
      { server: "https://api", namespace: "payments" },
    ]);
    const spec = appProjectSpec("prod", ARGOCD, destinations);
    assert.deepEqual(spec.sourceRepos, [ARGOCD.repoURL]);
    assert.deepEqual(spec.clusterResourceWhitelist, []);
    assert.deepEqual(
      spec.namespaceResourceBlacklist.map((k) => k.kind),
      ["ResourceQuota", "LimitRange"],
    );
    const wide = appProjectSpec(
      "prod",
      { ...ARGOCD, access: "all-namespaces" },
      projectDestinations([{ spoke: SPOKE, server: "s" }], "all-namespaces"),
    );
    assert.deepEqual(wide.destinations[0], { server: "s", namespace: "*" });
    for (const ns of [
      "kube-system",
      "conjur-system",
      "hubspoke-monitoring",
      "hubspoke-logging",
      "hubspoke-gitops",
    ])
      assert.ok(
        wide.destinations.some((d) => d.namespace === `!${ns}`),
        `${ns} denied`,
      );
    assert.deepEqual(wide.clusterResourceWhitelist, []);
  });

  it("generates from the environment's registered clusters and keeps workloads when a registration goes", () => {
    const spec = applicationSetSpec("prod", ARGOCD);
    assert.deepEqual(spec.generators, [
      {
        clusters: {
          selector: {
            matchLabels: { [ARGOCD_SECRET_TYPE_LABEL]: "cluster", "hubspoke.io/environment": "prod" },
          },
        },
      },
    ]);
    assert.equal(spec.syncPolicy.preserveResourcesOnDeletion, true);
    assert.equal((spec.template.metadata as Json).finalizers, undefined);
    assert.equal(spec.template.spec.project, "hubspoke-prod");
    assert.equal(spec.template.spec.source.path, "spokes/{{.name}}");
    assert.equal(spec.template.spec.destination.server, "{{.server}}");
  });
});

const clusterSecrets = (e: Evaluation): RecordedResource[] =>
  ofKind(e, "Secret").filter(
    (r) => (r.inputs["metadata"] as Json)?.labels?.[ARGOCD_SECRET_TYPE_LABEL] === "cluster",
  );
const stringData = (secret: RecordedResource): Json => unwrap(secret.inputs["stringData"]);
const configOf = (secret: RecordedResource): Json => JSON.parse(unwrap(stringData(secret).config) as string);

describe("Argo CD registration in the stacks", () => {
  let staging: Evaluation;
  let prod: Evaluation;
  before(async () => {
    staging = await evaluate("staging");
    prod = await evaluate("prod");
  });

  it("registers one cluster Secret per converted spoke, in Argo CD's namespace on the hub", () => {
    const names = clusterSecrets(staging).map((r) => (r.inputs["metadata"] as Json).name);
    assert.deepEqual(names.sort(), ["hubspoke-cluster-payments", "hubspoke-cluster-web"]);
    for (const secret of clusterSecrets(staging)) {
      assert.equal((secret.inputs["metadata"] as Json).namespace, "argocd");
      assert.ok(secret.provider?.includes("k8s-stg-mgmt"), secret.provider);
    }
    // prod is at phase 2: web-euc1 (phase 3) is pending and not registered.
    const prodNames = clusterSecrets(prod).map((r) => (r.inputs["metadata"] as Json).name);
    assert.deepEqual(prodNames.sort(), ["hubspoke-cluster-payments-euw1", "hubspoke-cluster-web-euw1"]);
  });

  it("registers a spoke only once its phase is reached", async () => {
    const phase1 = await evaluate("staging", (c: Json) => (c["hubspoke:conversion"] = { phase: 1 }));
    const names = clusterSecrets(phase1).map((r) => (r.inputs["metadata"] as Json).name);
    assert.deepEqual(names, ["hubspoke-cluster-payments"]);
    assert.ok(
      !phase1.resources.some((r) => r.urn.includes("gitops-web")),
      "no access objects on a pending spoke",
    );
    const project = objectNamed(phase1, "AppProject", "hubspoke-staging");
    const destinations = (project.inputs["spec"] as Json).destinations as Json[];
    assert.ok(destinations.every((d) => !String(d.server).includes("stg-web")));
  });

  it("gives a non-EKS spoke a ServiceAccount token, kept secret, and the cluster's CA", () => {
    const secret = objectNamed(staging, "Secret", "hubspoke-cluster-payments");
    // The token makes the Secret's data secret as a whole (the provider treats stringData so anyway).
    assert.deepEqual(secretPaths(secret.inputs["stringData"]), ["(root)"]);
    const data = stringData(secret);
    assert.equal(data.server, "https://api.stg-payments.acme.internal:6443");
    assert.equal(data.namespaces, "fraud,payments");
    const config = configOf(secret);
    assert.match(config.bearerToken, /token/);
    assert.equal(config.tlsClientConfig.insecure, false);
    assert.match(Buffer.from(config.tlsClientConfig.caData, "base64").toString(), /BEGIN CERTIFICATE/);
    const token = objectNamed(staging, "Secret", "hubspoke-argocd-token", "k8s-stg-payments");
    assert.equal(token.inputs["type"], "kubernetes.io/service-account-token");
    assert.equal((token.inputs["metadata"] as Json).namespace, "hubspoke-gitops");
  });

  it("gives an EKS spoke awsAuthConfig with its role and an access entry mapping the role to RBAC", () => {
    const config = configOf(objectNamed(prod, "Secret", "hubspoke-cluster-payments-euw1"));
    assert.deepEqual(config.awsAuthConfig, {
      clusterName: "prod-payments",
      roleARN: "arn:aws:iam::123456789012:role/argocd-prod-payments-euw1",
    });
    assert.equal(config.bearerToken, undefined);
    const entries = prod.resources.filter((r) => r.type === "aws:eks/accessEntry:AccessEntry");
    assert.equal(entries.length, 2);
    for (const entry of entries) assert.deepEqual(entry.inputs["kubernetesGroups"], ["hubspoke-argocd"]);
    assert.ok(
      !ofKind(prod, "ServiceAccount").some((r) => (r.inputs["metadata"] as Json).name === "hubspoke-argocd"),
    );
  });

  it("binds Argo CD to `edit` in each tenant namespace only (no ClusterRoleBinding)", () => {
    const bindings = ofKind(staging, "RoleBinding").filter(
      (r) => (r.inputs["metadata"] as Json).name === "hubspoke-argocd",
    );
    assert.deepEqual(bindings.map((b) => (b.inputs["metadata"] as Json).namespace).sort(), [
      "fraud",
      "payments",
      "storefront",
    ]);
    for (const b of bindings) assert.equal((b.inputs["roleRef"] as Json).name, "edit");
    assert.ok(!ofKind(staging, "ClusterRoleBinding").some((r) => r.urn.includes("gitops")));
  });

  it("grants every namespace (still `edit`, never cluster-admin) only when the config says all-namespaces", async () => {
    const wide = await evaluate(
      "staging",
      (c: Json) => (c["hubspoke:gitops"].argocd.access = "all-namespaces"),
    );
    const crbs = ofKind(wide, "ClusterRoleBinding").filter((r) => r.urn.includes("gitops"));
    assert.equal(crbs.length, 2);
    for (const b of crbs) assert.equal((b.inputs["roleRef"] as Json).name, "edit");
    const data = stringData(objectNamed(wide, "Secret", "hubspoke-cluster-web"));
    assert.equal(data.namespaces, undefined);
    assert.equal(data.clusterResources, undefined);
  });

  it("registers nothing when gitops is off", async () => {
    const off = await evaluate("staging", (c: Json) => delete c["hubspoke:gitops"]);
    assert.equal(clusterSecrets(off).length, 0);
    assert.ok(!off.resources.some((r) => r.type.startsWith("hubspoke:gitops")));
  });

  it("adding a tenant changes no existing URN", async () => {
    const grown = await evaluate("staging", (c: Json) =>
      c["hubspoke:spokes"][0].tenants.unshift({ name: "billing", existing: false }),
    );
    const kept = new Set(grown.resources.map((r) => r.urn));
    assert.deepEqual(
      staging.resources.map((r) => r.urn).filter((u) => !kept.has(u)),
      [],
    );
    assert.ok(grown.resources.some((r) => r.urn.endsWith("gitops-payments-tenant-billing")));
  });
});

describe("Argo CD config errors", () => {
  const errorsFor = configErrorsFor;
  const expectError = expectConfigError;

  it("gitops enabled without the Argo CD namespace", () => {
    const errors = errorsFor("staging", (c) => delete c.gitops.argocd.namespace);
    expectError(errors, "gitops.argocd.namespace", /required when gitops.argocd.enabled is true/);
  });

  it("gitops enabled without a repository", () => {
    const errors = errorsFor("staging", (c) => delete c.gitops.argocd.repoURL);
    expectError(errors, "gitops.argocd.repoURL", /required/);
  });

  it("an EKS spoke without the role Argo CD assumes", () => {
    const errors = errorsFor("prod", (c) => delete c.spokes[1].argocd);
    expectError(errors, "spokes[1].argocd.roleArn", /required for a spoke on EKS.*awsAuthConfig/);
  });

  it("a role on a spoke that is not on EKS (credentials fit neither form)", () => {
    const errors = errorsFor(
      "staging",
      (c) => (c.spokes[0].argocd = { roleArn: "arn:aws:iam::123456789012:role/x" }),
    );
    expectError(errors, "spokes[0].argocd.roleArn", /not on EKS/);
  });

  it("a malformed role ARN, repository URL and path", () => {
    const errors = errorsFor("prod", (c) => {
      c.spokes[0].argocd.roleArn = "argocd";
      c.gitops.argocd.repoURL = "git.acme.internal/x";
      c.gitops.argocd.path = "../elsewhere";
    });
    expectError(errors, "spokes[0].argocd.roleArn", /not an IAM role ARN/);
    expectError(errors, "gitops.argocd.repoURL", /not a Git repository URL/);
    expectError(errors, "gitops.argocd.path", /inside the repository/);
  });
});
