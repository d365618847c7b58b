// The sharded layout (docs/sharding.md) end to end through the offline plan: a hub stack and two
// shard stacks (examples/sharded/) plan on their own, each shard reading the hub plan's outputs
// through its StackReference; together they hold the same Kubernetes objects as one stack with the
// same spokes, apart from the federation discovery that replaces the per-spoke federate jobs.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import type { PlanDocument } from "../tools/plan-output";
import { capturePlan, CapturedPlan } from "./support/plans";
import { configErrorsFor, expectConfigError } from "./support/config-errors";
import { promtoolSupportsKubernetesSd, runPromtool } from "./support/promtool";

type Json = any;

const EXAMPLES = path.join(__dirname, "..", "examples", "sharded");
const stackFile = (stack: string) => path.join(EXAMPLES, `Pulumi.${stack}.yaml`);
const SHARDS = ["fleet-shard-a", "fleet-shard-b"] as const;

const planOf = (c: CapturedPlan): PlanDocument =>
  JSON.parse(fs.readFileSync(path.join(c.outDir, "plan.json"), "utf8")) as PlanDocument;

/** `cluster kind namespace/name` of every Kubernetes object a plan manages. */
function objectKeys(plan: PlanDocument): string[] {
  return plan.resources
    .filter((r) => r.cluster !== null)
    .map((r) => {
      const inputs = r.inputs as Json;
      const kind = r.type.split(":")[2] ?? r.type;
      return `${r.cluster} ${kind} ${inputs.metadata?.namespace ?? ""}/${inputs.metadata?.name ?? r.name}`;
    });
}

function objectInputs(plan: PlanDocument, kind: string, name: string): Json {
  const found = plan.resources.find(
    (r) => r.type.endsWith(`:${kind}`) && (r.inputs as Json).metadata?.name === name,
  );
  assert.ok(found, `no ${kind} ${name}`);
  return found.inputs;
}

/** One stack with every shard's spokes: the hub's stack file, its layout single, the spokes merged. */
function singleStackFile(dir: string): string {
  const hub = YAML.parseDocument(fs.readFileSync(stackFile("fleet-hub"), "utf8"));
  const shards = SHARDS.map((s) => YAML.parse(fs.readFileSync(stackFile(s), "utf8")).config);
  const config = hub.get("config") as YAML.YAMLMap;
  config.delete("hubspoke:layout");
  config.set(
    "hubspoke:spokes",
    shards.flatMap((s) => s["hubspoke:spokes"]),
  );
  config.set("hubspoke:clusters", Object.assign({}, ...shards.map((s) => s["hubspoke:clusters"])));
  config.set("hubspoke:conversion", { phase: 1 });
  const file = path.join(dir, "Pulumi.fleet-single.yaml");
  fs.writeFileSync(file, hub.toString());
  return file;
}

