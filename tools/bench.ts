// `npm run bench [-- --spokes 1,10,100 --json]`: plans synthetic estates (five tenants per spoke;
// 1, 10, 50 and 100 spokes unless --spokes says otherwise) and, in the same run, a bare program
// registering the same number of plain resources under the same mocks. Each measurement runs in its
// own process so peak memory is its own. Prints a table, or with --json one JSON object per row.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { evaluateStack, PROJECT_ROOT } from "./mock-engine";

export const SPOKE_COUNTS = [1, 10, 50, 100] as const;
const TENANTS_PER_SPOKE = 5;

/** A valid stack config with `spokes` spokes, each with five tenants of one application. */
export function syntheticConfig(spokes: number): Record<string, unknown> {
  const clusters: Record<string, unknown> = { hub: { context: "hub" } };
  const spokeList = [];
  for (let i = 1; i <= spokes; i++) {
    const cluster = `spoke-${i}`;
    clusters[cluster] = { context: cluster, apiServer: `https://api.${cluster}.bench.internal:6443` };
    spokeList.push({
      name: `s${i}`,
      cluster,
      region: i % 2 ? "eu-west-1" : "eu-central-1",
      // A /24 per spoke: distinct and valid for any fleet size up to 65,535 spokes.
      podCidr: `10.${Math.floor(i / 256)}.${i % 256}.0/24`,
      phase: 1,
      tenants: Array.from({ length: TENANTS_PER_SPOKE }, (_, t) => ({
        name: `tenant-${t}`,
        existing: t % 2 === 0,
        quota: { requestsCpu: "4", requestsMemory: "8Gi", pods: 40 },
        applications: [{ name: "app", serviceAccount: "app", secrets: ["db-password", "api-key"] }],
      })),
    });
  }
  return {
    "pulumi:disable-default-providers": ["kubernetes"],
    "hubspoke:environment": "staging",
    "hubspoke:conjurAccount": "bench",
    "hubspoke:clusters": clusters,
    "hubspoke:hub": {
      cluster: "hub",
      region: "eu-west-1",
      podCidr: "172.16.0.0/16",
      hostnames: ["conjur.bench.internal"],
    },
    "hubspoke:spokes": spokeList,
    "hubspoke:conversion": { phase: 1 },
  };
}

interface Measurement {
  readonly resources: number;
  readonly ms: number;
  readonly peakMb: number;
}

/** Child-process entry: one measurement, printed as JSON. */
async function measure(mode: "program" | "bare", spokes: number, count: number): Promise<void> {
  const config = mode === "program" ? syntheticConfig(spokes) : {};
  const program = mode === "bare" ? path.join(__dirname, "bench-bare.ts") : undefined;
  process.env["HUBSPOKE_BENCH_COUNT"] = String(count);
  const started = process.hrtime.bigint();
  const evaluation = await evaluateStack({ stack: "bench", config, ...(program ? { program } : {}) });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const result: Measurement = {
    resources: evaluation.resources.length,
    ms,
    peakMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

function runChild(mode: "program" | "bare", spokes: number, count: number): Measurement {
  const out = execFileSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", __filename, "--child", mode, String(spokes), String(count)],
    { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as Measurement;
}

/** The command line: `--spokes 1,10,100` (whole numbers, ascending) and `--json`. */
export function benchOptions(argv: readonly string[]): { spokes: number[]; json: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: { spokes: { type: "string" }, json: { type: "boolean", default: false } },
    strict: true,
  });
  const spokes = values.spokes === undefined ? [...SPOKE_COUNTS] : values.spokes.split(",").map(Number);
  if (
    spokes.some((n) => !Number.isInteger(n) || n < 1) ||
    spokes.some((n, i) => i > 0 && n <= spokes[i - 1])
  ) {
    throw new Error(`--spokes: expected ascending whole numbers such as 1,10,100, got ${values.spokes}`);
  }
  return { spokes, json: values.json === true };
}

function main(argv: readonly string[]): void {
  const options = benchOptions(argv);
  const rows: string[] = [];
  const header =
    "| spokes | resources | plan time (s) | peak RSS (MB) | bare time (s) | bare peak (MB) | ratio | ms per resource | marginal ms per resource (program / bare) |";
  rows.push(header, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  if (!options.json) console.log(header);
  let previous: { program: Measurement; bare: Measurement } | undefined;
  for (const spokes of options.spokes) {
    const program = runChild("program", spokes, 0);
    const bare = runChild("bare", spokes, program.resources);
    // What each resource added since the previous size costs: fixed start-up cost cancels out.
    const marginal = previous
      ? (() => {
          const added = program.resources - previous.program.resources;
          const p = (program.ms - previous.program.ms) / added;
          const b = (bare.ms - previous.bare.ms) / added;
          return `${p.toFixed(2)} / ${b.toFixed(2)}`;
        })()
      : "-";
    const row = `| ${spokes} | ${program.resources} | ${(program.ms / 1000).toFixed(2)} | ${program.peakMb.toFixed(0)} | ${(bare.ms / 1000).toFixed(2)} | ${bare.peakMb.toFixed(0)} | ${(program.ms / bare.ms).toFixed(2)} | ${(program.ms / program.resources).toFixed(2)} | ${marginal} |`;
    rows.push(row);
    if (options.json) {
      console.log(JSON.stringify({ spokes, program, bare, ratio: program.ms / bare.ms }));
    } else {
      console.log(row);
    }
    previous = { program, bare };
  }
  const out = path.join(PROJECT_ROOT, ".bench");
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, "results.md");
  fs.writeFileSync(file, `${os.cpus().length} cores, Node ${process.version}\n\n${rows.join("\n")}\n`);
  if (!options.json) console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    measure(args[1] as "program" | "bare", Number(args[2]), Number(args[3])).catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  } else {
    try {
      main(args);
    } catch (err) {
      console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    }
  }
}
