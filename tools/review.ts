// `npm run plan -- --stack <s> --against <plan dir | git ref>`: finds the previous plan (a
// directory's plan.json, or the stack file and program as they are at a git ref, planned by that
// tree's own plan tool in a temporary directory), diffs it against the new one and writes diff.json
// and diff.md next to the new plan.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Danger, dangers, renderDiffMarkdown } from "./danger";
import { PROJECT_ROOT } from "./mock-engine";
import { DiffablePlan, DiffableResource, diffPlans, PlanDiff, SecretComparison } from "./plan-diff";
import { compareDigests, SecretDigests } from "./secret-compare";

/** Exit code of `--against` when the diff holds a dangerous change (see docs/operations.md). */
export const EXIT_DANGEROUS = 3;

/** Environment a child plan reads to send keyed secret digests to its parent over a pipe. */
export const DIGEST_KEY_ENV = "HUBSPOKE_SECRET_DIGEST_KEY";
export const DIGEST_FD_ENV = "HUBSPOKE_SECRET_DIGEST_FD";
const DIGEST_FD = 3;

export interface PreviousPlan {
  readonly plan: DiffablePlan;
  /** Keyed digests of its secret values, when the plan was made by a child in this run. */
  readonly digests?: SecretDigests;
  /** What it was planned from, for the report. */
  readonly label: string;
}

export type AgainstResult = { ok: true; previous: PreviousPlan } | { ok: false; message: string };

