// The generated backup and restore scripts, unchanged, against two real Postgres servers. Server A
// holds a Conjur-like `secrets` table whose values are encrypted the way Conjur stores them
// (Slosilo's AES-256-GCM with the data key, the resource id as additional data); the backup runs,
// S3 is a directory behind a stand-in `aws` (test/support/aws-s3-stub.sh), and the restore lands in
// server B. Every row must decrypt there with the data key and fail with any other; a damaged
// archive, a wrong backup key or a wrong data key must fail loudly and leave B's database as it was.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BACKUP_ENV, buildBackupScripts, SCRIPT_FILES, ScriptFile } from "../../components/dr/scripts";
import { PostgresServer, requirePostgresBinDir, startPostgres } from "../support/postgres";

// ---- Conjur's encryption at rest (cyberark/slosilo lib/slosilo/symmetric.rb) ----
// aes-256-gcm, random 12-byte IV, 16-byte tag, stored as tag || iv || ciphertext; Conjur passes the
// secret's resource id as auth_data (app/models/secret.rb: `attr_encrypted :value, aad: :resource_id`).
function slosiloEncrypt(key: Buffer, plaintext: string, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ctext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([cipher.getAuthTag(), iv, ctext]);
}

function slosiloDecrypt(key: Buffer, message: Buffer, aad: string): string {
  const tag = message.subarray(0, 16);
  const iv = message.subarray(16, 28);
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAuthTag(tag);
  decipher.setAAD(Buffer.from(aad));
  return Buffer.concat([decipher.update(message.subarray(28)), decipher.final()]).toString("utf8");
}

const ROWS = 50;
const plaintextOf = (i: number) => `secret value ${i} ${"x".repeat(i)}`;
const resourceIdOf = (i: number) => `acme:variable:data/app${i % 5}/secret${i}`;
const FINGERPRINT_SQL =
  "SELECT count(*) || ':' || md5(string_agg(resource_id || encode(value, 'hex'), ',' ORDER BY resource_id, version)) FROM secrets";

interface ScriptRun {
  status: number | null;
  output: string;
}

