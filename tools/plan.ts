// `npm run plan -- --stack <name> [--config-file <path>] [--out <dir>]`: evaluates index.ts on
// Pulumi's mock runtime and writes plan.json, manifests/<cluster>.yaml and summary.txt.
// Exit 2 with one `config error:` line per problem (nothing written) on invalid config.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { formatConfigError, isConfigValidationError } from "../stacks/spec";
import { evaluateStack, Evaluation, PROJECT_ROOT } from "./mock-engine";
import { buildManifests, buildPlanDocument, buildSummary } from "./plan-output";
import { readStackFile, stackFilePath } from "./stack-file";

export interface PlanArgs {
  readonly stack: string;
  readonly configFile?: string;
  readonly out?: string;
}

export interface PlanResult {
  readonly exitCode: number;
  readonly outDir?: string;
  readonly evaluation?: Evaluation;
}

const USAGE = "usage: npm run plan -- --stack <name> [--config-file <path>] [--out <dir>]";

export async function runPlan(
  args: PlanArgs,
  log: (line: string) => void = console.error,
): Promise<PlanResult> {
  const file = args.configFile ? path.resolve(args.configFile) : stackFilePath(args.stack);
  if (!fs.existsSync(file)) {
    log(`plan: stack file not found: ${file}`);
    return { exitCode: 2 };
  }
  const stackFile = readStackFile(file);
  let evaluation: Evaluation;
  try {
    evaluation = await evaluateStack({
      stack: args.stack,
      config: stackFile.config,
      secretKeys: stackFile.secretKeys,
    });
  } catch (err) {
    if (isConfigValidationError(err)) {
      for (const e of err.errors) log(formatConfigError(e));
      return { exitCode: 2 };
    }
    throw err;
  }
  const outDir = path.resolve(args.out ?? path.join(PROJECT_ROOT, "out", args.stack));
  const pending = (evaluation.outputs["pendingSpokes"] ?? []) as { name: string; phase: number }[];
  const conversionPhase = evaluation.outputs["conversionPhase"] as number | undefined;
  const summary = buildSummary(evaluation, {
    pendingSpokes: pending,
    ...(conversionPhase !== undefined ? { conversionPhase } : {}),
  });
  fs.rmSync(path.join(outDir, "manifests"), { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, "manifests"), { recursive: true });
  fs.writeFileSync(
    path.join(outDir, "plan.json"),
    JSON.stringify(buildPlanDocument(evaluation), null, 2) + "\n",
  );
  for (const [cluster, yaml] of buildManifests(evaluation)) {
    fs.writeFileSync(path.join(outDir, "manifests", `${cluster}.yaml`), yaml);
  }
  fs.writeFileSync(path.join(outDir, "summary.txt"), summary);
  log(
    `plan: wrote ${path.relative(process.cwd(), outDir) || "."} (${evaluation.resources.length} resources)`,
  );
  return { exitCode: 0, outDir, evaluation };
}

async function main(): Promise<void> {
  let values: { stack?: string; "config-file"?: string; out?: string };
  try {
    ({ values } = parseArgs({
      options: { stack: { type: "string" }, "config-file": { type: "string" }, out: { type: "string" } },
      strict: true,
    }));
  } catch (err) {
    console.error(`plan: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (!values.stack) {
    console.error(`plan: --stack is required\n${USAGE}`);
    process.exit(2);
  }
  const result = await runPlan({
    stack: values.stack,
    ...(values["config-file"] ? { configFile: values["config-file"] } : {}),
    ...(values.out ? { out: values.out } : {}),
  });
  process.exit(result.exitCode);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
