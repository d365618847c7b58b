// Runs the offline plan (tools/plan.ts) once per stack for the whole test run, into a temporary
// directory, and reads its manifests back: the enforcement, schema and audit tests share these runs.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { PlanArgs, PlanResult, runPlan } from "../../tools/plan";

export interface CapturedPlan {
  readonly result: PlanResult;
  /** What the plan printed on stderr, one entry per line. */
  readonly log: string[];
  readonly outDir: string;
}

export interface ManifestDocument {
  readonly cluster: string;
  readonly object: Record<string, unknown>;
  /** The comment above the document (the URN; patches say so). */
  readonly comment: string;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-plans-"));
process.once("exit", () => fs.rmSync(root, { recursive: true, force: true }));

// Evaluations share Pulumi's global mock runtime, so they must run one after another.
let queue: Promise<unknown> = Promise.resolve();
const memo = new Map<string, Promise<CapturedPlan>>();

/** Runs the plan with these arguments (out defaults to a fresh temporary directory), serialised. */
export function capturePlan(args: Omit<PlanArgs, "out"> & { out?: string }): Promise<CapturedPlan> {
  const outDir = args.out ?? fs.mkdtempSync(path.join(root, `${args.stack}-`));
  const run = queue.then(async () => {
    const log: string[] = [];
    const result = await runPlan({ ...args, out: outDir }, (line) => log.push(line));
    return { result, log, outDir };
  });
  queue = run.catch(() => undefined);
  return run;
}

/** The plan of a stack file as it is, run once per test run. */
export function plannedStack(stack: string): Promise<CapturedPlan> {
  let plan = memo.get(stack);
  if (!plan) {
    plan = capturePlan({ stack });
    memo.set(stack, plan);
  }
  return plan;
}

/** Every document of every manifests/<cluster>.yaml a plan wrote, with the comment lines above it. */
export function readManifests(outDir: string): ManifestDocument[] {
  const dir = path.join(outDir, "manifests");
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((file) =>
      fs
        .readFileSync(path.join(dir, file), "utf8")
        .split(/^---\n/m)
        .map((text) => ({
          cluster: path.basename(file, ".yaml"),
          object: YAML.parse(text) as Record<string, unknown>,
          comment: text
            .split("\n")
            .filter((line) => line.startsWith("#"))
            .join("\n"),
        })),
    );
}

/** Every file a plan wrote, relative to its directory. */
export function planFiles(outDir: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(path.relative(outDir, full));
    }
  };
  walk(outDir);
  return files.sort();
}

/** Absolute path of a program under test/support/programs. */
export function testProgram(name: string): string {
  return path.join(__dirname, "programs", `${name}.ts`);
}
