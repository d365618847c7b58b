// `npm run plan -- --against <plan dir | git ref>`: diff.json and diff.md next to the plan, exit 0
// without a dangerous change, 3 with one, 2 for a bad --against; a git ref works in a fresh clone.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { runPlan } from "../tools/plan";
import { stackFileConfig } from "./support/stacks";

type Json = any;
const ROOT = path.resolve(__dirname, "..");

describe("plan --against", function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-against-test-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const previous = path.join(tmp, "previous");

  before(async () => {
    assert.equal((await runPlan({ stack: "staging", out: previous }, () => undefined)).exitCode, 0);
  });

  const writeStack = (name: string, edit: (c: Json) => void): string => {
    const config = stackFileConfig("staging") as Json;
    edit(config);
    const file = path.join(tmp, `Pulumi.${name}.yaml`);
    fs.writeFileSync(file, YAML.stringify({ config }));
    return file;
  };

  it("against a plan directory: a dangerous change exits 3 and diff.md leads with it", async () => {
    const out = path.join(tmp, "ca");
    const configFile = writeStack("ca", (c) => (c["hubspoke:certificates"] = { caValidityHours: 100_000 }));
    const result = await runPlan({ stack: "staging", configFile, out, against: previous }, () => undefined);
    assert.equal(result.exitCode, 3);
    const md = fs.readFileSync(path.join(out, "diff.md"), "utf8");
    assert.match(
      md,
      /\*\*Dangerous changes \(1\): approval required\*\*\n\n1\. \*\*certificate authority replaced/,
    );
    assert.match(md, /<details><summary>no cluster · pki: /);
    const json = JSON.parse(fs.readFileSync(path.join(out, "diff.json"), "utf8"));
    assert.equal(json.against, previous);
    assert.ok(json.resources.some((r: Json) => r.name === "pki-root-ca-cert" && r.op === "replace"));
  });

  it("against a plan directory: an unchanged stack exits 0, secrets it cannot compare are 'cannot tell'", async () => {
    const out = path.join(tmp, "same");
    const result = await runPlan({ stack: "staging", out, against: previous }, () => undefined);
    assert.equal(result.exitCode, 0);
    const json = JSON.parse(fs.readFileSync(path.join(out, "diff.json"), "utf8"));
    assert.deepEqual(json.dangers, []);
    assert.equal(json.counts.replace + json.counts.update + json.counts.create + json.counts.delete, 0);
    assert.ok(json.resources.every((r: Json) => r.op === "cannot-tell" && /secret/.test(r.reasons[0])));
  });

  it("rejects an --against that is neither a plan directory nor a git ref, writing nothing", async () => {
    const out = path.join(tmp, "bad");
    const lines: string[] = [];
    const result = await runPlan({ stack: "staging", out, against: "no-such-ref-or-dir" }, (l) =>
      lines.push(l),
    );
    assert.equal(result.exitCode, 2);
    assert.match(lines.join("\n"), /neither a plan directory nor a git ref/);
    assert.equal(fs.existsSync(out), false);
  });

  it("against a git ref in a fresh repository: plans that commit with its own tool, compares secrets, exit 0", () => {
    const repo = path.join(tmp, "repo");
    fs.mkdirSync(repo);
    const sh = (cmd: string, args: string[], cwd = repo) => {
      const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
      assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
      return r;
    };
    // A fresh repository holding this commit's tree, then one commit that raises follower replicas.
    const tar = path.join(tmp, "tree.tar");
    sh("git", ["archive", "--format=tar", "-o", tar, "HEAD"], ROOT);
    sh("tar", ["-xf", tar, "-C", repo]);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(repo, "node_modules"), "dir");
    const git = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"];
    sh("git", ["init", "-q"]);
    fs.appendFileSync(path.join(repo, ".git", "info", "exclude"), "node_modules\nout\n");
    sh("git", ["add", "-A"]);
    sh("git", [...git, "commit", "-qm", "base"]);
    const file = path.join(repo, "Pulumi.staging.yaml");
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    doc.setIn(["config", "hubspoke:spokes", 0, "follower"], { replicas: 3 });
    fs.writeFileSync(file, doc.toString());
    sh("git", [...git, "commit", "-qam", "more followers"]);

    const run = spawnSync(
      process.execPath,
      ["-r", "./tools/register.js", "tools/plan.ts", "--stack", "staging", "--against", "HEAD~1"],
      { cwd: repo, encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stderr);
    const json = JSON.parse(fs.readFileSync(path.join(repo, "out", "staging", "diff.json"), "utf8"));
    assert.equal(json.against, "HEAD~1");
    assert.deepEqual(
      json.resources.map((r: Json) => [r.name, r.op]),
      [["spoke-payments-follower", "update"]],
      "secrets were compared across the two runs, so nothing is 'cannot tell'",
    );
    assert.match(
      fs.readFileSync(path.join(repo, "out", "staging", "diff.md"), "utf8"),
      /No dangerous change/,
    );
  });
});
