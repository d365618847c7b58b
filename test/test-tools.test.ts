// The test-tool provisioning (tools/test-tools.sh, run by `npm test`) and the tests' own lookup of
// Fluent Bit: both find the binary or stop with its name and how to install it, never skip.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  PINNED_FLUENT_BIT_MAJOR,
  findFluentBit,
  fluentBitVersion,
  requireFluentBit,
} from "./support/fluent-bit";
import { requirePrometheus, requirePromtool } from "./support/promtool";

const SCRIPT = path.resolve(__dirname, "../tools/test-tools.sh");
const OFFICIAL_PACKAGE_BINARY = "/opt/fluent-bit/bin/fluent-bit";

function which(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir !== "" && fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not on PATH`);
}

/** A directory of symlinks: a PATH holding exactly these programs. */
function pathWith(dir: string, programs: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, target] of Object.entries(programs)) fs.symlinkSync(target, path.join(dir, name));
  return dir;
}

/** A script that prints what `fluent-bit --version` would print for `version`. */
function fakeFluentBit(file: string, version: string): string {
  fs.writeFileSync(file, `#!/bin/sh\necho "Fluent Bit v${version}"\n`, { mode: 0o755 });
  return file;
}

function runScript(env: NodeJS.ProcessEnv, command: string[]) {
  const result = spawnSync(which("bash"), [SCRIPT, ...command], { env, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("test tools: tools/test-tools.sh and the tests' Fluent Bit lookup", () => {
  let dir: string;
  let basePrograms: Record<string, string>;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "test-tools-"));
    // What the script itself needs, plus the tools it would otherwise install.
    basePrograms = Object.fromEntries(
      ["dirname", "id", "sed", "head", "tail", "env", "cat"].map((p) => [p, which(p)]),
    );
    Object.assign(basePrograms, {
      promtool: requirePromtool(),
      prometheus: requirePrometheus(),
      openssl: which("openssl"),
      gpg: which("gpg"),
    });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("exports the paths it found to the command it runs", () => {
    const { binary } = requireFluentBit();
    const result = runScript({ ...process.env, FLUENT_BIT_BIN: binary }, ["env"]);
    assert.equal(result.status, 0, result.stderr);
    const env = Object.fromEntries(
      result.stdout
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    assert.equal(env.FLUENT_BIT_BIN, binary);
    for (const key of ["PROMTOOL", "PROMETHEUS", "OPENSSL", "POSTGRES_BIN_DIR"]) assert.ok(env[key], key);
  });

  it("stops with the tool's name and how to install it when Fluent Bit is nowhere and cannot be built", () => {
    const bin = pathWith(path.join(dir, "bare"), basePrograms);
    const result = runScript(
      {
        PATH: bin,
        HUBSPOKE_TOOLS_DIR: path.join(dir, "no-tools"),
        FLUENT_BIT_BUILD_SCRIPT: path.join(dir, "no-build.sh"),
      },
      ["true"],
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`fluent-bit ${PINNED_FLUENT_BIT_MAJOR}\\.x not found`));
    assert.match(result.stderr, /official packages .*packages\.fluentbit\.io.*FLUENT_BIT_BIN=/);
  });

  it("ignores a fluent-bit of another major release on PATH, and refuses one named by FLUENT_BIT_BIN", () => {
    const old = fakeFluentBit(path.join(dir, "fluent-bit-3"), "3.2.4");
    const bin = pathWith(path.join(dir, "old-on-path"), { ...basePrograms, "fluent-bit": old });
    const common = {
      HUBSPOKE_TOOLS_DIR: path.join(dir, "no-tools"),
      FLUENT_BIT_BUILD_SCRIPT: path.join(dir, "no-build.sh"),
    };
    const onPath = runScript({ PATH: bin, ...common }, ["true"]);
    assert.equal(onPath.status, 1);
    assert.match(onPath.stderr, /ignoring .*fluent-bit: not Fluent Bit 5\.x/);
    const named = runScript({ PATH: bin, FLUENT_BIT_BIN: old, ...common }, ["true"]);
    assert.equal(named.status, 1);
    assert.match(named.stderr, /FLUENT_BIT_BIN=.* is not Fluent Bit 5\.x \(it says: Fluent Bit v3\.2\.4\)/);
  });

  it("builds Fluent Bit with the build script into the tools directory when it finds none, and uses what it printed", () => {
    const { binary } = requireFluentBit();
    const calls = path.join(dir, "build-calls");
    // Stands in for ../shared/tools/fluent-bit/build.sh: records its argument, "builds" by linking.
    const script = path.join(dir, "fake-build.sh");
    fs.writeFileSync(
      script,
      `echo "$1" >> ${calls}\nmkdir -p "$1/bin"\nln -sf ${binary} "$1/bin/fluent-bit"\necho "build log" >&2\necho "$1/bin/fluent-bit"\n`,
    );
    const bin = pathWith(path.join(dir, "build"), {
      ...basePrograms,
      bash: which("bash"),
      mkdir: which("mkdir"),
      ln: which("ln"),
    });
    const toolsDir = path.join(dir, "tools-built");
    const result = runScript({ PATH: bin, HUBSPOKE_TOOLS_DIR: toolsDir, FLUENT_BIT_BUILD_SCRIPT: script }, [
      "env",
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(fs.readFileSync(calls, "utf8"), `${toolsDir}/fluent-bit\n`);
    assert.match(result.stdout, new RegExp(`^FLUENT_BIT_BIN=${toolsDir}/fluent-bit/bin/fluent-bit$`, "m"));
    // The next run finds that build and does not build again.
    const again = runScript({ PATH: bin, HUBSPOKE_TOOLS_DIR: toolsDir, FLUENT_BIT_BUILD_SCRIPT: script }, [
      "env",
    ]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(fs.readFileSync(calls, "utf8").split("\n").filter(Boolean).length, 1);
  });

  it("stops with how to install Postgres when its server binaries are not where it was told", () => {
    const { binary } = requireFluentBit();
    const empty = path.join(dir, "no-postgres");
    fs.mkdirSync(empty, { recursive: true });
    const bin = pathWith(path.join(dir, "postgres-missing"), basePrograms);
    const result = runScript({ PATH: bin, FLUENT_BIT_BIN: binary, POSTGRES_BIN_DIR: empty }, ["true"]);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /no-postgres\/initdb is missing: install Debian's server package as root \(apt-get install postgresql\)/,
    );
  });

  it("stops when promtool is missing and it cannot install it", () => {
    const withoutPromtool = Object.fromEntries(
      Object.entries(basePrograms).filter(([name]) => name !== "promtool"),
    );
    const bin = pathWith(path.join(dir, "no-promtool"), withoutPromtool);
    // As root with apt-get the script would install the package; this PATH has no apt-get.
    const result = runScript({ PATH: bin }, ["true"]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /promtool not found: install Debian's package .*apt-get install prometheus/);
  });

  it("finds the pinned major release in the tests too, and fails with how to get it otherwise", () => {
    const { binary, version } = requireFluentBit();
    assert.equal(Number(version.split(".")[0]), PINNED_FLUENT_BIT_MAJOR);
    assert.equal(fluentBitVersion(binary), version);
    assert.throws(
      () => findFluentBit({ FLUENT_BIT_BIN: path.join(dir, "missing") }),
      /FLUENT_BIT_BIN=.*missing is not an executable file/,
    );
    assert.throws(
      () => findFluentBit({ FLUENT_BIT_BIN: fakeFluentBit(path.join(dir, "fb-4"), "4.2.0") }),
      /is Fluent Bit 4\.2\.0, the stacks pin 5\.x: run the tests with `npm test`/,
    );
    const nowhere = { PATH: path.join(dir, "empty-path"), HUBSPOKE_TOOLS_DIR: path.join(dir, "no-tools") };
    if (fluentBitVersion(OFFICIAL_PACKAGE_BINARY)?.startsWith(`${PINNED_FLUENT_BIT_MAJOR}.`)) {
      // The official packages are installed here: that is where the lookup ends.
      assert.equal(findFluentBit(nowhere).binary, OFFICIAL_PACKAGE_BINARY);
    } else {
      assert.throws(() => findFluentBit(nowhere), /fluent-bit 5\.x not found: .*official packages/);
    }
  });
});
