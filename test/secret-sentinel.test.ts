// Secret hygiene: every generated secret (private keys, passwords, the data key, the service-account
// token read back from a spoke, a secret config value) gets a distinct sentinel in the mocks; none may
// appear outside Secret objects and secret outputs: not in ConfigMaps, env literals, annotations,
// labels, plain outputs, nor in plan.json, the manifests, summary.txt or the plan's log.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import type { Evaluation } from "../tools/mock-engine";
import { NO_OPTIONS, PLACEHOLDER } from "../tools/mock-engine";
import { capturePlan, CapturedPlan, testProgram } from "./support/plans";
import { formatLeak, scanEvaluation, scanPlanArtefacts, SentinelRegistry } from "./support/secret-sentinels";
import { STACKS, shippedStackFile, stackFileConfig } from "./support/stacks";

const SECRET_KUBECONFIG_KEY = "sentinelKubeconfig";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-sentinel-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * The stack file with its hub cluster reached through a secret kubeconfig (`secure:` in the file),
 * so a secret config value flows through the program too. The plan tool reads it as it reads any
 * stack file: the value becomes `PLACEHOLDER-secret-config-<key>`, marked secret.
 */
function stackFileWithSecretConfig(stack: string): { file: string; token: string } {
  const config = stackFileConfig(stack) as Record<string, any>;
  const hubCluster = config["hubspoke:hub"].cluster as string;
  const { apiServer } = config["hubspoke:clusters"][hubCluster] as { apiServer?: string };
  config["hubspoke:clusters"][hubCluster] = {
    kubeconfigSecret: SECRET_KUBECONFIG_KEY,
    ...(apiServer ? { apiServer } : {}),
  };
  // Off EKS, the backup reads its AWS credentials from a Secret the operator creates.
  if (config["hubspoke:backup"] && !config["hubspoke:backup"].credentialsSecret)
    config["hubspoke:backup"] = { ...config["hubspoke:backup"], credentialsSecret: "conjur-backup-aws" };
  const key = `hubspoke:${SECRET_KUBECONFIG_KEY}`;
  config[key] = { secure: "v1:c2VudGluZWw=" };
  const file = path.join(tmp, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, YAML.stringify({ config }));
  return { file, token: `${PLACEHOLDER}-secret-config-${key}` };
}

interface SentinelRun {
  readonly registry: SentinelRegistry;
  readonly plan: CapturedPlan;
  readonly evaluation: Evaluation;
}

async function runWithSentinels(stack: string, program?: string): Promise<SentinelRun> {
  const registry = new SentinelRegistry();
  const { file, token } = stackFileWithSecretConfig(stack);
  registry.add(token, `secret config hubspoke:${SECRET_KUBECONFIG_KEY}`);
  // The stack file's own secret values (the Leader's admin password) are sentinels as well.
  for (const key of shippedStackFile(stack).secretKeys) {
    registry.add(`${PLACEHOLDER}-secret-config-${key}`, `secret config ${key}`);
  }
  const plan = await capturePlan({
    stack,
    configFile: file,
    computed: registry.computed,
    ...(program ? { program } : {}),
  });
  assert.ok(plan.result.evaluation, plan.log.join("\n"));
  return { registry, plan, evaluation: plan.result.evaluation };
}

