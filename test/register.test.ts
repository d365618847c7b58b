// tools/register.js: TypeScript run as JavaScript cached by source text. An edited file runs as
// edited (never the stale JavaScript), a cached file runs without loading the compiler, and the
// cache survives across processes.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REGISTER = path.join(__dirname, "..", "tools", "register.js");

describe("tools/register.js", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-register-"));
  const cache = path.join(dir, "cache");
  const program = path.join(dir, "program.ts");
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the program through the hook; it prints its value and whether the compiler was loaded. */
  function run(): { value: string; compilerLoaded: boolean } {
    const probe = path.join(dir, "probe.js");
    fs.writeFileSync(
      probe,
      `const v = require(${JSON.stringify(program)}).value;\n` +
        `const loaded = Object.keys(require.cache).some((k) => k.includes("/node_modules/typescript/lib/"));\n` +
        `console.log(JSON.stringify({ value: v, compilerLoaded: loaded }));\n`,
    );
    const result = spawnSync(process.execPath, ["--require", REGISTER, probe], {
      encoding: "utf8",
      env: { ...process.env, HUBSPOKE_TS_CACHE: cache },
    });
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout.trim()) as { value: string; compilerLoaded: boolean };
  }

  const cachedFiles = () =>
    fs.existsSync(cache) ? fs.readdirSync(cache).flatMap((d) => fs.readdirSync(path.join(cache, d))) : [];

  it("transpiles on first use, then runs from the cache without loading the compiler", () => {
    fs.writeFileSync(program, 'export const value: string = "first";\n');
    assert.deepEqual(run(), { value: "first", compilerLoaded: true });
    assert.equal(cachedFiles().length, 1);
    assert.deepEqual(run(), { value: "first", compilerLoaded: false });
  });

  it("runs an edited file as edited: a new source text is a new cache entry", () => {
    fs.writeFileSync(program, 'export const value: string = "second";\n');
    assert.deepEqual(run(), { value: "second", compilerLoaded: true });
    assert.equal(cachedFiles().length, 2);
    fs.writeFileSync(program, 'export const value: string = "first";\n');
    assert.deepEqual(run(), { value: "first", compilerLoaded: false });
  });
});
