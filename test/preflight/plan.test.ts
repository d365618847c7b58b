// `npm run plan -- --stack <s> --inventory <dir>` end to end, on the inventories of typical clusters in
// test/fixtures/inventory/: the shipped stacks pass, default settings never cause an error, every
// modelled disruption is reported, and bad input stops the plan with nothing written.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { capturePlan, plannedStack, planFiles, type CapturedPlan } from "../support/plans";
import { STACKS, stackFileConfig } from "../support/stacks";
import { readInventoryDirectory, InventoryError } from "../../tools/preflight/inventory";

type Json = any;

const FIXTURES = path.join(__dirname, "..", "fixtures", "inventory");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-preflight-"));
process.once("exit", () => fs.rmSync(scratch, { recursive: true, force: true }));

/** A stack file with the given edit, written to a scratch directory. */
function editedStackFile(stack: string, edit: (c: Json) => void): string {
  const config = stackFileConfig(stack) as Json;
  edit(config);
  const file = fs.mkdtempSync(path.join(scratch, `${stack}-`)) + `/Pulumi.${stack}.yaml`;
  fs.writeFileSync(file, YAML.stringify({ config }));
  return file;
}

/** A copy of a stack's fixture inventories, one of them edited. */
function editedInventory(stack: string, cluster: string, edit: (items: Json[]) => void): string {
  const dir = fs.mkdtempSync(path.join(scratch, `inventory-${stack}-`));
  for (const file of fs.readdirSync(path.join(FIXTURES, stack))) {
    fs.copyFileSync(path.join(FIXTURES, stack, file), path.join(dir, file));
  }
  const file = path.join(dir, `${cluster}.yaml`);
  const list = YAML.parse(fs.readFileSync(file, "utf8"));
  edit(list.items);
  fs.writeFileSync(file, YAML.stringify(list));
  return dir;
}

const preflightJson = (plan: CapturedPlan): Json =>
  JSON.parse(fs.readFileSync(path.join(plan.outDir, "preflight.json"), "utf8"));
const errorLines = (plan: CapturedPlan) => plan.log.filter((l) => l.startsWith("preflight error: "));
const assertNothingWritten = (plan: CapturedPlan) => assert.deepEqual(planFiles(plan.outDir), []);