describe("disaster recovery: backup and restore scripts against real Postgres", function () {
  this.timeout(180_000);
  let work: string;
  let source: PostgresServer;
  let target: PostgresServer;
  let binDir: string;
  const dataKey = randomBytes(32);
  const scripts = buildBackupScripts();
  const scriptDir = () => path.join(work, "scripts");
  const stubDir = () => path.join(work, "s3");
  const bucket = "acme-conjur-backups-test";
  const prefix = "hub/dev";

  before(function () {
    binDir = requirePostgresBinDir();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-dr-"));
    fs.chmodSync(work, 0o755);
    fs.mkdirSync(scriptDir());
    for (const [file, text] of Object.entries(scripts)) fs.writeFileSync(path.join(scriptDir(), file), text);
    // The stand-in `aws` goes first on PATH, so no real CLI is ever reached.
    const bin = path.join(work, "bin");
    fs.mkdirSync(bin);
    fs.copyFileSync(path.join(__dirname, "..", "support", "aws-s3-stub.sh"), path.join(bin, "aws"));
    fs.chmodSync(path.join(bin, "aws"), 0o755);
    fs.mkdirSync(stubDir());
    fs.mkdirSync(path.join(work, "secrets"));
    fs.writeFileSync(path.join(work, "secrets", "data-key"), dataKey.toString("base64"));
    fs.writeFileSync(path.join(work, "secrets", "wrong-data-key"), randomBytes(32).toString("base64"));
    fs.writeFileSync(path.join(work, "secrets", "backup-key"), randomBytes(48).toString("base64"));
    fs.writeFileSync(path.join(work, "secrets", "wrong-backup-key"), randomBytes(48).toString("base64"));

    source = startPostgres(binDir, path.join(work, "pg-a"), 55432);
    target = startPostgres(binDir, path.join(work, "pg-b"), 55433);
    source.psql("postgres", "CREATE DATABASE conjur");
    // Conjur's secrets table (db/migrate: resource_id, version, value bytea, expires_at).
    source.psql(
      "conjur",
      "CREATE TABLE secrets (resource_id text NOT NULL, version integer NOT NULL, value bytea NOT NULL, expires_at timestamptz, PRIMARY KEY (resource_id, version))",
    );
    const values = Array.from({ length: ROWS }, (_, i) => {
      const id = resourceIdOf(i);
      const hex = slosiloEncrypt(dataKey, plaintextOf(i), id).toString("hex");
      return `('${id}', 1, '\\x${hex}'::bytea)`;
    });
    source.psql("conjur", `INSERT INTO secrets (resource_id, version, value) VALUES ${values.join(",")}`);
    // B already runs a (different) Conjur database: the restore must replace it only on success.
    target.psql("postgres", "CREATE DATABASE conjur");
    target.psql("conjur", "CREATE TABLE secrets (resource_id text, version integer, value bytea)");
    target.psql("conjur", "INSERT INTO secrets VALUES ('acme:variable:before-restore', 1, '\\x00')");
  });

  after(function () {
    target?.stop();
    source?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  function runScript(file: ScriptFile, env: Record<string, string>): ScriptRun {
    const result = spawnSync("sh", [path.join(scriptDir(), file)], {
      encoding: "utf8",
      timeout: 60_000,
      env: {
        PATH: `${path.join(work, "bin")}:${binDir}:${process.env.PATH ?? ""}`,
        HOME: work,
        AWS_STUB_DIR: stubDir(),
        ...env,
      },
    });
    if (result.error) throw result.error;
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  const scratch = (name: string) => {
    const dir = path.join(work, `scratch-${name}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };
  const secretFile = (name: string) => path.join(work, "secrets", name);

  function backup(scratchDir: string): string {
    const common = {
      [BACKUP_ENV.scratch]: scratchDir,
      [BACKUP_ENV.backupKeyFile]: secretFile("backup-key"),
      [BACKUP_ENV.dataKeyFile]: secretFile("data-key"),
      [BACKUP_ENV.conjurVersion]: "1.21.1",
      [BACKUP_ENV.prefix]: prefix,
      [BACKUP_ENV.bucket]: bucket,
      [BACKUP_ENV.kmsKeyArn]: "arn:aws:kms:eu-west-1:000000000000:key/test",
    };
    const dump = runScript(SCRIPT_FILES.dump, { ...source.clientEnv, PGDATABASE: "conjur", ...common });
    assert.equal(dump.status, 0, dump.output);
    const upload = runScript(SCRIPT_FILES.upload, common);
    assert.equal(upload.status, 0, upload.output);
    return fs.readFileSync(path.join(scratchDir, "object-key"), "utf8");
  }

  function restoreEnv(
    scratchDir: string,
    options: { backupKey?: string; dataKey?: string; object?: string } = {},
  ): Record<string, string> {
    return {
      [BACKUP_ENV.scratch]: scratchDir,
      [BACKUP_ENV.bucket]: bucket,
      [BACKUP_ENV.prefix]: prefix,
      [BACKUP_ENV.backupKeyFile]: secretFile(options.backupKey ?? "backup-key"),
      [BACKUP_ENV.dataKeyFile]: secretFile(options.dataKey ?? "data-key"),
      [BACKUP_ENV.targetDatabase]: "conjur",
      ...(options.object ? { [BACKUP_ENV.object]: options.object } : {}),
    };
  }

  /** The restore's first step only: the newest (or the named) object and its metadata into scratch. */
  function download(scratchDir: string): void {
    const result = runScript(SCRIPT_FILES.download, restoreEnv(scratchDir));
    assert.equal(result.status, 0, result.output);
  }

  /** Both restore steps (or only the second, on what an earlier download left in scratch). */
  function restore(
    scratchDir: string,
    options: { backupKey?: string; dataKey?: string; object?: string; download?: boolean } = {},
  ): ScriptRun {
    const env = restoreEnv(scratchDir, options);
    if (options.download !== false) {
      const fetched = runScript(SCRIPT_FILES.download, env);
      if (fetched.status !== 0) return fetched;
    }
    return runScript(SCRIPT_FILES.apply, { ...target.clientEnv, ...env });
  }

  const targetRows = () => target.psql("conjur", "SELECT resource_id FROM secrets ORDER BY 1").trim();
  const targetDatabases = () =>
    target.psql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'conjur%' ORDER BY 1").trim();

  let objectKey: string;

  it("uploads an encrypted archive with SSE-KMS, a SHA-256 checksum and its metadata", function () {
    objectKey = backup(scratch("backup-1"));
    assert.match(objectKey, /^hub\/dev\/\d{8}T\d{6}Z-conjur\.dump\.gpg$/);
    const stored = fs.readFileSync(path.join(stubDir(), bucket, objectKey));
    // Useless without the backup key: not a pg_dump archive (magic PGDMP), no plaintext inside.
    assert.notEqual(stored.subarray(0, 5).toString("latin1"), "PGDMP");
    assert.ok(!stored.includes(Buffer.from("acme:variable:data")), "resource ids visible in the object");
    const metadata = JSON.parse(
      fs.readFileSync(path.join(stubDir(), bucket, `${objectKey}.metadata.json`), "utf8"),
    );
    assert.equal(metadata["conjur-version"], "1.21.1");
    assert.match(metadata["postgres-version"], /^\d+\.\d+/);
    assert.match(metadata.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(metadata.sha256, /^[0-9a-f]{64}$/);
    const calls = fs.readFileSync(path.join(stubDir(), "calls.log"), "utf8");
    assert.match(
      calls,
      /put-object .*--checksum-algorithm SHA256 --server-side-encryption aws:kms --ssekms-key-id arn:aws:kms:/,
    );
  });

  it("refuses a truncated archive and leaves the target database untouched", function () {
    const dir = scratch("truncated");
    // A real download, then the file damaged as a partial transfer would leave it.
    download(dir);
    const archive = path.join(dir, "conjur.dump.gpg");
    fs.truncateSync(archive, Math.floor(fs.statSync(archive).size / 2));
    const result = restore(dir, { download: false });
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /checksum mismatch: the archive is corrupted or truncated/);
    assert.match(result.output, /database conjur is untouched/);
    assert.equal(targetRows(), "acme:variable:before-restore");
    assert.equal(targetDatabases(), "conjur");
  });

  it("refuses a corrupted archive whose checksum was forged (gpg's integrity check) and leaves the target untouched", function () {
    const dir = scratch("corrupted");
    download(dir);
    const archive = path.join(dir, "conjur.dump.gpg");
    const bytes = fs.readFileSync(archive);
    bytes[bytes.length - 40] ^= 0xff;
    fs.writeFileSync(archive, bytes);
    const sha = spawnSync("sha256sum", [archive], { encoding: "utf8" }).stdout.split(" ")[0];
    fs.writeFileSync(path.join(dir, "meta-sha256"), sha);
    const result = restore(dir, { download: false });
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /cannot decrypt the archive|not a readable pg_dump archive/);
    assert.equal(targetRows(), "acme:variable:before-restore");
    assert.equal(targetDatabases(), "conjur");
  });

  it("refuses a wrong backup key and leaves the target untouched", function () {
    const result = restore(scratch("wrong-backup-key"), { backupKey: "wrong-backup-key" });
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /cannot decrypt the archive: wrong backup key/);
    assert.equal(targetRows(), "acme:variable:before-restore");
    assert.equal(targetDatabases(), "conjur");
  });

  it("refuses a data key the backup was not taken with, before touching anything", function () {
    const result = restore(scratch("wrong-data-key"), { dataKey: "wrong-data-key" });
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /data key given is not the one this backup was taken with/);
    assert.equal(targetRows(), "acme:variable:before-restore");
    assert.equal(targetDatabases(), "conjur");
  });

  it("fails loudly when the database cannot be dumped", function () {
    const result = runScript(SCRIPT_FILES.dump, {
      ...source.clientEnv,
      PGDATABASE: "no_such_database",
      [BACKUP_ENV.scratch]: scratch("bad-dump"),
      [BACKUP_ENV.backupKeyFile]: secretFile("backup-key"),
      [BACKUP_ENV.dataKeyFile]: secretFile("data-key"),
      [BACKUP_ENV.conjurVersion]: "1.21.1",
      [BACKUP_ENV.prefix]: prefix,
    });
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /^backup failed: /m);
  });

  it("restores the newest backup into the second server: identical rows, every one decrypts with the data key and none with another", function () {
    // A second, newer backup after a change: the restore must pick it by default.
    source.psql(
      "conjur",
      `INSERT INTO secrets (resource_id, version, value) VALUES ('${resourceIdOf(0)}', 2, '\\x${slosiloEncrypt(dataKey, "rotated", resourceIdOf(0)).toString("hex")}'::bytea)`,
    );
    // Object keys carry the second: wait for the next one so the two sort apart.
    const before = Date.now();
    while (Date.now() - before < 1100) {
      /* wait */
    }
    const newest = backup(scratch("backup-2"));
    assert.ok(newest > objectKey, `${newest} should sort after ${objectKey}`);

    const result = restore(scratch("good"));
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, new RegExp(`restored into conjur`));
    assert.equal(
      target.psql("conjur", FINGERPRINT_SQL).trim(),
      source.psql("conjur", FINGERPRINT_SQL).trim(),
    );
    // The database it replaced is kept aside, not dropped.
    assert.match(targetDatabases(), /^conjur\nconjur_before_\d{14}$/);

    const rows = target
      .psql("conjur", "SELECT resource_id || ' ' || version || ' ' || encode(value, 'hex') FROM secrets")
      .trim()
      .split("\n")
      .map((line) => {
        const [id, version, hex] = line.split(" ");
        return { id, version, value: Buffer.from(hex, "hex") };
      });
    assert.equal(rows.length, ROWS + 1);
    const wrongKey = randomBytes(32);
    let decrypted = 0;
    let refused = 0;
    for (const row of rows) {
      const plain = slosiloDecrypt(dataKey, row.value, row.id);
      const index = Number(row.id.replace(/.*secret/, ""));
      assert.equal(plain, row.version === "2" ? "rotated" : plaintextOf(index));
      decrypted++;
      assert.throws(() => slosiloDecrypt(wrongKey, row.value, row.id), /unable to authenticate data/);
      refused++;
      // Conjur binds each value to its resource id: moved to another id it does not decrypt either.
      assert.throws(() => slosiloDecrypt(dataKey, row.value, `${row.id}-moved`));
    }
    assert.equal(decrypted, ROWS + 1);
    assert.equal(refused, ROWS + 1);
  });
});
