// The project's module graph as the TypeScript compiler resolves it, and the import circles in it.
// Every import counts, `import type` included: a type-only circle still ties the modules together.
import * as path from "node:path";
import ts from "typescript";

/** Project-relative path of a module -> the project modules it imports, both sorted. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Reads `<projectDir>/tsconfig.json` and resolves every import of every file it includes. */
export function importGraph(projectDir: string): ImportGraph {
  const configPath = path.join(projectDir, "tsconfig.json");
  const configFile = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  if (configFile.error !== undefined) {
    throw new Error(ts.flattenDiagnosticMessageText(configFile.error.messageText, "\n"));
  }
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, projectDir);
  const files = new Set(parsed.fileNames.map((file) => path.resolve(file)));
  const relative = (file: string): string => path.relative(projectDir, file).split(path.sep).join("/");

  const graph = new Map<string, string[]>();
  for (const file of [...files].sort()) {
    const text = ts.sys.readFile(file) ?? "";
    // preProcessFile lists import/export-from declarations, `import x = require()`, dynamic imports
    // and `require()` calls, without type-checking the program.
    const { importedFiles } = ts.preProcessFile(text, true, true);
    const targets = new Set<string>();
    for (const imported of importedFiles) {
      const resolved = ts.resolveModuleName(imported.fileName, file, parsed.options, ts.sys).resolvedModule;
      const target = resolved === undefined ? undefined : path.resolve(resolved.resolvedFileName);
      if (target !== undefined && files.has(target) && target !== file) targets.add(relative(target));
    }
    graph.set(relative(file), [...targets].sort());
  }
  return graph;
}

export interface ImportCircle {
  /** Every module of the circle (a strongly connected component), sorted. */
  readonly modules: readonly string[];
  /** One closed path through it, `a.ts -> b.ts -> a.ts`, so a message shows where to cut. */
  readonly path: readonly string[];
}

/** Every import circle: the strongly connected components of more than one module (Tarjan's algorithm). */
export function importCircles(graph: ImportGraph): ImportCircle[] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;

  const connect = (node: string): void => {
    index.set(node, counter);
    lowLink.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        lowLink.set(node, Math.min(lowLink.get(node) ?? 0, lowLink.get(next) ?? 0));
      } else if (onStack.has(next)) {
        lowLink.set(node, Math.min(lowLink.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (lowLink.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);
  return components.map((modules) => ({ modules, path: circleThrough(graph, modules) }));
}

/** A shortest closed path from the component's first module back to itself, inside the component. */
function circleThrough(graph: ImportGraph, component: readonly string[]): string[] {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const trail = [node];
        while (trail[0] !== start) trail.unshift(previous.get(trail[0]) as string);
        return [...trail, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [...component, start];
}
