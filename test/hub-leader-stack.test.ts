// The in-hub Leader wired into a stack (conjur.leader.placement: hub): through the mocks on staging's
// twin, and end to end through the plan tool with prod's twin written as a stack file (--config-file),
// policy pack included.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { isIrreplaceable } from "../policy/rules/protection";
import { hubLeaderAccess } from "../components/hub/hub-leader";
import { PlanDocument } from "../tools/plan-output";
import { capturePlan, CapturedPlan, readManifests } from "./support/plans";
import { checkClusterManifests, formatManifestProblem } from "../tools/manifest-checks";
import { isBuiltInKind, UnknownFieldChecker, validateWithModel } from "./support/kubernetes-schema";
import {
  APPLIANCE_IMAGE,
  evaluate,
  objectNamed,
  ofKind,
  plainJson,
  secretPaths,
  stackFileConfig,
  unwrap,
  withHubLeader,
} from "./support/stacks";

type Json = any;
const HUB = "k8s-stg-mgmt";
const specOf = (r: RecordedResource): Json => (r.inputs as Json).spec;

describe("an in-hub Leader through the mocks (staging's twin)", () => {
  let e: Evaluation;
  before(async () => {
    e = await evaluate("staging", withHubLeader);
  });
  const hubObject = (kind: string, name: string) => objectNamed(e, kind, name, HUB);

  it("labels conjur-system baseline on the hub: the strictest Pod Security level the appliance meets", () => {
    const ns = hubObject("Namespace", "conjur-system");
    const labels = (ns.inputs as Json).metadata.labels;
    assert.equal(labels["pod-security.kubernetes.io/enforce"], "baseline");
  });

  it("runs the Leader and its Standby as one StatefulSet: OnDelete, volumes retained, the appliance image", () => {
    const sts = specOf(hubObject("StatefulSet", "conjur-leader"));
    assert.equal(sts.replicas, 2);
    assert.deepEqual(sts.updateStrategy, { type: "OnDelete" });
    assert.deepEqual(sts.persistentVolumeClaimRetentionPolicy, {
      whenDeleted: "Retain",
      whenScaled: "Retain",
    });
    assert.equal(sts.serviceName, "conjur-leader-nodes");
    assert.equal(sts.volumeClaimTemplates[0].spec.resources.requests.storage, "50Gi");
    assert.equal(sts.template.spec.containers[0].image, APPLIANCE_IMAGE);
    const pdb = specOf(hubObject("PodDisruptionBudget", "conjur-leader"));
    assert.equal(pdb.maxUnavailable, 0);
  });

  it("sends the Leader Services to pod 0 only, and lets only the spokes reach the load balancer, on 443/5432/1999", () => {
    const pod0 = { "statefulset.kubernetes.io/pod-name": "conjur-leader-0" };
    const inCluster = specOf(hubObject("Service", "conjur-leader"));
    assert.deepEqual(inCluster.selector, pod0);
    const external = specOf(hubObject("Service", "conjur-leader-external"));
    assert.equal(external.type, "LoadBalancer");
    assert.deepEqual(external.selector, pod0);
    assert.deepEqual(
      external.ports.map((p: Json) => p.port),
      [443, 5432, 1999],
    );
    assert.deepEqual(external.loadBalancerSourceRanges, ["10.110.0.0/16", "10.120.0.0/16"]);
    const netpol = specOf(hubObject("NetworkPolicy", "conjur-leader"));
    const fromSpokes = netpol.ingress.find((rule: Json) => rule.from.some((p: Json) => p.ipBlock));
    assert.deepEqual(
      fromSpokes.from.map((p: Json) => p.ipBlock.cidr),
      ["10.110.0.0/16", "10.120.0.0/16"],
    );
    assert.deepEqual(
      fromSpokes.ports.map((p: Json) => p.port),
      [443, 5432, 1999],
    );
  });

  it("lets the configuration Job only read and exec into the appliance pods", () => {
    const role = hubObject("Role", "conjur-leader-configure").inputs as Json;
    assert.deepEqual(role.rules, [
      {
        apiGroups: [""],
        resources: ["pods"],
        resourceNames: ["conjur-leader-0", "conjur-leader-1"],
        verbs: ["get"],
      },
      {
        apiGroups: [""],
        resources: ["pods/exec"],
        resourceNames: ["conjur-leader-0", "conjur-leader-1"],
        verbs: ["create", "get"],
      },
    ]);
    const job = ofKind(e, "Job").find((j) =>
      String(unwrap((j.inputs as Json).metadata.name)).startsWith("conjur-leader-configure-"),
    );
    assert.ok(job);
    const pod = specOf(job).template.spec;
    assert.equal(pod.automountServiceAccountToken, true);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
    const netpol = specOf(hubObject("NetworkPolicy", "conjur-leader-configure"));
    assert.deepEqual(netpol.ingress, []);
  });

  it("loads the policy into the Leader in the hub, after the configuration Job, under the estate CA", () => {
    const load = ofKind(e, "Job").find((j) =>
      String(unwrap((j.inputs as Json).metadata.name)).match(/^conjur-policy-load-[0-9a-f]+$/),
    );
    assert.ok(load);
    assert.ok(
      load.options.dependsOn?.some((u) => u.includes("leader-configure-job")),
      "waits for the configuration",
    );
    const script = (hubObject("ConfigMap", "conjur-policy").inputs as Json).data["load.sh"];
    assert.match(script, /URL='https:\/\/conjur-leader\.conjur-system\.svc'/);
    // The mock's certificates name the resource that made them: this one is the estate root CA.
    const ca = hubObject("ConfigMap", "conjur-leader-ca").inputs as Json;
    assert.match(String(unwrap(ca.data["ca.crt"])), /-root-ca-cert\n-----END CERTIFICATE/);
  });

  it("names in hubLeaderAccess() the objects the hub creates (what other stacks' policy loads would use)", () => {
    const access = hubLeaderAccess();
    assert.equal(access.serverUrl, "https://conjur-leader.conjur-system.svc");
    assert.ok(hubObject("Secret", access.adminSecretName as string));
    assert.ok(hubObject("ConfigMap", String((access.serverCaVolume as Json).configMap.name)));
    assert.equal(access.serverPort, 443);
  });

  it("keeps the admin password and every key in Secrets only", () => {
    const admin = hubObject("Secret", "conjur-admin");
    assert.deepEqual(secretPaths(admin.inputs), ["stringData"]);
    const pki = hubObject("Secret", "conjur-leader-pki");
    assert.deepEqual(secretPaths(pki.inputs), ["stringData"]);
    for (const cm of ofKind(e, "ConfigMap")) assert.doesNotMatch(plainJson(cm.inputs), /PRIVATE KEY/);
  });

  it("gives every spoke's follower the estate CA as the Leader's CA", () => {
    for (const cluster of ["k8s-stg-payments", "k8s-stg-web"]) {
      const connect = objectNamed(e, "ConfigMap", "conjur-connect", cluster).inputs as Json;
      assert.match(String(unwrap(connect.data["conjur-ca.pem"])), /-root-ca-cert\n-----END CERTIFICATE/);
    }
  });
});

