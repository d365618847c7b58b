// No module imports, directly or through others, a module that imports it: the layers read top-down.
// The graph is the TypeScript compiler's own resolution of every file tsconfig.json includes.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { importCircles, importGraph, type ImportCircle, type ImportGraph } from "./support/import-graph";

const projectDir = path.resolve(__dirname, "..");

function describeCircles(circles: readonly ImportCircle[]): string {
  return circles
    .map((circle) => `${circle.path.join(" -> ")} (${circle.modules.length} modules in the circle)`)
    .join("\n");
}

/** A throwaway project: tsconfig.json plus the given files, in a temporary directory. */
function syntheticProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-import-circles-"));
  fs.writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { module: "commonjs", moduleResolution: "node" },
      include: ["**/*.ts"],
    }),
  );
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("import circles", () => {
  let graph: ImportGraph;
  before(() => {
    graph = importGraph(projectDir);
  });

  it("sees the whole source tree: entry, stacks, components, tools, policy and tests", () => {
    for (const module of [
      "index.ts",
      "stacks/spec.ts",
      "components/naming.ts",
      "tools/plan.ts",
      "policy/engine.ts",
      "policy/index.ts",
      "test/import-circles.test.ts",
    ]) {
      assert.ok(graph.has(module), `${module} is not in the graph`);
    }
    assert.ok(
      (graph.get("policy/engine.ts") ?? []).includes("policy/rules/podSecurity.ts"),
      "the engine's imports of its rules are resolved",
    );
  });

  it("finds no import circle anywhere in the source tree", () => {
    const circles = importCircles(graph);
    assert.deepEqual(circles, [], `import circles:\n${describeCircles(circles)}`);
  });

  it("keeps the policy rules below the engine: rules import only the shared policy modules", () => {
    const shared = new Set([
      "policy/types.ts",
      "policy/kubernetes.ts",
      "policy/selectors.ts",
      "policy/pod-security.ts",
    ]);
    const ruleModules = [...graph.keys()].filter((module) => module.startsWith("policy/rules/"));
    assert.ok(ruleModules.length >= 8, ruleModules.join(", "));
    for (const rule of ruleModules) {
      for (const imported of graph.get(rule) ?? []) {
        assert.ok(shared.has(imported), `${rule} imports ${imported}`);
      }
    }
    for (const module of shared) {
      for (const imported of graph.get(module) ?? []) {
        assert.ok(shared.has(imported), `shared module ${module} imports ${imported}`);
      }
    }
  });

  it("keeps the stack spec at the lowest floor: stacks/ imports only stacks/ modules", () => {
    for (const [module, imports] of graph) {
      if (!module.startsWith("stacks/")) continue;
      const above = imports.filter((imported) => !imported.startsWith("stacks/"));
      assert.deepEqual(above, [], `${module} reaches above the spec`);
    }
  });

  it("gives tools the shared selector helper, not a rule file", () => {
    for (const [module, imports] of graph) {
      if (module.startsWith("policy/") || module.startsWith("test/")) continue;
      const rules = imports.filter((imported) => imported.startsWith("policy/rules/"));
      assert.deepEqual(rules, [], `${module} imports a rule file`);
    }
    assert.ok((graph.get("tools/manifest-checks.ts") ?? []).includes("policy/selectors.ts"));
  });

  describe("negative controls: synthetic projects in a temporary directory", () => {
    const dirs: string[] = [];
    after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
    const project = (files: Record<string, string>): string => {
      const dir = syntheticProject(files);
      dirs.push(dir);
      return dir;
    };

    it("reports a pair of modules that import each other", () => {
      const dir = project({
        "a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
        "b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
      });
      assert.deepEqual(importCircles(importGraph(dir)), [
        { modules: ["a.ts", "b.ts"], path: ["a.ts", "b.ts", "a.ts"] },
      ]);
    });

    it("reports a circle closed by a type-only import through a folder index, as the old policy engine had", () => {
      const dir = project({
        "engine.ts":
          'import { rule } from "./rules";\nexport interface Rule { name: string }\nexport const all = [rule];\n',
        "rules/index.ts": 'export { rule } from "./one";\n',
        "rules/one.ts":
          'import type { Rule } from "../engine";\nexport const rule: Rule = { name: "one" };\n',
      });
      const circles = importCircles(importGraph(dir));
      assert.equal(circles.length, 1, describeCircles(circles));
      assert.deepEqual(circles[0].modules, ["engine.ts", "rules/index.ts", "rules/one.ts"]);
      assert.deepEqual(circles[0].path, ["engine.ts", "rules/index.ts", "rules/one.ts", "engine.ts"]);
    });

    it("passes the same modules once the shared type moves below both", () => {
      const dir = project({
        "types.ts": "export interface Rule { name: string }\n",
        "engine.ts": 'import { rule } from "./rules";\nexport const all = [rule];\n',
        "rules/index.ts": 'export { rule } from "./one";\n',
        "rules/one.ts": 'import type { Rule } from "../types";\nexport const rule: Rule = { name: "one" };\n',
      });
      const graph = importGraph(dir);
      assert.deepEqual(graph.get("rules/one.ts"), ["types.ts"]);
      assert.deepEqual(importCircles(graph), []);
    });

    it("ignores imports of packages and of files outside the project", () => {
      const dir = project({
        "a.ts": 'import * as fs from "node:fs";\nimport YAML from "yaml";\nexport const a = [fs, YAML];\n',
      });
      assert.deepEqual(importGraph(dir).get("a.ts"), []);
    });
  });
});