describe("secret sentinels", () => {
  for (const stack of STACKS) {
    describe(`stack ${stack}`, () => {
      let run: SentinelRun;
      before(async () => {
        run = await runWithSentinels(stack);
      });

      const openSource = stack === "dev";

      it("gives every generated secret its own sentinel: keys, passwords, the data key (Open Source), Argo CD's read-back token, secret config", () => {
        const tokens = run.registry.sentinels.map((s) => s.token);
        assert.equal(new Set(tokens).size, tokens.length, "sentinels are distinct");
        assert.deepEqual([...run.registry.covered].sort(), [
          // Argo CD's bearer token, read back from each non-EKS spoke (staging registers such spokes).
          ...(stack === "staging" ? ["kubernetes:core/v1:Secret (read)"] : []),
          // Enterprise: the Leader holds the data key, so the stack generates none.
          ...(openSource ? ["random:index/randomBytes:RandomBytes"] : []),
          "random:index/randomPassword:RandomPassword",
          "tls:index/privateKey:PrivateKey",
        ]);
      });

      it("finds the sentinels where they belong: Secrets, secret inputs and secret outputs", () => {
        const { occurrences } = scanEvaluation(run.evaluation, run.registry.sentinels);
        const inSecretObject = (source: RegExp) =>
          occurrences.some(
            (o) =>
              source.test(o.sentinel.source) &&
              o.where.includes("kubernetes:core/v1:Secret::") &&
              /^(?:data|stringData)\b/.test(o.path),
          );
        if (openSource) {
          assert.ok(inSecretObject(/RandomBytes conjur-data-key \.base64/), "data key in a Secret");
          assert.ok(inSecretObject(/RandomPassword conjur-admin-password/), "admin password in a Secret");
        } else {
          assert.ok(
            inSecretObject(/^secret config .*conjurLeaderAdminPassword/),
            "the Leader's admin password (secret config) in a Secret",
          );
        }
        assert.ok(inSecretObject(/PrivateKey .* \.privateKeyPem$/), "a private key in a Secret");
        assert.ok(
          occurrences.some((o) => o.sentinel.source.startsWith("secret config") && o.wrapped),
          "the secret kubeconfig reaches its provider, still secret",
        );
        if (openSource) {
          assert.ok(
            occurrences.some((o) => o.where === "output dataKey" && o.wrapped),
            "the dataKey output carries the data key, as a secret",
          );
        }
      });

      it("finds no sentinel in plain inputs, non-Secret objects or plain outputs", () => {
        const { leaks } = scanEvaluation(run.evaluation, run.registry.sentinels);
        assert.deepEqual(leaks.map(formatLeak), []);
      });

      it("finds no sentinel in plan.json, the manifests, summary.txt or the plan's log", () => {
        const leaks = scanPlanArtefacts(run.plan.outDir, run.plan.log, run.registry.sentinels);
        assert.deepEqual(leaks.map(formatLeak), []);
      });
    });
  }

  describe("negative control: a program that leaks a generated password", () => {
    let run: SentinelRun;
    before(async () => {
      run = await runWithSentinels("dev", testProgram("leaky"));
    });

    it("reports the password in a ConfigMap (marked and unmarked) and in a plain output", () => {
      const { leaks } = scanEvaluation(run.evaluation, run.registry.sentinels);
      const leaked = leaks.filter((l) => /RandomPassword leaky-password \.result/.test(l.sentinel.source));
      assert.deepEqual(
        leaked.map((l) => `${l.where.replace(/^resource .*::/, "resource ")} ${l.path}`).sort(),
        [
          "output leakedPassword (root)",
          "resource leaky-marked data.password",
          "resource leaky-unmarked data.password",
        ],
      );
      // Only the leaks the program added: the real stack's secrets stay where they belong.
      assert.deepEqual(leaks.filter((l) => !leaked.includes(l)).map(formatLeak), []);
    });

    it("reports the unmarked copy in plan.json and the hub's manifest", () => {
      const files = scanPlanArtefacts(run.plan.outDir, run.plan.log, run.registry.sentinels).map(
        (l) => l.where,
      );
      assert.ok(files.includes("file plan.json"), files.join(", "));
      assert.ok(files.includes("file manifests/dev-hub.yaml"), files.join(", "));
    });

    it("is stopped by the plan as well: the marked copy breaks no-secret-outside-secret-objects", () => {
      assert.equal(run.plan.result.exitCode, 1);
      assert.ok(
        (run.plan.result.violations ?? []).some(
          (v) => v.rule === "no-secret-outside-secret-objects" && v.urn.endsWith("::leaky-marked"),
        ),
      );
    });
  });

  describe("the scanner on a crafted record", () => {
    it("flags sentinels in env literals, labels and annotations, and passes a Secret's wrapped data", () => {
      const registry = new SentinelRegistry();
      const token = registry.issue("test password");
      const wrap = (value: unknown) => ({
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        value,
      });
      const resource = (type: string, name: string, inputs: Record<string, unknown>) => ({
        urn: `urn:pulumi:t::hubspoke::${type}::${name}`,
        type,
        name,
        custom: true,
        inputs,
        provider: undefined,
        parent: undefined,
        options: NO_OPTIONS,
        dependencies: {},
      });
      const evaluation: Evaluation = {
        stack: "t",
        outputs: {},
        resources: [
          resource("kubernetes:core/v1:Secret", "ok", {
            metadata: { name: "ok" },
            stringData: wrap({ password: token }),
          }),
          resource("kubernetes:apps/v1:Deployment", "bad", {
            metadata: { name: "bad", annotations: { note: token }, labels: { hash: wrap(token) } },
            spec: {
              template: { spec: { containers: [{ env: [{ name: "DB_PASSWORD", value: `x${token}y` }] }] } },
            },
          }),
          resource("kubernetes:core/v1:ConfigMap", "b64", {
            metadata: { name: "b64" },
            binaryData: { blob: Buffer.from(`prefix:${token}`).toString("base64") },
          }),
        ],
      };
      const leaks = scanEvaluation(evaluation, registry.sentinels).leaks;
      assert.deepEqual(
        leaks.map((l) => `${l.where.split("::").pop()} ${l.path}${l.decoded ? " (base64)" : ""}`).sort(),
        [
          "b64 binaryData.blob (base64)",
          "bad metadata.annotations.note",
          "bad metadata.labels.hash",
          "bad spec.template.spec.containers[0].env[0].value",
        ],
      );
    });
  });
});
