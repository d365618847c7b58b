// `npm run plan -- --stack <name> [--config-file <path>] [--out <dir>] [--against <dir | git ref>]
// [--inventory <dir>] [--hub-plan <dir>]`: evaluates index.ts on Pulumi's mock runtime, writes plan.json,
// outputs.json, manifests/<cluster>.yaml, audit/<cluster>-audit-policy.yaml and summary.txt (a
// shard stack reads its hub stack's outputs.json: tools/stack-references.ts), and runs the policy
// pack's rules over the recorded resources. With --against, also diff.json and diff.md
// (tools/review.ts); with --inventory, also preflight.json and preflight.md (tools/preflight/).
// Exit 2 with one `config error:` line per problem (nothing written) on invalid config or usage, or
// one `preflight error:` line per problem on a bad inventory or an unaccepted finding; exit 1 on a
// mandatory policy violation (after writing the artefacts, so a reviewer can read them); with
// --against, exit 3 when the diff holds a dangerous change (and no mandatory violation).
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  buildStackSpec,
  conjurTopologyLine,
  formatConfigError,
  isConfigValidationError,
  StackSpec,
} from "../stacks/spec";
import { CONFIG_NAMESPACE, decodeConfigValue } from "../stacks/load";
import { environmentFromStackName, evaluate, stackContextFor } from "../policy/engine";
import type { StackContext, Violation } from "../policy/types";
import { configAsStrings, evaluateStack, EvaluateArgs, Evaluation, PROJECT_ROOT } from "./mock-engine";
import {
  auditPolicies,
  buildManifests,
  buildPlanDocument,
  buildSummary,
  formatViolation,
  managedResources,
  plannedResources,
  sortViolations,
} from "./plan-output";
import { readStackFile, stackFilePath } from "./stack-file";
import {
  DIGEST_FD_ENV,
  DIGEST_KEY_ENV,
  EXIT_DANGEROUS,
  planAtRef,
  PreviousPlan,
  readPlanDirectory,
  review,
  secretsFor,
  writeReview,
} from "./review";
import { newDigestKey, secretDigests } from "./secret-compare";
import { preflightStep } from "./preflight";
import { tenantStageLines } from "../stacks/tenancy";
import { buildOutputsDocument, hubPlanFor, OUTPUTS_FILE } from "./stack-references";
import { layoutLine } from "../stacks/layout";

export interface PlanArgs {
  readonly stack: string;
  readonly configFile?: string;
  readonly out?: string;
  /** Program entry instead of index.ts (tests: the real program plus a deliberately unsafe resource). */
  readonly program?: string;
  /** Overrides for computed values (tests: distinct sentinels for every generated secret). */
  readonly computed?: EvaluateArgs["computed"];
  /** A previous plan directory or a git ref to diff against (writes diff.json and diff.md). */
  readonly against?: string;
  /** Directory of `<cluster>.yaml` inventories: run the preflight against them. */
  readonly inventory?: string;
  /** A shard's hub plan directory (default: out/<hub stack name> beside this plan's directory). */
  readonly hubPlan?: string;
}

export interface PlanResult {
  readonly exitCode: number;
  readonly outDir?: string;
  readonly evaluation?: Evaluation;
  /** Every policy violation, mandatory first; exit code 1 when any is mandatory. */
  readonly violations?: Violation[];
  readonly context?: StackContext;
}

const USAGE =
  "usage: npm run plan -- --stack <name> [--config-file <path>] [--out <dir>] [--against <plan dir | git ref>] [--inventory <dir>] [--hub-plan <dir>]";

/** The spec the program built from the same config, through the same decoding Pulumi applies. */
export function specFromConfig(
  config: Readonly<Record<string, unknown>>,
  secretKeys: readonly string[] = [],
): StackSpec | undefined {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw = Object.fromEntries(
    Object.entries(configAsStrings(config))
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), decodeConfigValue(value)]),
  );
  const result = buildStackSpec(raw, {
    secretKeys: new Set(secretKeys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length))),
  });
  return result.ok ? result.spec : undefined;
}

/**
 * What the rules need to know about the stack: its environment and whether irreplaceable resources
 * must be protected, exactly as the program derived them (stack file value, else the environment's
 * default). Without a valid spec (a custom program), the exported `environment` or the stack name.
 */
