// The plan's `--inventory <dir>` step: read the inventories, run the preflight over the evaluated
// plan, and either stop (exit 2, `preflight error:` lines, nothing written) or hand back what to write.
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackSpec } from "../../stacks/spec";
import type { Evaluation } from "../mock-engine";
import { clusterOf, managedResources, providerClusters } from "../plan-output";
import { InventoryError, readInventoryDirectory } from "./inventory";
import { blockingFindings, formatBlocking, runPreflight, type PreflightReport } from "./preflight";
import { preflightJson, preflightMarkdown, preflightSummaryLines } from "./report";

export { INVENTORY_COMMAND } from "./inventory";
export { runPreflight, blockingFindings } from "./preflight";
export type { PreflightReport, Finding } from "./preflight";

export type PreflightStep =
  | { readonly ok: false; readonly errors: readonly string[] }
  | {
      readonly ok: true;
      readonly report?: PreflightReport;
      /** Lines for summary.txt. */
      readonly summary: readonly string[];
      /** Writes preflight.json and preflight.md (nothing when no preflight ran). */
      readonly write: (outDir: string) => void;
    };

/**
 * Runs the preflight when an inventory directory is given. A bad inventory, an adopted namespace that
 * does not exist, or an error finding nobody acknowledged: `ok: false` with one `preflight error:` line
 * each, and the caller writes nothing.
 */
export function preflightStep(
  stack: string,
  inventoryDir: string | undefined,
  spec: StackSpec | undefined,
  evaluation: Evaluation,
): PreflightStep {
  if (inventoryDir === undefined || spec === undefined) {
    return { ok: true, summary: preflightSummaryLines(undefined), write: () => undefined };
  }
  let inventories;
  try {
    inventories = readInventoryDirectory(inventoryDir, Object.keys(spec.clusters));
  } catch (err) {
    if (err instanceof InventoryError)
      return { ok: false, errors: [`preflight error: ${err.file}: ${err.message}`] };
    throw err;
  }
  const providers = providerClusters(evaluation.resources);
  const recorded = managedResources(evaluation).map((r) => ({
    urn: r.urn,
    type: r.type,
    cluster: clusterOf(r, providers),
    props: r.inputs,
    imported: r.options.import !== undefined,
  }));
  const report = runPreflight({ spec, recorded, inventories });
  const blocking = [
    ...report.errors.map((e) => `preflight error: ${e}`),
    ...blockingFindings(report).map(formatBlocking),
  ];
  if (blocking.length) return { ok: false, errors: blocking };
  const shown = path.relative(process.cwd(), path.resolve(inventoryDir)) || ".";
  return {
    ok: true,
    report,
    summary: preflightSummaryLines(report),
    write: (outDir) => {
      fs.writeFileSync(path.join(outDir, "preflight.json"), preflightJson(stack, shown, report));
      fs.writeFileSync(path.join(outDir, "preflight.md"), preflightMarkdown(stack, shown, report));
    },
  };
}