describe("preflight through the offline plan", () => {
  const shipped = new Map<string, CapturedPlan>();
  before(async () => {
    for (const stack of STACKS) {
      shipped.set(stack, await capturePlan({ stack, inventory: path.join(FIXTURES, stack) }));
    }
  });

  for (const stack of STACKS) {
    it(`${stack}: the shipped stack file passes over its clusters' inventories and writes preflight.json and preflight.md`, () => {
      const plan = shipped.get(stack) as CapturedPlan;
      assert.equal(plan.result.exitCode, 0, plan.log.join("\n"));
      const report = preflightJson(plan);
      assert.equal(report.counts.errors, 0);
      for (const finding of report.findings) {
        assert.deepEqual(
          Object.keys(finding).filter((k) => k !== "acknowledged"),
          ["cluster", "namespace", "kind", "name", "category", "detail", "severity"],
        );
      }
      assert.ok(fs.existsSync(path.join(plan.outDir, "preflight.md")));
      const summary = fs.readFileSync(path.join(plan.outDir, "summary.txt"), "utf8");
      assert.match(summary, new RegExp(`preflight: ${report.counts.findings} finding\\(s\\)`));
      assert.match(summary, /tenant stages \(what pulumi up enforces\):/);
    });
  }

  it("dev: the clean cluster, enforced, has no finding at all", () => {
    assert.deepEqual(preflightJson(shipped.get("dev") as CapturedPlan).findings, []);
  });

  it("staging and prod: report every modelled disruption of an observed tenant as what enforcing would break", () => {
    const findings = [
      ...preflightJson(shipped.get("staging") as CapturedPlan).findings,
      ...preflightJson(shipped.get("prod") as CapturedPlan).findings,
    ] as Json[];
    const payments = findings.filter((f) => f.namespace === "payments");
    assert.ok(
      payments.every((f) => f.severity === "warning"),
      "observe: warnings only",
    );
    const network = payments
      .filter((f) => f.category === "network")
      .map((f) => f.detail)
      .join("\n");
    for (const flow of [
      /-> 10\.50\.12\.34 TCP 5432/, // F3 the database
      /-> api\.psp\.example\.com \(DNS name, addresses unknown\) TCP 443/, // F4 the SaaS API
      /fulfilment\/Deployment orders -> payments\/Deployment checkout TCP 8080/, // F7 a caller
      /-> catalog\/Deployment catalog-api TCP 8080/, // F8 another namespace
      /-> Kubernetes API server .* TCP 443/, // F11
      /-> EKS Pod Identity agent 169\.254\.170\.23 TCP 80/, // F14 (prod, EKS)
      /CronJob settlement-report -> sftp\.bank\.example\.com .* TCP 22/, // F15
    ]) {
      assert.match(network, flow);
    }
    const podSecurity = payments
      .filter((f) => f.category === "pod-security")
      .map((f) => `${f.kind}/${f.name}`);
    for (const workload of [
      "Deployment/checkout",
      "StatefulSet/ledger",
      "DaemonSet/audit-forwarder",
      "CronJob/settlement-report",
    ]) {
      assert.ok(podSecurity.includes(workload), workload);
    }
    const storefront = findings.filter((f) => f.namespace === "storefront" && f.cluster === "stg-web");
    assert.ok(
      storefront.some((f) => f.acknowledged),
      "the enforced storefront's SaaS flow is acknowledged",
    );
  });

  it("with default settings (no stage, no allow-list), nothing is an error: no outage, no rejected rollout", async () => {
    const file = editedStackFile("staging", (c) => {
      for (const spoke of c["hubspoke:spokes"]) {
        delete spoke.tenantDefaults;
        for (const t of spoke.tenants)
          for (const key of ["network", "podSecurity", "onboarding", "acknowledge"]) delete t[key];
      }
    });
    const plan = await capturePlan({
      stack: "staging",
      configFile: file,
      inventory: path.join(FIXTURES, "staging"),
    });
    assert.equal(plan.result.exitCode, 0, plan.log.join("\n"));
    const report = preflightJson(plan);
    assert.equal(report.counts.errors, 0);
    assert.ok(report.findings.every((f: Json) => f.severity === "warning"));
    const network = report.findings
      .filter((f: Json) => f.category === "network" && f.namespace === "payments")
      .map((f: Json) => f.detail)
      .join("\n");
    assert.match(
      network,
      /ingress-nginx\/Deployment ingress-nginx-controller -> payments\/Deployment checkout TCP 8080/,
    ); // F1
    assert.match(
      network,
      /monitoring\/StatefulSet prometheus-kube-prometheus-stack-prometheus -> payments\/Deployment checkout TCP 15090/,
    ); // F2
    assert.match(network, /-> NodeLocal DNSCache 169\.254\.20\.10 UDP 53/); // F5b
    assert.match(network, /-> istio-system\/Deployment istiod TCP 15012/); // F6
  });

  it("an enforce stage with unacknowledged findings stops the plan: preflight error lines, exit 2, nothing written", async () => {
    const file = editedStackFile("staging", (c) => {
      c["hubspoke:spokes"][0].tenants[0].network = { mode: "enforce" };
    });
    const plan = await capturePlan({
      stack: "staging",
      configFile: file,
      inventory: path.join(FIXTURES, "staging"),
    });
    assert.equal(plan.result.exitCode, 2);
    assertNothingWritten(plan);
    const lines = errorLines(plan);
    assert.ok(lines.length >= 6, lines.join("\n"));
    assert.ok(
      lines.every((l) => /^preflight error: stg-payments payments \S+\/\S+ \[network\]: /.test(l)),
      lines.join("\n"),
    );
    assert.ok(lines.some((l) => /10\.50\.12\.34 TCP 5432 .* is cut by `pulumi up`/.test(l)));
  });

  it("acknowledging the findings in config lets the same enforce stage through, with the reason in the report", async () => {
    const file = editedStackFile("staging", (c) => {
      const payments = c["hubspoke:spokes"][0].tenants[0];
      payments.network = { mode: "enforce" };
      payments.acknowledge = [{ category: "network", reason: "staging rehearsal: flows accepted as cut" }];
    });
    const plan = await capturePlan({
      stack: "staging",
      configFile: file,
      inventory: path.join(FIXTURES, "staging"),
    });
    assert.equal(plan.result.exitCode, 0, plan.log.join("\n"));
    const acknowledged = preflightJson(plan).findings.filter(
      (f: Json) => f.namespace === "payments" && f.acknowledged,
    );
    assert.ok(acknowledged.length >= 6);
    assert.ok(
      acknowledged.every(
        (f: Json) => f.severity === "error" && f.acknowledged.startsWith("staging rehearsal"),
      ),
    );
  });

  it("reports a label conflict, a stack namespace that exists, a quota that rejects pods and an adopted namespace that does not exist", async () => {
    const inventory = editedInventory("staging", "stg-payments", (items) => {
      const payments = items.find((o) => o.kind === "Namespace" && o.metadata.name === "payments");
      payments.metadata.labels["pod-security.kubernetes.io/audit"] = "baseline";
      payments.metadata.managedFields = [
        {
          manager: "argocd-controller",
          operation: "Apply",
          fieldsV1: { "f:metadata": { "f:labels": { "f:pod-security.kubernetes.io/audit": {} } } },
        },
      ];
      items.push({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "hubspoke-monitoring", labels: {} },
      });
    });
    const file = editedStackFile("staging", (c) => {
      const [payments] = c["hubspoke:spokes"][0].tenants;
      payments.quota = { limitsCpu: "16" };
      c["hubspoke:spokes"][0].tenants.push({ name: "ghost", existing: true });
    });
    const plan = await capturePlan({ stack: "staging", configFile: file, inventory });
    assert.equal(plan.result.exitCode, 2);
    assertNothingWritten(plan);
    const lines = errorLines(plan).join("\n");
    assert.match(
      lines,
      /payments Namespace\/payments \[label-conflict\]: label pod-security\.kubernetes\.io\/audit is "baseline" \(managed by argocd-controller\)/,
    );
    assert.match(
      lines,
      /hubspoke-monitoring Namespace\/hubspoke-monitoring \[name-collision\]: exists already/,
    );
    assert.match(
      lines,
      /payments CronJob\/settlement-report \[quota\]: ResourceQuota hubspoke-quota tracks limits\.cpu/,
    );
    assert.match(
      lines,
      /namespace ghost \(spokes\[0\]\.tenants\[2\], existing: true\) is not in the inventory/,
    );
  });

  it("refuses an inventory that is not a kind: List, naming the file, and writes nothing", async () => {
    const dir = editedInventory("dev", "dev-apps", () => undefined);
    fs.writeFileSync(path.join(dir, "dev-apps.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n");
    const plan = await capturePlan({ stack: "dev", inventory: dir });
    assert.equal(plan.result.exitCode, 2);
    assertNothingWritten(plan);
    assert.deepEqual(errorLines(plan).length, 1);
    assert.match(errorLines(plan)[0], /^preflight error: .*dev-apps\.yaml: not a kind: List with items/);
  });

  it("refuses an inventory file named after a cluster the stack does not know", () => {
    const dir = editedInventory("dev", "dev-apps", () => undefined);
    fs.copyFileSync(path.join(dir, "dev-apps.yaml"), path.join(dir, "dev-appz.yaml"));
    assert.throws(
      () => readInventoryDirectory(dir, ["dev-hub", "dev-apps"]),
      (e: InventoryError) =>
        e.file.endsWith("dev-appz.yaml") &&
        /names cluster "dev-appz", which is not under clusters/.test(e.message),
    );
  });

  it("without --inventory the summary says no preflight ran, and no preflight file is written", async () => {
    const plan = await plannedStack("staging");
    const summary = fs.readFileSync(path.join(plan.outDir, "summary.txt"), "utf8");
    assert.match(summary, /^preflight: not run \(no --inventory\)/m);
    assert.ok(!fs.existsSync(path.join(plan.outDir, "preflight.json")));
  });
});