export function stackContextOf(spec: StackSpec | undefined, evaluation: Evaluation): StackContext {
  if (spec) {
    return { environment: spec.environment, protectIrreplaceable: spec.protectIrreplaceable };
  }
  const exported = evaluation.outputs["environment"];
  const environment =
    environmentFromStackName(typeof exported === "string" ? exported : "") ??
    environmentFromStackName(evaluation.stack) ??
    "prod"; // fail closed: unknown means the strictest context
  return stackContextFor(environment);
}

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
  if (!stackFile.ok) {
    for (const e of stackFile.errors) log(formatConfigError(e));
    return { exitCode: 2 };
  }
  // A shard reads its hub stack's outputs: from the hub's plan, which must exist and match.
  const outDir = path.resolve(args.out ?? path.join(PROJECT_ROOT, "out", args.stack));
  const declared = specFromConfig(stackFile.config, stackFile.secretKeys);
  const hubPlan = declared ? hubPlanFor(declared, args.hubPlan, path.dirname(outDir)) : undefined;
  if (hubPlan && !hubPlan.ok) {
    log(`plan error: ${hubPlan.message}`);
    return { exitCode: 2 };
  }
  // The previous plan first: a bad --against is a usage error, and nothing may be written then.
  const digestKey = newDigestKey();
  let previous: PreviousPlan | undefined;
  if (args.against !== undefined) {
    const found =
      fs.existsSync(args.against) && fs.statSync(args.against).isDirectory()
        ? readPlanDirectory(args.against)
        : planAtRef({
            ref: args.against,
            stack: args.stack,
            ...(args.configFile && !path.relative(PROJECT_ROOT, file).startsWith("..")
              ? { configFile: path.relative(PROJECT_ROOT, file) }
              : {}),
            ...(hubPlan?.ok && hubPlan.dir ? { hubPlan: hubPlan.dir } : {}),
            digestKey,
            log,
          });
    if (!found.ok) {
      log(`plan: --against ${args.against}: ${found.message}`);
      return { exitCode: 2 };
    }
    previous = found.previous;
  }
  let evaluation: Evaluation;
  try {
    evaluation = await evaluateStack({
      stack: args.stack,
      config: stackFile.config,
      secretKeys: stackFile.secretKeys,
      ...(hubPlan?.ok ? { stackReferences: hubPlan.references } : {}),
      ...(args.program ? { program: args.program } : {}),
      ...(args.computed ? { computed: args.computed } : {}),
    });
  } catch (err) {
    if (isConfigValidationError(err)) {
      for (const e of err.errors) log(formatConfigError(e));
      return { exitCode: 2 };
    }
    throw err;
  }
  const spec = specFromConfig(stackFile.config, stackFile.secretKeys);
  const preflight = preflightStep(args.stack, args.inventory, spec, evaluation);
  if (!preflight.ok) {
    for (const line of preflight.errors) log(line);
    return { exitCode: 2 };
  }
  const context = stackContextOf(spec, evaluation);
  const violations = sortViolations(evaluate(plannedResources(evaluation), context));
  const mandatory = violations.filter((v) => v.level === "mandatory");

  // Self-managed control planes take the policy as a file; managed ones (EKS) through their settings.
  const audit = [...auditPolicies(evaluation)].sort(([a], [b]) => a.localeCompare(b));
  const isManaged = (cluster: string): boolean => spec?.clusters[cluster]?.eks !== undefined;
  const auditFiles = audit
    .filter(([cluster]) => !isManaged(cluster))
    .map(([cluster, document]) => ({ file: `audit/${cluster}-audit-policy.yaml`, document }));
  const pending = (evaluation.outputs["pendingSpokes"] ?? []) as { name: string; phase: number }[];
  const conversionPhase = evaluation.outputs["conversionPhase"] as number | undefined;
  const summary = buildSummary(evaluation, {
    ...(spec ? { conjur: conjurTopologyLine(spec) } : {}),
    ...(spec && layoutLine(spec.layout) ? { layout: layoutLine(spec.layout) } : {}),
    pendingSpokes: pending,
    ...(conversionPhase !== undefined ? { conversionPhase } : {}),
    audit: {
      files: auditFiles.map((a) => a.file),
      managedClusters: audit.map(([cluster]) => cluster).filter(isManaged),
    },
    violations: violations.map(formatViolation),
    notes: [...(spec ? tenantStageLines(spec.spokes) : []), "", ...preflight.summary],
  });
  for (const dir of ["manifests", "audit"])
    fs.rmSync(path.join(outDir, dir), { recursive: true, force: true });
  fs.mkdirSync(path.join(outDir, "manifests"), { recursive: true });
  fs.writeFileSync(
    path.join(outDir, "plan.json"),
    JSON.stringify(buildPlanDocument(evaluation), null, 2) + "\n",
  );
  fs.writeFileSync(
    path.join(outDir, OUTPUTS_FILE),
    JSON.stringify(buildOutputsDocument(evaluation.outputs), null, 2) + "\n",
  );
  for (const [cluster, yaml] of buildManifests(evaluation)) {
    fs.writeFileSync(path.join(outDir, "manifests", `${cluster}.yaml`), yaml);
  }
  if (auditFiles.length) fs.mkdirSync(path.join(outDir, "audit"), { recursive: true });
  for (const { file: auditFile, document } of auditFiles) {
    fs.writeFileSync(path.join(outDir, auditFile), document);
  }
  fs.writeFileSync(path.join(outDir, "summary.txt"), summary);
  for (const file of ["preflight.json", "preflight.md"]) fs.rmSync(path.join(outDir, file), { force: true });
  preflight.write(outDir);
  log(
    `plan: wrote ${path.relative(process.cwd(), outDir) || "."} (${evaluation.resources.length} resources)`,
  );
  for (const v of mandatory) log(formatViolation(v));
  const advisory = violations.length - mandatory.length;
  log(
    `policy: ${mandatory.length} mandatory, ${advisory} advisory violation(s)` +
      (violations.length ? " (listed in summary.txt)" : ""),
  );
  let dangerous = false;
  if (previous) {
    const current = secretDigests(managedResources(evaluation), digestKey);
    const result = review(previous, buildPlanDocument(evaluation), secretsFor(previous, current));
    writeReview(outDir, result, previous.label);
    dangerous = result.dangers.length > 0;
    const c = result.diff.counts;
    log(
      `diff against ${previous.label}: ${c.create} create, ${c.update} update, ${c.replace} replace, ` +
        `${c.delete} delete, ${c["cannot-tell"]} cannot tell; ` +
        (dangerous ? `${result.dangers.length} dangerous change(s) (diff.md)` : "no dangerous change"),
    );
  }
  const exitCode = mandatory.length ? 1 : dangerous ? EXIT_DANGEROUS : 0;
  return { exitCode, outDir, evaluation, violations, context };
}

