// The preflight's artefacts: preflight.json (machine-readable), preflight.md (for reviewers) and the
// lines summary.txt carries. Pure renderers.
import type { Finding } from "./checks";
import { INVENTORY_COMMAND } from "./inventory";
import type { PreflightReport } from "./preflight";

export const FINDING_CATEGORY_ORDER = [
  "pod-security",
  "network",
  "quota",
  "name-collision",
  "label-conflict",
] as const;

export interface PreflightCounts {
  readonly findings: number;
  readonly errors: number;
  readonly warnings: number;
  readonly acknowledged: number;
  readonly byCategory: Readonly<Record<string, number>>;
}

export function countFindings(findings: readonly Finding[]): PreflightCounts {
  const byCategory: Record<string, number> = {};
  for (const category of FINDING_CATEGORY_ORDER) byCategory[category] = 0;
  for (const f of findings) byCategory[f.category] += 1;
  return {
    findings: findings.length,
    errors: findings.filter((f) => f.severity === "error" && !f.acknowledged).length,
    warnings: findings.filter((f) => f.severity === "warning" && !f.acknowledged).length,
    acknowledged: findings.filter((f) => f.acknowledged).length,
    byCategory,
  };
}

export function preflightJson(stack: string, inventoryDir: string, report: PreflightReport): string {
  const document = {
    stack,
    inventory: inventoryDir,
    clusters: report.clusters.map((c) => ({
      cluster: c.cluster,
      role: c.role,
      checked: c.file !== undefined,
      ...(c.file ? { file: c.file } : {}),
      candidateFlows: c.flows,
      tenants: c.tenants,
    })),
    counts: countFindings(report.findings),
    findings: report.findings.map((f) => ({
      cluster: f.cluster,
      namespace: f.namespace,
      kind: f.kind,
      name: f.name,
      category: f.category,
      detail: f.detail,
      severity: f.severity,
      ...(f.acknowledged ? { acknowledged: f.acknowledged } : {}),
    })),
  };
  return JSON.stringify(document, null, 2) + "\n";
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function preflightMarkdown(stack: string, inventoryDir: string, report: PreflightReport): string {
  const counts = countFindings(report.findings);
  const lines = [
    `# Preflight: stack ${stack}`,
    "",
    `Inventory: \`${inventoryDir}\` (one \`<cluster>.yaml\` per cluster, from \`${INVENTORY_COMMAND}\`).`,
    "",
    `${counts.findings} finding(s): ${counts.errors} error(s) that stop the plan, ${counts.warnings} warning(s) ` +
      `(what enforcing would break), ${counts.acknowledged} acknowledged.`,
    "",
    "An **error** is caused by what `pulumi up` renders now (a tenant at `enforce`, a quota, a label the " +
      "patch sets, an object it creates). A **warning** is what the enforce stage of an observed tenant, " +
      "or its audit/warn Pod Security level, would break. Flows are inferred from the inventory " +
      "(docs/conversion.md lists how, and what no inventory can show): check them against flow logs.",
    "",
  ];
  for (const c of report.clusters) {
    lines.push(`## ${c.cluster} (${c.role})`, "");
    if (!c.file) {
      lines.push("Not checked: no inventory file for this cluster.", "");
      continue;
    }
    lines.push(`Inventory file \`${c.file}\`; ${c.flows} candidate flow(s) across tenant boundaries.`, "");
    if (c.tenants.length) {
      lines.push("| tenant | stage |", "| --- | --- |");
      for (const t of c.tenants) lines.push(`| ${t.name} | ${cell(t.stage)} |`);
      lines.push("");
    }
    const findings = report.findings.filter((f) => f.cluster === c.cluster);
    if (findings.length === 0) {
      lines.push("No findings.", "");
      continue;
    }
    for (const category of FINDING_CATEGORY_ORDER) {
      const inCategory = findings.filter((f) => f.category === category);
      if (inCategory.length === 0) continue;
      lines.push(
        `### ${category}`,
        "",
        "| severity | namespace | object | detail |",
        "| --- | --- | --- | --- |",
      );
      for (const f of inCategory) {
        const severity = f.acknowledged ? `acknowledged (${cell(f.acknowledged)})` : f.severity;
        lines.push(`| ${severity} | ${f.namespace} | ${f.kind}/${f.name} | ${cell(f.detail)} |`);
      }
      lines.push("");
    }
  }
  return lines.join("\n");
}

/** The lines summary.txt gets: counts per category, or that no preflight ran. */
export function preflightSummaryLines(report: PreflightReport | undefined): string[] {
  if (!report) {
    return [
      "preflight: not run (no --inventory): nothing was checked against the live clusters; see docs/conversion.md",
    ];
  }
  const counts = countFindings(report.findings);
  const unchecked = report.clusters.filter((c) => !c.file).map((c) => c.cluster);
  return [
    `preflight: ${counts.findings} finding(s): ${counts.errors} error(s), ${counts.warnings} warning(s), ` +
      `${counts.acknowledged} acknowledged (preflight.md, preflight.json)`,
    `  by category: ${FINDING_CATEGORY_ORDER.map((c) => `${c} ${counts.byCategory[c]}`).join(", ")}`,
    ...(unchecked.length ? [`  not checked (no inventory file): ${unchecked.join(", ")}`] : []),
  ];
}