describe("an in-hub Leader planned end to end (prod's twin from a stack file)", () => {
  let plan: CapturedPlan;
  let document: PlanDocument;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-leader-plan-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  before(async () => {
    const config = stackFileConfig("prod");
    withHubLeader(config);
    const configFile = path.join(tmp, "Pulumi.prod-hub-leader.yaml");
    fs.writeFileSync(configFile, YAML.stringify({ config }));
    plan = await capturePlan({ stack: "prod-hub-leader", configFile });
    document = JSON.parse(fs.readFileSync(path.join(plan.outDir, "plan.json"), "utf8")) as PlanDocument;
  });

  it("plans with no mandatory violation: the policy pack accepts the appliance through its declared exemptions", () => {
    assert.equal(plan.result.exitCode, 0, plan.log.join("\n"));
    const mandatory = (plan.result.violations ?? []).filter((v) => v.level === "mandatory");
    assert.deepEqual(mandatory, []);
    const summary = fs.readFileSync(path.join(plan.outDir, "summary.txt"), "utf8");
    assert.match(
      summary,
      /Leader https:\/\/conjur-leader\.prod\.acme\.com, in the hub cluster with 1 Standby/,
    );
  });

  it("protects the StatefulSet and the admin password in prod, and the policy pack knows both as irreplaceable", () => {
    const sts = document.resources.find(
      (r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.name.endsWith("-leader"),
    );
    const password = document.resources.find((r) => r.name.endsWith("-leader-admin-password"));
    for (const r of [sts, password]) {
      assert.ok(r, "planned");
      assert.equal((r as Json).options?.protect, true, r.urn);
      assert.ok(isIrreplaceable(r), r.urn);
    }
  });

  it("renders hub objects the Kubernetes schemas accept (unknown fields rejected) and the API server's rules", () => {
    const hub = readManifests(plan.outDir)
      .filter((d) => d.cluster === "prod-mgmt")
      .map((d) => d.object);
    const builtIn = hub.filter((o) => isBuiltInKind(String(o["apiVersion"]), String(o["kind"])));
    const checker = new UnknownFieldChecker(
      builtIn.map((o) => ({ apiVersion: String(o["apiVersion"]), kind: String(o["kind"]) })),
    );
    const problems = builtIn.flatMap((o) =>
      [...validateWithModel(o), ...checker.check(o)].map(
        (p) => `${String(o["kind"])} ${String((o["metadata"] as Json).name)}: ${p.path}: ${p.message}`,
      ),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(checkClusterManifests(hub).map(formatManifestProblem), []);
    assert.ok(
      builtIn.some((o) => o["kind"] === "StatefulSet" && (o["metadata"] as Json).name === "conjur-leader"),
    );
  });

  it("writes the appliance manifests as kubectl takes them, with no secret in clear", () => {
    const docs = readManifests(plan.outDir).filter((d) => d.cluster === "prod-mgmt");
    const kinds = docs
      .map((d) => d.object as Json)
      .filter((o) => String(o.metadata?.name ?? "").startsWith("conjur-leader"))
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
    for (const expected of [
      "ConfigMap/conjur-leader-ca",
      "ConfigMap/conjur-leader-configure",
      "NetworkPolicy/conjur-leader",
      "NetworkPolicy/conjur-leader-configure",
      "PodDisruptionBudget/conjur-leader",
      "Role/conjur-leader-configure",
      "Secret/conjur-leader-pki",
      "Service/conjur-leader",
      "Service/conjur-leader-external",
      "Service/conjur-leader-nodes",
      "StatefulSet/conjur-leader",
    ])
      assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(", ")}`);
    const text = fs.readFileSync(path.join(plan.outDir, "manifests", "prod-mgmt.yaml"), "utf8");
    assert.doesNotMatch(text, /-----BEGIN (RSA )?PRIVATE KEY-----/);
  });
});
