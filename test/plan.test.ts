// The offline plan end to end: artefacts for every stack, the contract's shape, redaction, and
// exit 2 with one line per config error and nothing written.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { evaluate as evaluatePolicy } from "../policy/engine";
import { runPlan } from "../tools/plan";
import { MANIFEST_SECRET_PLACEHOLDER, PlanDocument, plannedResources } from "../tools/plan-output";
import { STACKS, stackFileConfig, withDisasterRecovery } from "./support/stacks";

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

/** No file of a plan directory holds generated secret material in clear. */
function assertNoSecretMaterial(out: string): void {
  const files = [
    path.join(out, "plan.json"),
    path.join(out, "outputs.json"),
    path.join(out, "summary.txt"),
    ...fs.readdirSync(path.join(out, "manifests")).map((f) => path.join(out, "manifests", f)),
  ];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    for (const pattern of SECRET_MATERIAL)
      assert.doesNotMatch(text, pattern, `${path.basename(file)} leaks ${pattern}`);
  }
}

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
        assertNoSecretMaterial(out);
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
      assert.equal(named(plan, "pki-root-ca-cert").options.protect, true);
      // Enterprise: the Leader holds the data key; the stack generates none.
      assert.ok(!plan.resources.some((r) => r.urn.endsWith("::conjur-data-key")));
      const adopted = named(plan, "spoke-payments-euw1-tenant-payments-namespace");
      assert.equal(adopted.options.import, "payments");
      assert.equal(adopted.options.retainOnDelete, true);
      assert.deepEqual(adopted.options.ignoreChanges, ["metadata.labels", "metadata.annotations", "spec"]);
      // Open Source (dev): the policy load waits for the account bootstrap.
      const devPlan = JSON.parse(fs.readFileSync(path.join(tmp, "dev", "plan.json"), "utf8")) as PlanDocument;
      assert.equal(named(devPlan, "hub-bootstrap").options.deleteBeforeReplace, true);
      const job = named(devPlan, "hub-policy-load");
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
      // Open Source (dev): the tenant's connection ConfigMap carries the estate CA, which signs the hub.
      const devPlan = JSON.parse(fs.readFileSync(path.join(tmp, "dev", "plan.json"), "utf8")) as PlanDocument;
      const connect = named(devPlan, "spoke-apps-tenant-team-a-conjur-connect");
      assert.deepEqual(Object.keys(connect.dependencies), ["data.CONJUR_SSL_CERTIFICATE"]);
    });

    it("keeps a Secret's key names and nothing of its values", () => {
      const admin = named(prodPlan(), "hub-admin");
      assert.deepEqual((admin.inputs as Json).stringData, { password: "[secret]" });
    });

    it("keeps summary.txt's counts", () => {
      // Retained: only the adopted (imported) namespace; the label patches are deleted on destroy,
      // which hands the adopted namespaces their own labels back (docs/conversion.md).
      const retained = prodPlan().resources.filter((r) => r.options.retainOnDelete === true);
      assert.deepEqual(
        retained.map((r) => r.urn.split("::").pop()),
        ["spoke-payments-euw1-tenant-payments-namespace"],
      );
      assert.match(
        fs.readFileSync(path.join(tmp, "prod", "summary.txt"), "utf8"),
        // The root CA (key and certificate) and each converted spoke's authn-k8s CA.
        /protected: 6, retained on delete: 1, imported: 1/,
      );
    });
  });

  describe("contents", () => {
    const manifest = (stack: string, cluster: string) =>
      YAML.parseAllDocuments(
        fs.readFileSync(path.join(tmp, stack, "manifests", `${cluster}.yaml`), "utf8"),
      ).map((d) => d.toJS());
    const has = (docs: Json[], kind: string, name: RegExp) =>
      docs.some((d) => d.kind === kind && name.test(d.metadata.name));

    it("Open Source (dev): the hub manifest has the namespace, data key, Postgres, primary, Services, Jobs and NetworkPolicies", () => {
      const docs = manifest("dev", "dev-hub");
      for (const [kind, name] of [
        ["Namespace", /^conjur-system$/],
        ["Secret", /^conjur-data-key$/],
        ["StatefulSet", /^conjur-postgres$/],
        ["StatefulSet", /^conjur-primary$/],
        ["Service", /^conjur-primary$/],
        ["Job", /^conjur-bootstrap-[0-9a-f]{10}$/],
        ["Job", /^conjur-policy-load-[0-9a-f]{10}$/],
        ["NetworkPolicy", /^default-deny$/],
      ] as const) {
        assert.ok(has(docs, kind, name), `${kind} ${name}`);
      }
      const primary = docs.find((d) => d.kind === "StatefulSet" && d.metadata.name === "conjur-primary");
      const authenticators = primary.spec.template.spec.containers[0].env.find(
        (e: Json) => e.name === "CONJUR_AUTHENTICATORS",
      );
      assert.equal(authenticators.value, "authn,authn-k8s/hub,authn-jwt/apps");
      // No follower and no Conjur secret on the spoke.
      const spoke = manifest("dev", "dev-apps");
      assert.ok(!spoke.some((d) => /follower/.test(d.metadata.name) || d.kind === "ConjurFollower"));
      assert.ok(!spoke.some((d) => d.kind === "Secret" && /conjur/.test(d.metadata.name)));
    });

    it("Enterprise (prod): no Conjur server in the hub, the policy load against the Leader, a ConjurFollower per spoke", () => {
      const docs = manifest("prod", "prod-mgmt");
      for (const [kind, name] of [
        ["Namespace", /^conjur-system$/],
        ["Secret", /^conjur-admin$/],
        ["ConfigMap", /^conjur-leader-ca$/],
        ["Job", /^conjur-policy-load-[0-9a-f]{10}$/],
        ["Job", /^conjur-policy-load-payments-euw1-[0-9a-f]{10}$/],
        ["Job", /^conjur-policy-load-web-euw1-[0-9a-f]{10}$/],
      ] as const) {
        assert.ok(has(docs, kind, name), `${kind} ${name}`);
      }
      assert.ok(!docs.some((d) => d.kind === "StatefulSet" && /^conjur-/.test(d.metadata.name)));
      assert.ok(!has(docs, "Secret", /^conjur-data-key$/));
      const load = (configMap: string) =>
        docs.find((d) => d.kind === "ConfigMap" && d.metadata.name === configMap).data["load.sh"];
      assert.match(load("conjur-policy"), /URL='https:\/\/conjur-leader\.prod\.acme\.com'/);
      assert.match(load("conjur-policy-payments-euw1"), /enable_authenticator 'authn-jwt\/payments-euw1'/);
      for (const cluster of ["prod-payments-euw1", "prod-web-euw1"]) {
        const spoke = manifest("prod", cluster);
        assert.ok(has(spoke, "ConjurFollower", /^conjur-follower$/), cluster);
        assert.ok(!spoke.some((d) => d.kind === "Secret" && /conjur/.test(d.metadata.name)), cluster);
      }
    });
  });

  // prod ships as Conjur Enterprise, which refuses backup and failover: its Open Source twin with the
  // settings docs/disaster-recovery.md shows, planned from a stack file as the docs tell a user to.
  describe("an Open Source prod with backup and failover (--config-file)", () => {
    const out = path.join(tmp, "prod-oss");
    let plan: PlanDocument;
    let result: Awaited<ReturnType<typeof runPlan>>;
    before(async () => {
      const config = stackFileConfig("prod");
      withDisasterRecovery("prod")(config);
      const configFile = path.join(tmp, "Pulumi.prod-oss.yaml");
      fs.writeFileSync(configFile, YAML.stringify({ config }));
      result = await runPlan({ stack: "prod-oss", configFile, out }, () => undefined);
      assert.equal(result.exitCode, 0);
      plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as PlanDocument;
    });
    const ofType = (type: string) => plan.resources.filter((r) => r.type === type);

    it("plans the KMS key, the bucket and its side resources, the CronJobs, Pod Identity, escrow, the health check and the failover records", () => {
      for (const [type, count] of [
        ["aws:kms/key:Key", 1],
        ["aws:kms/alias:Alias", 1],
        ["aws:s3/bucket:Bucket", 1],
        ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", 1],
        ["aws:s3/bucketVersioning:BucketVersioning", 1],
        ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", 1],
        ["aws:s3/bucketPolicy:BucketPolicy", 1],
        ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", 1],
        ["aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", 1],
        ["aws:iam/role:Role", 1],
        ["aws:eks/podIdentityAssociation:PodIdentityAssociation", 1],
        ["aws:secretsmanager/secret:Secret", 1],
        ["aws:route53/healthCheck:HealthCheck", 1],
        ["aws:route53/record:Record", 2],
      ] as const) {
        assert.equal(ofType(type).length, count, type);
      }
      const hub = YAML.parseAllDocuments(
        fs.readFileSync(path.join(out, "manifests", "prod-mgmt.yaml"), "utf8"),
      ).map((d) => d.toJS());
      const cronJobs = hub.filter((d) => d.kind === "CronJob").map((d) => [d.metadata.name, d.spec.suspend]);
      assert.deepEqual(cronJobs.sort(), [
        ["conjur-backup", false],
        ["conjur-restore", true],
      ]);
      // The escrow, the backup passphrase and the recovery kit stay secrets in the plan too.
      assertNoSecretMaterial(out);
    });

    it("keeps the backups' storage and escrow on destroy, with no mandatory violation, the bucket rule live", () => {
      const retained = plan.resources.filter((r) => r.options.retainOnDelete === true);
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
      assert.deepEqual(
        (result.violations ?? []).filter((v) => v.level === "mandatory"),
        [],
      );
      // The policy pack's backup-bucket-protected rule reads this plan: without the bucket's
      // encryption settings the same plan fails it.
      assert.ok(result.evaluation);
      const withoutSse = plannedResources(result.evaluation).filter(
        (r) => !r.type.startsWith("aws:s3/bucketServerSideEncryptionConfiguration:"),
      );
      const found = evaluatePolicy(withoutSse, { environment: "prod", protectIrreplaceable: true });
      assert.ok(
        found.some(
          (v) => v.rule === "backup-bucket-protected" && v.level === "mandatory" && /SSE-KMS/.test(v.message),
        ),
        found.map((v) => `${v.rule}: ${v.message}`).join("\n"),
      );
    });
  });

  it("exits 2 on a stack file with several mistakes, one line per key path, and writes nothing", () => {
    const config = stackFileConfig("staging") as Json;
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
        "./tools/register.js",
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
    const result = spawnSync(process.execPath, ["-r", "./tools/register.js", "tools/plan.ts"], {
      cwd: path.resolve(__dirname, ".."),
      encoding: "utf8",
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--stack is required/);
  });
});