describe("sharded layout (examples/sharded)", function () {
  this.timeout(300_000);
  let hub: CapturedPlan;
  const shards = new Map<string, CapturedPlan>();
  let single: CapturedPlan;

  before(async () => {
    hub = await capturePlan({ stack: "fleet-hub", configFile: stackFile("fleet-hub") });
    for (const shard of SHARDS) {
      shards.set(
        shard,
        await capturePlan({ stack: shard, configFile: stackFile(shard), hubPlan: hub.outDir }),
      );
    }
    single = await capturePlan({ stack: "fleet-single", configFile: singleStackFile(hub.outDir) });
  });

  it("plans the hub and each shard with no mandatory violation", () => {
    for (const plan of [hub, ...shards.values(), single]) {
      assert.equal(plan.result.exitCode, 0, plan.log.join("\n"));
      assert.ok(
        plan.log.some(
          (l) => l === "policy: 0 mandatory, 0 advisory violation(s)" || /^policy: 0 mandatory/.test(l),
        ),
      );
    }
  });

  it("names each stack's part of the layout in its summary, and nothing for a single stack", () => {
    const summary = (c: CapturedPlan) => fs.readFileSync(path.join(c.outDir, "summary.txt"), "utf8");
    assert.match(summary(hub), /^layout: the hub stack of a sharded layout .*10\.110\.0\.0\/16/m);
    assert.match(summary(shards.get("fleet-shard-a")!), /^layout: a shard of acme\/hubspoke\/fleet-hub /m);
    assert.doesNotMatch(summary(single), /^layout:/m);
  });

  it("exports the hub's shardTrust with every value redacted in outputs.json, and nothing from a single stack", () => {
    const outputs = JSON.parse(fs.readFileSync(path.join(hub.outDir, "outputs.json"), "utf8"));
    assert.deepEqual(outputs.shardTrust, {
      caCertPem: "[secret]",
      caKeyPem: "[secret]",
      forwardSharedKey: "[secret]",
    });
    const singleOutputs = JSON.parse(fs.readFileSync(path.join(single.outDir, "outputs.json"), "utf8"));
    assert.equal(singleOutputs.shardTrust, undefined);
    for (const shard of shards.values()) {
      const own = JSON.parse(fs.readFileSync(path.join(shard.outDir, "outputs.json"), "utf8"));
      for (const hubOnly of ["hubUrl", "conjurPolicy", "recoveryKit", "shardTrust", "dataKey"])
        assert.equal(own[hubOnly], undefined, `a shard exports no ${hubOnly}`);
      assert.ok(Object.keys(own.federation).length > 0);
    }
  });

  it("reads the hub stack through one StackReference, and issues its spoke certificates from the hub's root CA, secret", () => {
    for (const [name, shard] of shards) {
      const plan = planOf(shard);
      // A read, not a managed resource: in the evaluation, not in plan.json.
      const refs = shard.result.evaluation!.resources.filter(
        (r) => r.type === "pulumi:pulumi:StackReference",
      );
      assert.deepEqual(
        refs.map((r) => (r.inputs as Json).name),
        ["acme/hubspoke/fleet-hub"],
        name,
      );
      const signed = plan.resources.filter((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert");
      assert.ok(signed.length > 0);
      for (const cert of signed) assert.equal((cert.inputs as Json).caPrivateKeyPem, "[secret]", cert.urn);
      assert.ok(
        !plan.resources.some(
          (r) => r.type === "hubspoke:pki:EstatePki" || r.type === "hubspoke:hub:ConjurHub",
        ),
      );
    }
  });

  it("holds, hub and shards together, the objects of one stack with the same spokes: discovery instead of per-spoke jobs", () => {
    const sharded = [hub, ...shards.values()].flatMap((p) => objectKeys(planOf(p)));
    const one = objectKeys(planOf(single));
    assert.equal(new Set(sharded).size, sharded.length, "no object is owned by two stacks");
    const onlySharded = sharded.filter((k) => !one.includes(k)).sort();
    const onlySingle = one.filter((k) => !sharded.includes(k)).sort();
    assert.deepEqual(onlySingle, []);
    assert.deepEqual(onlySharded, [
      "fleet-mgmt Role hubspoke-monitoring/hubspoke-shard-discovery",
      "fleet-mgmt RoleBinding hubspoke-monitoring/hubspoke-shard-discovery",
      "fleet-mgmt Service hubspoke-monitoring/federate-payments",
      "fleet-mgmt Service hubspoke-monitoring/federate-search",
      "fleet-mgmt Service hubspoke-monitoring/federate-web",
    ]);
  });

  it("loads each spoke's policy from its shard with the same document and Job as one stack would", () => {
    for (const [, shard] of shards) {
      const plan = planOf(shard);
      const jobs = plan.resources.filter((r) => r.type === "kubernetes:batch/v1:Job");
      assert.ok(jobs.length > 0);
      for (const job of jobs) {
        const name = (job.inputs as Json).metadata.name as string;
        assert.equal(job.cluster, "fleet-mgmt");
        assert.deepEqual(objectInputs(planOf(single), "Job", name).spec, (job.inputs as Json).spec, name);
        // No base load in a shard: its Jobs wait for nothing of the hub stack's.
        assert.deepEqual(job.options.dependsOn, []);
      }
      for (const map of plan.resources.filter(
        (r) =>
          r.type === "kubernetes:core/v1:ConfigMap" &&
          /^conjur-policy-/.test((r.inputs as Json).metadata.name),
      )) {
        const name = (map.inputs as Json).metadata.name as string;
        assert.deepEqual(
          objectInputs(planOf(single), "ConfigMap", name).data,
          (map.inputs as Json).data,
          name,
        );
      }
    }
  });

  it("federates every shard spoke: an ExternalName Service per spoke, one discovery job the real promtool accepts", () => {
    const service = objectInputs(planOf(shards.get("fleet-shard-b")!), "Service", "federate-web");
    assert.equal(service.spec.type, "ExternalName");
    assert.equal(service.spec.externalName, "prometheus-web.fleet.acme.internal");
    assert.equal(service.metadata.labels["hubspoke.io/spoke"], "web");
    const config = objectInputs(planOf(hub), "ConfigMap", "prometheus-config");
    const prometheusYaml = Object.values(config.data as Record<string, string>).find((v) =>
      /scrape_configs/.test(v),
    )!;
    const parsed = YAML.parse(prometheusYaml);
    const job = parsed.scrape_configs.find((j: Json) => j.job_name === "federate-_shards");
    assert.ok(job, "the discovery job");
    assert.deepEqual(job.kubernetes_sd_configs, [
      { role: "service", namespaces: { names: ["hubspoke-monitoring"] } },
    ]);
    assert.equal(job.tls_config.server_name, undefined);
    assert.ok(job.tls_config.cert_file);
    // Debian's promtool is built without Kubernetes discovery: a static target stands in there, and
    // the relabelling and everything else are still checked.
    const checked = promtoolSupportsKubernetesSd()
      ? parsed
      : {
          ...parsed,
          scrape_configs: parsed.scrape_configs.map(({ kubernetes_sd_configs: sd, ...rest }: Json) =>
            sd === undefined ? rest : { ...rest, static_configs: [{ targets: ["127.0.0.1:1"] }] },
          ),
        };
    const file = path.join(hub.outDir, "prometheus-check.yml");
    fs.writeFileSync(file, YAML.stringify(checked));
    const result = runPromtool(["check", "config", "--syntax-only", file]);
    assert.equal(result.status, 0, result.transcript);
  });

  it("admits the shards' spokes at the hub's log sink by layout.spokeCidrs, as one stack admits its own", () => {
    const ofHub = objectInputs(planOf(hub), "Service", "log-sink");
    const ofSingle = objectInputs(planOf(single), "Service", "log-sink");
    assert.deepEqual(ofHub.spec.loadBalancerSourceRanges, ofSingle.spec.loadBalancerSourceRanges);
  });
});

describe("sharded layout: reviewing a shard's change against a git ref", function () {
  this.timeout(300_000);
  it("plans the shard at that ref with the same hub plan, and finds nothing changed", async () => {
    const hub = await capturePlan({ stack: "fleet-hub", configFile: stackFile("fleet-hub") });
    const plan = await capturePlan({
      stack: "fleet-shard-a",
      configFile: stackFile("fleet-shard-a"),
      hubPlan: hub.outDir,
      against: "HEAD",
    });
    assert.equal(plan.result.exitCode, 0, plan.log.join("\n"));
    assert.ok(
      plan.log.some((l) => /^diff against HEAD: 0 create, 0 update, 0 replace, 0 delete/.test(l)),
      plan.log.join("\n"),
    );
  });
});

describe("sharded layout: a shard without its hub plan", () => {
  it("stops with exit 2 naming layout.hubStack and how to plan the hub, and writes nothing", async () => {
    const plan = await capturePlan({
      stack: "fleet-shard-a",
      configFile: stackFile("fleet-shard-a"),
      hubPlan: path.join(__dirname, "no-such-plan"),
    });
    assert.equal(plan.result.exitCode, 2);
    assert.match(
      plan.log.join("\n"),
      /^plan error: layout\.hubStack: no plan of acme\/hubspoke\/fleet-hub at .*outputs\.json: plan the hub stack first/m,
    );
    assert.deepEqual(fs.readdirSync(plan.outDir), []);
  });

  it("refuses a hub plan of another environment or a hub that is not sharded", async () => {
    const single = await capturePlan({ stack: "staging" });
    const plan = await capturePlan({
      stack: "fleet-shard-a",
      configFile: stackFile("fleet-shard-a"),
      hubPlan: single.outDir,
    });
    assert.equal(plan.result.exitCode, 2);
    assert.match(plan.log.join("\n"), /the hub plan exports no shardTrust \(is its layout\.role hub\?\)/);
  });
});

describe("sharded layout: config errors", () => {
  const cases: [string, (c: Json) => void, string, RegExp][] = [
    [
      "an unknown role",
      (c) => (c.layout = { role: "shards" }),
      "layout.role",
      /expected "single", "hub" or "shard"/,
    ],
    [
      "a shard without its hub stack",
      (c) => (c.layout = { role: "shard" }),
      "layout.hubStack",
      /required for layout\.role shard/,
    ],
    [
      "a hub stack name that is not organization/project/stack",
      (c) => (c.layout = { role: "shard", hubStack: "fleet-hub" }),
      "layout.hubStack",
      /not a stack reference \(organization\/project\/stack\)/,
    ],
    [
      "a sharded hub without its spokes' CIDRs",
      (c) => (c.layout = { role: "hub" }),
      "layout.spokeCidrs",
      /required for layout\.role hub/,
    ],
    [
      "hubStack outside a shard",
      (c) => (c.layout = { role: "hub", spokeCidrs: ["10.0.0.0/8"], hubStack: "a/b/c" }),
      "layout.hubStack",
      /only for layout\.role shard/,
    ],
    [
      "spokeCidrs outside a sharded hub",
      (c) => (c.layout = { role: "shard", hubStack: "a/b/c", spokeCidrs: ["10.0.0.0/8"] }),
      "layout.spokeCidrs",
      /only for layout\.role hub/,
    ],
    [
      "a sharded layout with Conjur Open Source",
      (c) => {
        c.layout = { role: "shard", hubStack: "a/b/c" };
        c.conjur = { edition: "oss" };
      },
      "layout.role",
      /needs conjur\.edition enterprise/,
    ],
    [
      "a sharded layout with the Leader in the hub cluster",
      (c) => {
        c.layout = { role: "hub", spokeCidrs: ["10.0.0.0/8"] };
        c.conjur.leader = { placement: "hub", url: "https://conjur-leader.staging.acme.com" };
        c.images = { ...c.images, appliance: "registry.acme.internal/cyberark/conjur-appliance:13.5" };
      },
      "conjur.leader.placement",
      /hub: not supported with layout\.role hub yet/,
    ],
    [
      "Argo CD registration in a shard",
      (c) => (c.layout = { role: "shard", hubStack: "a/b/c" }),
      "gitops.argocd.enabled",
      /not supported in a shard stack yet/,
    ],
  ];
  for (const [what, edit, key, pattern] of cases) {
    it(`${what}: ${key}`, () => expectConfigError(configErrorsFor("staging", edit), key, pattern));
  }

  it("backups and failover belong to the hub stack", () => {
    const errors = configErrorsFor("staging", (c) => {
      c.layout = { role: "shard", hubStack: "a/b/c" };
      c.backup = { bucket: "b" };
      c.failover = { zoneId: "Z1" };
    });
    expectConfigError(
      errors,
      "backup",
      /not in a shard stack \(layout\.role shard\): backups belong to the hub stack/,
    );
    expectConfigError(errors, "failover", /not in a shard stack/);
  });
});
