// Finds and runs Debian's promtool and prometheus (package `prometheus`, 2.42) for the tests.
// The binaries are required: a missing one fails the test with how to install it, never skips it.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const INSTALL_HINT =
  "install Debian's package (`apt-get install -y prometheus`) or point the env var at the binary";

function findOnPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter((d) => d !== "");
  for (const dir of [...dirs, "/usr/bin", "/usr/local/bin"]) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function requireBinary(name: string, envVar: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv !== undefined && fromEnv !== "") {
    try {
      fs.accessSync(fromEnv, fs.constants.X_OK);
    } catch {
      throw new Error(`${envVar}=${fromEnv} is not an executable file`);
    }
    return fromEnv;
  }
  const found = findOnPath(name);
  if (found === undefined) {
    throw new Error(`${name} not found on PATH: ${INSTALL_HINT} (${envVar}=/path/to/${name})`);
  }
  return found;
}

/** Path of promtool ($PROMTOOL or PATH); throws with install instructions when missing. */
export function requirePromtool(): string {
  return requireBinary("promtool", "PROMTOOL");
}

/** Path of prometheus ($PROMETHEUS or PATH); throws with install instructions when missing. */
export function requirePrometheus(): string {
  return requireBinary("prometheus", "PROMETHEUS");
}

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The command line and both streams, for assertion messages. */
  transcript: string;
}

/** Runs promtool with a bounded timeout. */
export function runPromtool(args: string[], cwd?: string): ToolResult {
  const promtool = requirePromtool();
  const result = spawnSync(promtool, args, { cwd, encoding: "utf8", timeout: 30_000 });
  if (result.error !== undefined) throw result.error;
  const transcript = `$ promtool ${args.join(" ")}\n(exit ${String(result.status)})\n${result.stdout}${result.stderr}`;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, transcript };
}

/** A loopback port that was free a moment ago (bind to port 0, read it, release it). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("no port assigned"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export interface PrometheusProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (for failure messages). */
  log(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** Starts a Prometheus on 127.0.0.1 with its own storage directory; the caller must stop() it. */
export function startPrometheus(options: {
  configFile: string;
  storageDir: string;
  port: number;
  webConfigFile?: string;
}): PrometheusProcess {
  const args = [
    `--config.file=${options.configFile}`,
    `--storage.tsdb.path=${options.storageDir}`,
    `--web.listen-address=127.0.0.1:${options.port}`,
    "--log.level=warn",
  ];
  if (options.webConfigFile !== undefined) args.push(`--web.config.file=${options.webConfigFile}`);
  const child = spawn(requirePrometheus(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const append = (chunk: Buffer): void => {
    // Keep the tail only: a bounded buffer even if the process logs a lot.
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  child.on("error", (err) => {
    output += `\nspawn error: ${err.message}`;
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once("exit", () => resolve());
  });
  return {
    port: options.port,
    child,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killTimer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killTimer);
    },
  };
}

let kubernetesSdSupport: boolean | undefined;

/**
 * Whether this promtool understands `kubernetes_sd_configs`. Debian's build does not: it is
 * compiled without the Kubernetes (and Consul, Azure) discovery mechanisms, so any config with
 * that block fails `check config` there although upstream Prometheus accepts it.
 */
export function promtoolSupportsKubernetesSd(): boolean {
  if (kubernetesSdSupport === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promtool-probe-"));
    try {
      const file = path.join(dir, "probe.yml");
      fs.writeFileSync(
        file,
        "scrape_configs:\n  - job_name: probe\n    kubernetes_sd_configs:\n      - role: pod\n",
      );
      kubernetesSdSupport = runPromtool(["check", "config", "--syntax-only", file]).status === 0;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return kubernetesSdSupport;
}
