// Finds and runs the real Fluent Bit for the tests. `npm test` provides it (tools/test-tools.sh:
// FLUENT_BIT_BIN, PATH, the official packages' /opt/fluent-bit/bin or a build in .tools/); a
// missing binary, or one of another major release than the stacks pin, fails the tests with how to
// get it, never skips them. Processes are started on loopback, waited for in bounded loops and
// stopped by their PID.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { DEFAULT_IMAGES } from "../../stacks/defaults";
import { imageTagVersion } from "../../stacks/validators";

const REPO = path.resolve(__dirname, "../..");

/** The major release of the stacks' default Fluent Bit image: the binary must match it. */
export const PINNED_FLUENT_BIT_MAJOR = imageTagVersion(DEFAULT_IMAGES.fluentBit)?.major;

const INSTALL_HINT =
  "run the tests with `npm test`, which finds or builds it (tools/test-tools.sh), install Fluent Bit " +
  `${PINNED_FLUENT_BIT_MAJOR ?? "?"}.x from its official packages ` +
  "(https://docs.fluentbit.io/manual/installation/downloads/linux), or set FLUENT_BIT_BIN=/path/to/fluent-bit";

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** "5.1.1" from `fluent-bit --version`, or undefined when the program does not run or say so. */
export function fluentBitVersion(binary: string): string | undefined {
  const result = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return /^Fluent Bit v(\d+\.\d+\.\d+)/m.exec(`${result.stdout ?? ""}`)?.[1];
}

function hasPinnedMajor(version: string | undefined): boolean {
  return version !== undefined && Number(version.split(".")[0]) === PINNED_FLUENT_BIT_MAJOR;
}

function candidates(env: NodeJS.ProcessEnv): string[] {
  const onPath = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => path.join(dir, "fluent-bit"));
  const toolsDir = env.HUBSPOKE_TOOLS_DIR ?? path.join(REPO, ".tools");
  return [
    ...onPath,
    "/opt/fluent-bit/bin/fluent-bit",
    path.join(toolsDir, "fluent-bit", "bin", "fluent-bit"),
  ];
}

/**
 * The Fluent Bit binary and its version, looked up in `env`: $FLUENT_BIT_BIN if set (it must be
 * right), else the first of PATH, /opt/fluent-bit/bin and .tools/fluent-bit/bin with the pinned
 * major release. Throws with how to install it otherwise.
 */
export function findFluentBit(env: NodeJS.ProcessEnv): { binary: string; version: string } {
  if (PINNED_FLUENT_BIT_MAJOR === undefined) {
    throw new Error(`cannot read the pinned Fluent Bit release from "${DEFAULT_IMAGES.fluentBit}"`);
  }
  const fromEnv = env.FLUENT_BIT_BIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!isExecutable(fromEnv)) throw new Error(`FLUENT_BIT_BIN=${fromEnv} is not an executable file`);
    const version = fluentBitVersion(fromEnv);
    if (version === undefined || !hasPinnedMajor(version)) {
      throw new Error(
        `FLUENT_BIT_BIN=${fromEnv} is Fluent Bit ${version ?? "(unknown version)"}, ` +
          `the stacks pin ${PINNED_FLUENT_BIT_MAJOR}.x: ${INSTALL_HINT}`,
      );
    }
    return { binary: fromEnv, version };
  }
  for (const binary of candidates(env).filter(isExecutable)) {
    const version = fluentBitVersion(binary);
    if (version !== undefined && hasPinnedMajor(version)) return { binary, version };
  }
  throw new Error(`fluent-bit ${PINNED_FLUENT_BIT_MAJOR}.x not found: ${INSTALL_HINT}`);
}

let found: { binary: string; version: string } | undefined;

/** findFluentBit for this process's environment, looked up once. */
export function requireFluentBit(): { binary: string; version: string } {
  found ??= findFluentBit(process.env);
  return found;
}

export interface RunResult {
  status: number | null;
  output: string;
}

/** Runs fluent-bit to completion (`--dry-run`, `-S`) with a bounded timeout. */
export function runFluentBit(args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  const { binary } = requireFluentBit();
  const result = spawnSync(binary, args, {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Same as runFluentBit, without blocking the event loop (so several run side by side). */
export function runFluentBitAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const { binary } = requireFluentBit();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running fluent-bit: its PID, what it printed, and a stop that waits for the exit. */
export interface FluentBitProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything written to stdout so far (the sink's json_lines records). */
  stdout(): string;
  /** stdout and stderr interleaved, the last 200 kB (for failure messages). */
  log(): string;
  running(): boolean;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM to its PID; SIGKILL after the grace period; resolves with how it exited. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

const started = new Set<FluentBitProcess>();

/** Starts `fluent-bit -c <config>`; stop it (or call stopAllFluentBit) when done. */
export function startFluentBit(configFile: string, env: NodeJS.ProcessEnv = {}): FluentBitProcess {
  const { binary } = requireFluentBit();
  const child = spawn(binary, ["-c", configFile], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${binary}`);
  const pid = child.pid;
  let out = "";
  let all = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
    all = (all + chunk.toString("utf8")).slice(-200_000);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    all = (all + chunk.toString("utf8")).slice(-200_000);
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const proc: FluentBitProcess = {
    pid,
    child,
    stdout: () => out,
    log: () => all,
    running: () => child.exitCode === null && child.signalCode === null,
    exited,
    stop: async (graceMs = 15_000) => {
      if (proc.running()) {
        process.kill(pid, "SIGTERM");
        const killer = setTimeout(() => {
          if (proc.running()) process.kill(pid, "SIGKILL");
        }, graceMs);
        const status = await exited;
        clearTimeout(killer);
        started.delete(proc);
        return status;
      }
      started.delete(proc);
      return exited;
    },
  };
  started.add(proc);
  void exited.then(() => started.delete(proc));
  return proc;
}

/** Stops every fluent-bit this module started that still runs (for `after` hooks). */
export async function stopAllFluentBit(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop(5_000)));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than undefined: at most `attempts` times,
 * `intervalMs` apart. Throws with `what` and the diagnostics when it never does.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { attempts?: number; intervalMs?: number; diagnostics?: () => string } = {},
): Promise<T> {
  const attempts = options.attempts ?? 100;
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(options.intervalMs ?? 200);
  }
  throw new Error(`gave up waiting for ${what}${options.diagnostics ? `\n${options.diagnostics()}` : ""}`);
}

/** GET http://127.0.0.1:<port><path>; undefined when nothing answers. */
export function httpGet(
  port: number,
  urlPath: string,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path: urlPath, timeout: 2_000 }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(undefined));
  });
}