/** A parent planning `--against <git ref>` asked for keyed digests of this plan's secrets. */
function sendSecretDigests(evaluation: Evaluation | undefined): void {
  const key = process.env[DIGEST_KEY_ENV];
  const fd = Number(process.env[DIGEST_FD_ENV]);
  if (!evaluation || !key || !Number.isInteger(fd)) return;
  try {
    fs.writeSync(fd, JSON.stringify(secretDigests(managedResources(evaluation), Buffer.from(key, "hex"))));
  } catch {
    // No pipe there: nobody asked.
  }
}

async function main(): Promise<void> {
  let values: {
    stack?: string;
    "config-file"?: string;
    out?: string;
    against?: string;
    inventory?: string;
    "hub-plan"?: string;
  };
  try {
    ({ values } = parseArgs({
      options: {
        stack: { type: "string" },
        "config-file": { type: "string" },
        out: { type: "string" },
        against: { type: "string" },
        inventory: { type: "string" },
        "hub-plan": { type: "string" },
      },
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
    ...(values.against ? { against: values.against } : {}),
    ...(values.inventory ? { inventory: values.inventory } : {}),
    ...(values["hub-plan"] ? { hubPlan: values["hub-plan"] } : {}),
  });
  sendSecretDigests(result.evaluation);
  process.exit(result.exitCode);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
