// The offline plan end to end: artefacts for every stack, the contract's shape, redaction, and
// exit 2 with one line per config error and nothing written.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { runPlan } from "../tools/plan";
import { MANIFEST_SECRET_PLACEHOLDER, PlanDocument } from "../tools/plan-output";
import { STACKS, stackConfig } from "./support/stacks";

type Json = any;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-plan-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Text that only a generated secret could contain (the mocks mark all of them PLACEHOLDER). */
const SECRET_MATERIAL = [
  /PRIVATE KEY/,
  /PLACEHOLDER-password/,
  /PLACEHOLDER-secret-config/,
  new RegExp(Buffer.from("PLACEHOLDER:").toString("base64")),
];

describe("offline plan", () => {
  for (const stack of STACKS) {
    describe(`stack ${stack}`, () => {
      const out = path.join(tmp, stack);
      let plan: PlanDocument;
      let urns: Set<string>;
      before(async () => {
        const result = await runPlan({ stack, out }, () => undefined);
        assert.equal(result.exitCode, 0);
        plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as PlanDocument;
        urns = new Set(plan.resources.map((r) => r.urn));
      });

      it("writes plan.json, one manifest per cluster in use and summary.txt", () => {
        assert.equal(plan.stack, stack);
        const clusters = new Set(plan.resources.map((r) => r.cluster).filter((c) => c !== null));
        const files = fs.readdirSync(path.join(out, "manifests")).sort();
        assert.deepEqual(
          files,
          [...clusters].sort().map((c) => `${c}.yaml`),
        );
        assert.match(
          fs.readFileSync(path.join(out, "summary.txt"), "utf8"),
          new RegExp(`^stack ${stack}: \\d+ resources`),
        );
      });

      it("records each resource with urn, type, name, cluster, inputs, parent, options and dependencies; cluster only on Kubernetes objects", () => {
        for (const r of plan.resources) {
          assert.deepEqual(Object.keys(r), [
            "urn",
            "type",
            "name",
            "cluster",
            "inputs",
            "parent",
            "options",
            "dependencies",
          ]);
          assert.deepEqual(Object.keys(r.options).sort(), [
            "aliases",
            "deleteBeforeReplace",
            "dependsOn",
            "ignoreChanges",
            "import",
            "protect",
            "provider",
            "replaceOnChanges",
            "retainOnDelete",
          ]);
          if (r.parent !== null)
            assert.ok(urns.has(r.parent), `${r.urn}: parent ${r.parent} is not in the plan`);
          assert.match(r.urn, new RegExp(`^urn:pulumi:${stack}::hubspoke::`));
          if (r.type.startsWith("kubernetes:")) assert.ok(r.cluster, `${r.urn} has no cluster`);
          else assert.equal(r.cluster, null, r.urn);
        }
        assert.ok(
          plan.resources.some((r) => r.type === "hubspoke:hub:ConjurHub"),
          "components are included",
        );
      });

      it("never writes a private key, password or data key in clear", () => {
        const files = [
          path.join(out, "plan.json"),
          path.join(out, "summary.txt"),
          ...fs.readdirSync(path.join(out, "manifests")).map((f) => path.join(out, "manifests", f)),
        ];
        for (const file of files) {
          const text = fs.readFileSync(file, "utf8");
          for (const pattern of SECRET_MATERIAL)
            assert.doesNotMatch(text, pattern, `${path.basename(file)} leaks ${pattern}`);
        }
        assert.ok(JSON.stringify(plan).includes('"[secret]"'));
      });

      it("writes manifests kubectl can apply: apiVersion, kind, metadata on every document, Secret values placeholders", () => {
        for (const file of fs.readdirSync(path.join(out, "manifests"))) {
          const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(out, "manifests", file), "utf8")).map(
            (d) => d.toJS(),
          );
          assert.ok(docs.length > 5);
          for (const doc of docs) {
            assert.ok(doc.apiVersion && doc.kind && doc.metadata?.name, JSON.stringify(doc).slice(0, 200));
            if (doc.kind === "Secret") {
              for (const v of Object.values(doc.stringData ?? {}))
                assert.equal(v, MANIFEST_SECRET_PLACEHOLDER);
            } else {
              assert.doesNotMatch(
                JSON.stringify(doc),
                /\[secret\]/,
                `${doc.kind} ${doc.metadata.name} carries a secret`,
              );
            }
          }
        }
      });
    });
  }

  describe("options and dependencies in plan.json", () => {
    const prodPlan = (): PlanDocument =>
      JSON.parse(fs.readFileSync(path.join(tmp, "prod", "plan.json"), "utf8")) as PlanDocument;
    const named = (plan: PlanDocument, suffix: string) => {
      const found = plan.resources.find((r) => r.urn.endsWith(`::${suffix}`));
      assert.ok(found, suffix);
      return found;
    };

    it("carries protect, retainOnDelete, import, ignoreChanges and dependsOn as the program sets them", () => {
      const plan = prodPlan();
      assert.equal(named(plan, "conjur-data-key").options.protect, true);
      assert.equal(named(plan, "pki-root-ca-cert").options.protect, true);
      const adopted = named(plan, "spoke-payments-euw1-tenant-payments-namespace");
      assert.equal(adopted.options.import, "payments");
      assert.equal(adopted.options.retainOnDelete, true);
      assert.deepEqual(adopted.options.ignoreChanges, ["metadata.labels", "metadata.annotations", "spec"]);
      assert.equal(named(plan, "hub-bootstrap").options.deleteBeforeReplace, true);
      const job = named(plan, "hub-policy-load");
      assert.equal(job.options.deleteBeforeReplace, false);
      assert.ok(job.options.dependsOn.some((u) => u.endsWith("::hub-bootstrap")));
      assert.equal(named(plan, "hub-namespace").options.protect, false, "negative control");
      assert.equal(
        named(plan, "hub-namespace").options.provider,
        "urn:pulumi:prod::hubspoke::pulumi:providers:kubernetes::k8s-prod-mgmt",
      );
    });

    it("records which input paths carry other resources' outputs, down to the field", () => {
      const plan = prodPlan();
      const cert = named(plan, "pki-primary-tls-cert");
      assert.deepEqual(Object.keys(cert.dependencies).sort(), [
        "caCertPem",
        "caPrivateKeyPem",
        "certRequestPem",
      ]);
      assert.ok(cert.dependencies["caCertPem"].every((u) => u.endsWith("::pki-root-ca-cert")));
      const connect = named(plan, "spoke-payments-euw1-connect");
      assert.deepEqual(Object.keys(connect.dependencies), ['data["conjur-ca.pem"]']);
    });

    it("keeps a Secret's key names and nothing of its values", () => {
      const dataKey = named(prodPlan(), "hub-data-key");
      assert.deepEqual((dataKey.inputs as Json).stringData, { key: "[secret]" });
    });

    it("keeps summary.txt's counts", () => {
      // Retained: the adopted (imported) namespace, and the backups' storage and escrow, which a
      // destroy must leave in AWS (docs/disaster-recovery.md); the label patches are deleted on
      // destroy, which hands the adopted namespaces their own labels back (docs/conversion.md).
      const retained = prodPlan().resources.filter((r) => r.options.retainOnDelete === true);
      assert.deepEqual(retained.map((r) => r.urn.split("::").pop()).sort(), [
        "dr-backup-bucket",
        "dr-backup-bucket-policy",
        "dr-backup-encryption",
        "dr-backup-escrow",
        "dr-backup-escrow-version",
        "dr-backup-kms-key",
        "dr-backup-lifecycle",
        "dr-backup-object-lock",
        "dr-backup-public-access-block",
        "dr-backup-versioning",
        "spoke-payments-euw1-tenant-payments-namespace",
      ]);
      assert.match(
        fs.readFileSync(path.join(tmp, "prod", "summary.txt"), "utf8"),
        /protected: 20, retained on delete: 11, imported: 1/,
      );
    });
  });

  describe("contents", () => {
    it("puts the hub's namespace, data key, Postgres, primary, Services, Jobs and NetworkPolicies in the hub manifest", () => {
      const docs = YAML.parseAllDocuments(
        fs.readFileSync(path.join(tmp, "prod", "manifests", "prod-mgmt.yaml"), "utf8"),
      ).map((d) => d.toJS());
      const has = (kind: string, name: RegExp) =>
        docs.some((d) => d.kind === kind && name.test(d.metadata.name));
      for (const [kind, name] of [
        ["Namespace", /^conjur-system$/],
        ["Secret", /^conjur-data-key$/],
        ["StatefulSet", /^conjur-postgres$/],
        ["StatefulSet", /^conjur-primary$/],
        ["Service", /^conjur-primary$/],
        ["Service", /^conjur-primary-external$/],
        ["Job", /^conjur-bootstrap-[0-9a-f]{10}$/],
        ["Job", /^conjur-policy-load-[0-9a-f]{10}$/],
        ["NetworkPolicy", /^default-deny$/],
      ] as const) {
        assert.ok(has(kind, name), `${kind} ${name}`);
      }
      const primary = docs.find((d) => d.kind === "StatefulSet" && d.metadata.name === "conjur-primary");
      const authenticators = primary.spec.template.spec.containers[0].env.find(
        (e: Json) => e.name === "CONJUR_AUTHENTICATORS",
      );
      assert.equal(authenticators.value, "authn,authn-k8s/hub,authn-k8s/payments-euw1,authn-k8s/web-euw1");
    });
  });

  it("exits 2 on a stack file with several mistakes, one line per key path, and writes nothing", () => {
    const config = stackConfig("staging") as Json;
    config["hubspoke:spokes"][1].name = "payments";
    config["hubspoke:spokes"][0].podCidr = "10.110.0.0";
    config["hubspoke:hub"].advertisedHostname = "elsewhere.example.com";
    config["hubspoke:colour"] = "blue";
    const file = path.join(tmp, "Pulumi.broken.yaml");
    fs.writeFileSync(file, YAML.stringify({ config }));
    const out = path.join(tmp, "broken-out");
    const result = spawnSync(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        "tools/plan.ts",
        "--stack",
        "broken",
        "--config-file",
        file,
        "--out",
        out,
      ],
      { cwd: path.resolve(__dirname, ".."), encoding: "utf8" },
    );
    assert.equal(result.status, 2, result.stderr);
    const lines = result.stderr.trim().split("\n");
    for (const line of lines) assert.match(line, /^config error: \S+: .+$/);
    for (const key of ["spokes[1].name", "spokes[0].podCidr", "hub.advertisedHostname", "colour"]) {
      assert.ok(
        lines.some((l) => l.startsWith(`config error: ${key}: `)),
        `no line for ${key}:\n${result.stderr}`,
      );
    }
    assert.equal(fs.existsSync(out), false, "nothing may be written");
  });

  it("rejects a missing --stack with usage and exit 2", () => {
    const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/plan.ts"], {
      cwd: path.resolve(__dirname, ".."),
      encoding: "utf8",
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--stack is required/);
  });
});
