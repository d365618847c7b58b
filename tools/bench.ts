// `npm run bench [-- --spokes 1,10,100 --shards 1000:250 --json]`: plans synthetic estates (five
// tenants per spoke; 1, 10, 50 and 100 spokes unless --spokes says otherwise) and, in the same run,
// a bare program registering the same number of plain resources under the same mocks; with
// --shards, a fleet as a sharded layout (a hub stack, then shard stacks reading its outputs). Each
// measurement runs in its own process so peak memory is its own. Prints a table, or with --json
// one JSON object per row.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { evaluateStack, PROJECT_ROOT } from "./mock-engine";
import { buildOutputsDocument, StackReferenceState, stackReferenceState } from "./stack-references";

export const SPOKE_COUNTS = [1, 10, 50, 100] as const;
const TENANTS_PER_SPOKE = 5;

/** A sharded layout's stack (docs/sharding.md): Conjur Enterprise, and the hub or a shard of it. */
export interface ShardedOptions {
  /** Number of the first spoke (spokes are s<first>..s<first + spokes - 1>). */
  readonly first: number;
  readonly layout: { role: "hub"; spokeCidrs: string[] } | { role: "shard"; hubStack: string };
}

/** The synthetic hub stack's name, as its shards reference it. */
export const BENCH_HUB_STACK = "bench/hubspoke/bench-hub";
const LEADER_PASSWORD_KEY = "benchLeaderPassword";

/** What a sharded layout's stacks add: Conjur Enterprise with an external Leader, and the layout. */
function shardedSettings(options: ShardedOptions): Record<string, unknown> {
  return {
    "hubspoke:layout": options.layout,
    "hubspoke:conjur": {
      edition: "enterprise",
      leader: {
        placement: "external",
        url: "https://conjur-leader.bench.internal",
        caCertificate: "-----BEGIN CERTIFICATE-----\nbench\n-----END CERTIFICATE-----\n",
        adminPasswordSecret: LEADER_PASSWORD_KEY,
      },
      follower: {
        kind: "kubernetes",
        images: { registry: "registry.bench.internal/cyberark", version: "2.6.0" },
      },
    },
    [`hubspoke:${LEADER_PASSWORD_KEY}`]: "bench-password",
  };
}

/** Config keys a synthetic stack holds as secrets. */
export const SYNTHETIC_SECRET_KEYS = [`hubspoke:${LEADER_PASSWORD_KEY}`];

/**
 * A valid stack config with `spokes` spokes, each with five tenants of one application; with
 * `sharded`, a hub stack or a shard of a sharded layout.
 */
export function syntheticConfig(spokes: number, sharded?: ShardedOptions): Record<string, unknown> {
  const clusters: Record<string, unknown> = { hub: { context: "hub" } };
  const spokeList = [];
  const first = sharded?.first ?? 1;
  for (let i = first; i < first + spokes; i++) {
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
    ...(sharded ? shardedSettings(sharded) : {}),
  };
}

interface Measurement {
  readonly resources: number;
  readonly ms: number;
  readonly peakMb: number;
}

type Mode = "program" | "bare" | "hub" | "shard";

/**
 * Child-process entry: one measurement, printed as JSON. `program` and `bare`: `spokes` spokes and a
 * bare program of `count` resources; `hub`: the hub stack of a sharded layout, whose outputs it
 * writes to `refs` as a shard's StackReference reads them; `shard`: `spokes` spokes from number
 * `count` on, reading the hub's outputs from `refs`.
 */