function git(args: readonly string[], cwd = PROJECT_ROOT): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  return { ok: r.status === 0, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** A previous plan from a directory holding plan.json. */
export function readPlanDirectory(dir: string): AgainstResult {
  const file = path.join(dir, "plan.json");
  if (!fs.existsSync(file)) return { ok: false, message: `no plan.json in ${dir}` };
  try {
    const plan = JSON.parse(fs.readFileSync(file, "utf8")) as DiffablePlan;
    if (!Array.isArray(plan.resources)) return { ok: false, message: `${file} has no resources list` };
    return { ok: true, previous: { plan, label: dir } };
  } catch (err) {
    return { ok: false, message: `${file} is not JSON: ${(err as Error).message}` };
  }
}

export interface PlanAtRefArgs {
  readonly ref: string;
  readonly stack: string;
  /** The stack file relative to the repository, when not Pulumi.<stack>.yaml. */
  readonly configFile?: string;
  /**
   * A shard's hub plan directory: the tree's plan reads the hub's outputs from it (the hub as it is
   * now; its outputs are the CA, the shared key and names, which a shard's diff does not depend on).
   */
  readonly hubPlan?: string;
  /** Key for the child's secret digests (this run only). */
  readonly digestKey: Buffer;
  readonly log: (line: string) => void;
}

/**
 * Plans the stack as it is at a git ref: `git archive` of that commit into a temporary directory,
 * this checkout's node_modules reused when package-lock.json is identical there (else `npm ci`
 * there), then that tree's own tools/plan.ts.
 */
export function planAtRef(args: PlanAtRefArgs): AgainstResult {
  const commit = git(["rev-parse", "--verify", "--quiet", `${args.ref}^{commit}`]);
  if (!commit.ok) return { ok: false, message: `"${args.ref}" is neither a plan directory nor a git ref` };
  const sha = commit.stdout.trim();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-against-"));
  try {
    const tar = path.join(tmp, "tree.tar");
    const archive = git(["archive", "--format=tar", "-o", tar, sha]);
    if (!archive.ok)
      return { ok: false, message: `git archive ${args.ref} failed: ${archive.stderr.trim()}` };
    const tree = path.join(tmp, "tree");
    fs.mkdirSync(tree);
    const untar = spawnSync("tar", ["-xf", tar, "-C", tree], { encoding: "utf8" });
    if (untar.status !== 0) return { ok: false, message: `tar failed: ${untar.stderr}` };
    if (!fs.existsSync(path.join(tree, "tools", "plan.ts")))
      return { ok: false, message: `${args.ref} has no tools/plan.ts to plan with` };

    const stackFile = args.configFile ?? `Pulumi.${args.stack}.yaml`;
    if (!fs.existsSync(path.join(tree, stackFile))) {
      args.log(`plan: ${stackFile} does not exist at ${args.ref}: every resource is new`);
      return { ok: true, previous: { plan: { stack: args.stack, resources: [] }, label: args.ref } };
    }

    const lockHere = path.join(PROJECT_ROOT, "package-lock.json");
    const lockThere = path.join(tree, "package-lock.json");
    const sameLock =
      fs.existsSync(lockHere) &&
      fs.existsSync(lockThere) &&
      fs.readFileSync(lockHere, "utf8") === fs.readFileSync(lockThere, "utf8");
    if (sameLock) {
      fs.rmSync(path.join(tree, "node_modules"), { recursive: true, force: true });
      fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
    } else {
      args.log(`plan: package-lock.json differs at ${args.ref}: running npm ci there (this takes a while)`);
      const ci = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: tree, encoding: "utf8" });
      if (ci.status !== 0)
        return { ok: false, message: `npm ci at ${args.ref} failed: ${ci.stderr.slice(-2000)}` };
    }

    const out = path.join(tmp, "out");
    const child = spawnSync(
      process.execPath,
      [
        "-r",
        // A tree from before tools/register.js runs through ts-node, which it depends on.
        fs.existsSync(path.join(tree, "tools", "register.js"))
          ? "./tools/register.js"
          : "ts-node/register/transpile-only",
        "tools/plan.ts",
        "--stack",
        args.stack,
        "--out",
        out,
        ...(args.configFile ? ["--config-file", args.configFile] : []),
        ...(args.hubPlan ? ["--hub-plan", path.resolve(args.hubPlan)] : []),
      ],
      {
        cwd: tree,
        encoding: "utf8",
        env: {
          ...process.env,
          [DIGEST_KEY_ENV]: args.digestKey.toString("hex"),
          [DIGEST_FD_ENV]: String(DIGEST_FD),
        },
        stdio: ["ignore", "pipe", "pipe", "pipe"],
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    if (child.status === 2) {
      return {
        ok: false,
        message: `the stack at ${args.ref} does not plan (exit 2):\n${(child.stderr ?? "").trim()}`,
      };
    }
    if (child.status !== 0 && child.status !== 1) {
      return {
        ok: false,
        message: `planning ${args.ref} failed (exit ${child.status}):\n${(child.stderr ?? "").slice(-4000)}`,
      };
    }
    const read = readPlanDirectory(out);
    if (!read.ok) return read;
    const channel = child.output[DIGEST_FD];
    let digests: SecretDigests | undefined;
    try {
      const text = channel ? String(channel) : "";
      digests = text ? (JSON.parse(text) as SecretDigests) : undefined;
    } catch {
      digests = undefined; // an older tree that writes nothing there: secrets stay "cannot tell"
    }
    return { ok: true, previous: { ...read.previous, label: args.ref, ...(digests ? { digests } : {}) } };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export interface Review {
  readonly diff: PlanDiff;
  readonly dangers: readonly Danger[];
  readonly markdown: string;
}

export function review(
  previous: PreviousPlan,
  next: DiffablePlan,
  secrets: SecretComparison | undefined,
): Review {
  const diff = diffPlans(previous.plan, next, secrets ? { secrets } : {});
  const byUrn = new Map<string, DiffableResource>([
    ...previous.plan.resources.map((r) => [r.urn, r] as const),
    ...next.resources.map((r) => [r.urn, r] as const),
  ]);
  const found = dangers(diff, byUrn);
  return { diff, dangers: found, markdown: renderDiffMarkdown(diff, found, { against: previous.label }) };
}

export function secretsFor(
  previous: PreviousPlan,
  current: SecretDigests | undefined,
): SecretComparison | undefined {
  return previous.digests && current ? compareDigests(previous.digests, current) : undefined;
}

export function writeReview(outDir: string, result: Review, against: string): void {
  fs.writeFileSync(
    path.join(outDir, "diff.json"),
    JSON.stringify({ against, dangers: result.dangers, ...result.diff }, null, 2) + "\n",
  );
  fs.writeFileSync(path.join(outDir, "diff.md"), result.markdown);
}
