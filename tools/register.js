// Runs the project's TypeScript as JavaScript compiled ahead of time (docs/performance.md,
// "Start-up"): `node --require ./tools/register.js index.ts`. Each .ts file is transpiled once per
// distinct source text (TypeScript's transpileModule with the project's tsconfig.json, what ts-node's
// transpile-only mode does) and the JavaScript is kept in node_modules/.cache/hubspoke-ts/, keyed
// by a SHA-256 of the text, its path, tsconfig.json, the TypeScript version and this file. A run
// whose sources are all cached never loads the TypeScript compiler; an edited file gets a new key,
// so stale JavaScript can never run. Type-checking stays with `npm run build` and `npm test`.
// Plain JavaScript, so that nothing has to compile it first. Pulumi.yaml, the offline plan, the
// benchmark and mocha all load it.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const CACHE_DIR = process.env.HUBSPOKE_TS_CACHE || path.join(ROOT, "node_modules", ".cache", "hubspoke-ts");
const TSCONFIG = path.join(ROOT, "tsconfig.json");

const salt = crypto
  .createHash("sha256")
  .update(fs.readFileSync(TSCONFIG))
  .update(require("typescript/package.json").version)
  .update(fs.readFileSync(__filename))
  .digest("hex");

/** Compiled JavaScript by cache key, for the processes that load a module more than once (tests). */
const memory = new Map();
let compiler;

/** The TypeScript compiler and the project's options, loaded on the first file not in the cache. */
function typescript() {
  if (!compiler) {
    const ts = require("typescript");
    const { config, error } = ts.readConfigFile(TSCONFIG, ts.sys.readFile);
    if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, "\n"));
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
    compiler = {
      ts,
      options: {
        ...options,
        module: ts.ModuleKind.CommonJS,
        // Mapped only when stack traces are wanted (HUBSPOKE_STACK_TRACES, below).
        sourceMap: false,
        inlineSourceMap: true,
        declaration: false,
        noEmit: false,
      },
    };
  }
  return compiler;
}

function compile(source, filename) {
  const key = crypto
    .createHash("sha256")
    .update(salt)
    .update(filename)
    .update("\0")
    .update(source)
    .digest("hex");
  const known = memory.get(key);
  if (known !== undefined) return known;
  const file = path.join(CACHE_DIR, key.slice(0, 2), `${key}.js`);
  let js;
  try {
    js = fs.readFileSync(file, "utf8");
  } catch {
    const { ts, options } = typescript();
    js = ts.transpileModule(source, { compilerOptions: options, fileName: filename }).outputText;
    try {
      // Written whole or not at all: concurrent processes may compile the same file.
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const partial = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(partial, js);
      fs.renameSync(partial, file);
    } catch {
      // A read-only tree still runs, transpiling each time.
    }
  }
  memory.set(key, js);
  return js;
}

if (process.env.HUBSPOKE_STACK_TRACES) process.setSourceMapsEnabled(true);

require.extensions[".ts"] = function loadTypeScript(module, filename) {
  module._compile(compile(fs.readFileSync(filename, "utf8"), filename), filename);
};