async function measure(mode: Mode, spokes: number, count: number, refs?: string): Promise<void> {
  const config =
    mode === "program"
      ? syntheticConfig(spokes)
      : mode === "hub"
        ? syntheticConfig(0, { first: 1, layout: { role: "hub", spokeCidrs: ["10.0.0.0/8"] } })
        : mode === "shard"
          ? syntheticConfig(spokes, { first: count, layout: { role: "shard", hubStack: BENCH_HUB_STACK } })
          : {};
  const program = mode === "bare" ? path.join(__dirname, "bench-bare.ts") : undefined;
  process.env["HUBSPOKE_BENCH_COUNT"] = String(count);
  const stackReferences =
    mode === "shard" && refs
      ? { [BENCH_HUB_STACK]: JSON.parse(fs.readFileSync(refs, "utf8")) as StackReferenceState }
      : undefined;
  const started = process.hrtime.bigint();
  const evaluation = await evaluateStack({
    stack: mode === "hub" ? "bench-hub" : "bench",
    config,
    secretKeys: SYNTHETIC_SECRET_KEYS,
    ...(program ? { program } : {}),
    ...(stackReferences ? { stackReferences } : {}),
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (mode === "hub" && refs)
    fs.writeFileSync(refs, JSON.stringify(stackReferenceState(buildOutputsDocument(evaluation.outputs))));
  const result: Measurement = {
    resources: evaluation.resources.length,
    ms,
    peakMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

function runChild(mode: Mode, spokes: number, count: number, refs?: string): Measurement {
  const out = execFileSync(
    process.execPath,
    [
      "-r",
      "./tools/register.js",
      __filename,
      "--child",
      mode,
      String(spokes),
      String(count),
      ...(refs ? [refs] : []),
    ],
    { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as Measurement;
}

/**
 * A fleet as a sharded layout: the hub stack, then each shard of `perShard` spokes, one after the
 * other (in CI they run in parallel after the hub: the wall time is the hub's plus the slowest
 * shard's). Returns the table rows.
 */
function benchShards(fleet: number, perShard: number, json: boolean): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-bench-"));
  const refs = path.join(dir, "hub-outputs.json");
  const rows: string[] = [];
  const report = (stack: string, spokes: number, m: Measurement) => {
    const row = `| ${stack} | ${spokes} | ${m.resources} | ${(m.ms / 1000).toFixed(2)} | ${m.peakMb.toFixed(0)} | ${(m.ms / m.resources).toFixed(2)} |`;
    rows.push(row);
    console.log(json ? JSON.stringify({ layout: "sharded", stack, spokes, ...m }) : row);
  };
  const header = "| stack | spokes | resources | plan time (s) | peak RSS (MB) | ms per resource |";
  rows.push(header, "| --- | ---: | ---: | ---: | ---: | ---: |");
  if (!json) console.log(`\n${fleet} spokes as shards of ${perShard}\n${header}`);
  try {
    const hub = runChild("hub", 0, 0, refs);
    report("hub", 0, hub);
    const shards: Measurement[] = [];
    for (let first = 1, i = 1; first <= fleet; first += perShard, i++) {
      const spokes = Math.min(perShard, fleet - first + 1);
      const m = runChild("shard", spokes, first, refs);
      shards.push(m);
      report(`shard-${i}`, spokes, m);
    }
    const slowest = Math.max(...shards.map((m) => m.ms));
    const total = shards.reduce((sum, m) => sum + m.ms, hub.ms);
    const summary = `all ${shards.length} shards: ${shards.reduce((n, m) => n + m.resources, hub.resources)} resources; one after the other ${(total / 1000).toFixed(1)} s, in parallel after the hub ${((hub.ms + slowest) / 1000).toFixed(1)} s; highest peak ${Math.max(...shards.map((m) => m.peakMb)).toFixed(0)} MB`;
    rows.push("", summary);
    if (!json) console.log(summary);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export interface BenchOptions {
  /** Fleet sizes of one stack; empty with --shards alone. */
  readonly spokes: number[];
  /** A fleet as shards: `fleet` spokes, `perShard` per shard stack. */
  readonly shards?: { readonly fleet: number; readonly perShard: number };
  readonly json: boolean;
}

/**
 * The command line: `--spokes 1,10,100` (whole numbers, ascending), `--shards 1000:250` (a fleet of
 * 1,000 spokes in shards of 250; alone, it skips the one-stack rows) and `--json`.
 */
export function benchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      spokes: { type: "string" },
      shards: { type: "string" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const spokes =
    values.spokes === undefined
      ? values.shards === undefined
        ? [...SPOKE_COUNTS]
        : []
      : values.spokes.split(",").map(Number);
  if (
    spokes.some((n) => !Number.isInteger(n) || n < 1) ||
    spokes.some((n, i) => i > 0 && n <= spokes[i - 1])
  ) {
    throw new Error(`--spokes: expected ascending whole numbers such as 1,10,100, got ${values.spokes}`);
  }
  let shards: BenchOptions["shards"];
  if (values.shards !== undefined) {
    const match = /^(\d+):(\d+)$/.exec(values.shards);
    const fleet = Number(match?.[1]);
    const perShard = Number(match?.[2]);
    if (!match || fleet < 1 || perShard < 1 || perShard > fleet)
      throw new Error(`--shards: expected <fleet>:<spokes per shard> such as 1000:250, got ${values.shards}`);
    shards = { fleet, perShard };
  }
  return { spokes, ...(shards ? { shards } : {}), json: values.json === true };
}

function main(argv: readonly string[]): void {
  const options = benchOptions(argv);
  const rows: string[] = [];
  const header =
    "| spokes | resources | plan time (s) | peak RSS (MB) | bare time (s) | bare peak (MB) | ratio | ms per resource | marginal ms per resource (program / bare) |";
  rows.push(header, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  if (!options.json && options.spokes.length) console.log(header);
  if (!options.spokes.length) rows.length = 0;
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
  if (options.shards)
    rows.push("", ...benchShards(options.shards.fleet, options.shards.perShard, options.json));
  const out = path.join(PROJECT_ROOT, ".bench");
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, "results.md");
  fs.writeFileSync(file, `${os.cpus().length} cores, Node ${process.version}\n\n${rows.join("\n")}\n`);
  if (!options.json) console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    measure(args[1] as Mode, Number(args[2]), Number(args[3]), args[4]).catch((err: unknown) => {
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
