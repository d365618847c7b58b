// Offline enforcement: `npm run plan` runs the policy pack's rules over what the program registers,
// lists every violation in summary.txt, and fails (exit 1) on a mandatory one, after writing the
// artefacts so a reviewer can read them.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { isIrreplaceable } from "../policy/engine";
import { plannedResources, formatViolation } from "../tools/plan-output";
import { capturePlan, CapturedPlan, plannedStack, testProgram } from "./support/plans";
import { STACKS } from "./support/stacks";

const summaryOf = (plan: CapturedPlan): string =>
  fs.readFileSync(path.join(plan.outDir, "summary.txt"), "utf8");

describe("offline policy enforcement", () => {
  for (const stack of STACKS) {
    it(`plans stack ${stack} with zero mandatory violations and lists the advisory ones in summary.txt`, async () => {
      const plan = await plannedStack(stack);
      const mandatory = (plan.result.violations ?? []).filter((v) => v.level === "mandatory");
      assert.deepEqual(mandatory.map(formatViolation), [], `mandatory violations in ${stack}`);
      assert.equal(plan.result.exitCode, 0, plan.log.join("\n"));
      const summary = summaryOf(plan);
      assert.match(summary, /\npolicy violations(?::\n|: none\n)/);
      for (const v of plan.result.violations ?? []) {
        assert.ok(summary.includes(`  ${formatViolation(v)}\n`), `summary lacks ${formatViolation(v)}`);
      }
      assert.ok(
        plan.log.some((line) => /^policy: 0 mandatory, \d+ advisory violation/.test(line)),
        plan.log.join("\n"),
      );
    });
  }

  it("takes the stack context from the stack's config: prod protects irreplaceable resources, dev does not", async () => {
    const prod = await plannedStack("prod");
    const dev = await plannedStack("dev");
    assert.deepEqual(prod.result.context, { environment: "prod", protectIrreplaceable: true });
    assert.deepEqual(dev.result.context, { environment: "dev", protectIrreplaceable: false });
    // The protection rule has something to judge in prod, and all of it is protected.
    const evaluation = prod.result.evaluation;
    assert.ok(evaluation);
    const irreplaceable = plannedResources(evaluation).filter((r) => isIrreplaceable(r));
    assert.ok(irreplaceable.length >= 3, "data key, CA keys and CA certificates");
    for (const r of irreplaceable) assert.equal(r.opts.protect, true, r.urn);
  });

  it("gives the rules each Kubernetes object's cluster and explicit provider", async () => {
    const { result } = await plannedStack("staging");
    assert.ok(result.evaluation);
    const objects = plannedResources(result.evaluation).filter((r) => r.type.startsWith("kubernetes:"));
    assert.ok(objects.length > 50);
    for (const r of objects) {
      assert.ok(r.cluster, `${r.urn} has no cluster`);
      assert.match(r.provider ?? "", /[:$]pulumi:providers:kubernetes::k8s-[a-z0-9-]+::/, r.urn);
    }
  });

  describe("a deliberately unsafe resource (a privileged container on the hub)", () => {
    let plan: CapturedPlan;
    before(async () => {
      plan = await capturePlan({ stack: "dev", program: testProgram("privileged-pod") });
    });

    it("fails the plan with exit code 1", () => {
      assert.equal(plan.result.exitCode, 1);
    });

    it("names the rule, the resource and the field on stderr", () => {
      const line = plan.log.find((l) => l.startsWith("[mandatory] pod-security-restricted "));
      assert.ok(line, plan.log.join("\n"));
      assert.match(line, /kubernetes:core\/v1:Pod::unsafe-debug-shell: /);
      assert.match(line, /securityContext\.privileged must not be true/);
      assert.ok(
        plan.log.some((l) => /^policy: 1 mandatory, \d+ advisory/.test(l)),
        plan.log.join("\n"),
      );
    });

    it("objects to nothing else about it: the rest of the pod is hardened", () => {
      const aboutPod = (plan.result.violations ?? []).filter((v) => v.urn.endsWith("::unsafe-debug-shell"));
      assert.deepEqual(
        aboutPod.filter((v) => v.level === "mandatory").map((v) => v.rule),
        ["pod-security-restricted"],
      );
    });

    it("still writes every artefact, with the violation in summary.txt", () => {
      for (const file of ["plan.json", "summary.txt", "manifests/dev-hub.yaml"]) {
        assert.ok(fs.existsSync(path.join(plan.outDir, file)), file);
      }
      assert.match(
        summaryOf(plan),
        /\npolicy violations:\n(?:.*\n)*? {2}\[mandatory\] pod-security-restricted urn:pulumi:dev::hubspoke::kubernetes:core\/v1:Pod::unsafe-debug-shell: /,
      );
    });
  });
});
