// Real Postgres servers for the restore tests: initdb + pg_ctl on a private Unix socket (no TCP, no
// network), torn down by `stop()`. The binaries come from $POSTGRES_BIN_DIR (tools/test-tools.sh
// exports it) or Debian's /usr/lib/postgresql/<major>/bin; a missing one fails with how to install it.
import { spawnSync, SpawnSyncOptions } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const INSTALL_HINT =
  "install Debian's Postgres server (`apt-get install -y postgresql`) or set POSTGRES_BIN_DIR to the directory holding initdb and pg_ctl";

/** The directory holding initdb, pg_ctl, pg_dump, pg_restore and psql. */
export function requirePostgresBinDir(): string {
  const candidates = [process.env.POSTGRES_BIN_DIR ?? ""];
  try {
    for (const major of fs.readdirSync("/usr/lib/postgresql").sort().reverse())
      candidates.push(`/usr/lib/postgresql/${major}/bin`);
  } catch {
    // no Debian layout
  }
  for (const dir of candidates) {
    if (
      dir !== "" &&
      ["initdb", "pg_ctl", "pg_dump", "pg_restore", "psql"].every((b) => isExecutable(path.join(dir, b)))
    )
      return dir;
  }
  throw new Error(
    `Postgres server binaries not found (tried ${candidates.filter(Boolean).join(", ")}): ${INSTALL_HINT}`,
  );
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** initdb and the server refuse to run as root: as root they run as the `postgres` system user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ["runuser", ["-u", "postgres", "--", command, ...args]];
}

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 60_000, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(" ")} exited ${String(result.status)}:\n${String(result.stdout)}${String(result.stderr)}`,
    );
  return String(result.stdout);
}

export interface PostgresServer {
  readonly socketDir: string;
  readonly port: number;
  /** Environment for libpq clients (psql, pg_dump, pg_restore) reaching this server as `postgres`. */
  readonly clientEnv: Record<string, string>;
  /** Runs SQL in a database, returns unaligned tuples-only output. */
  psql(database: string, sql: string): string;
  stop(): void;
}

/** A fresh cluster in `dir`, listening only on a Unix socket there; `port` names the socket. */
export function startPostgres(binDir: string, dir: string, port: number): PostgresServer {
  fs.mkdirSync(dir, { recursive: true });
  const data = path.join(dir, "data");
  const socketDir = path.join(dir, "socket");
  fs.mkdirSync(socketDir);
  if (process.getuid?.() === 0) run("chown", ["-R", "postgres:postgres", dir]);
  run(
    ...asServerUser(path.join(binDir, "initdb"), [
      "-D",
      data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ]),
  );
  const options = `-c listen_addresses='' -c unix_socket_directories='${socketDir}' -p ${port} -c fsync=off`;
  run(
    ...asServerUser(path.join(binDir, "pg_ctl"), [
      "-D",
      data,
      "-o",
      options,
      "-l",
      path.join(dir, "server.log"),
      "-w",
      "start",
    ]),
  );
  const clientEnv = { PGHOST: socketDir, PGPORT: String(port), PGUSER: "postgres" };
  const psqlBin = path.join(binDir, "psql");
  return {
    socketDir,
    port,
    clientEnv,
    psql(database, sql) {
      return run(psqlBin, ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql], {
        env: { ...process.env, ...clientEnv },
      });
    },
    stop() {
      spawnSync(...asServerUser(path.join(binDir, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]), {
        encoding: "utf8",
        timeout: 60_000,
      });
    },
  };
}
