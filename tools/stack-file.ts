// Reads a Pulumi stack file (`Pulumi.<stack>.yaml`) the way the CLI hands it to a program: the
// `config:` map, with `secure:` values replaced by marked placeholders (they cannot be decrypted
// offline) and reported as secret keys. YAML mistakes (syntax, duplicate keys, an unquoted `*`
// that YAML reads as an alias) come back as config errors naming the file, line, column and key.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { PROJECT_ROOT } from "./mock-engine";
import { OFFLINE_SECRET_PLACEHOLDER_PREFIX } from "../stacks/config-keys";
import { CONFIG_NAMESPACE } from "../stacks/load";
import type { ConfigError } from "../stacks/spec";

export type StackFile =
  | { readonly ok: true; readonly config: Record<string, unknown>; readonly secretKeys: string[] }
  | { readonly ok: false; readonly errors: ConfigError[] };

export function stackFilePath(stack: string): string {
  return path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
}

function isSecure(value: unknown): value is { secure: string } {
  return (
    typeof value === "object" && value !== null && typeof (value as { secure?: unknown }).secure === "string"
  );
}

type KeyPath = (string | number)[];

/** The key path of the deepest node at `offset`: ["config", "hubspoke:hub", "hostnames", 1]. */
function keyPathAt(doc: YAML.Document.Parsed, offset: number): KeyPath {
  let best: KeyPath = [];
  const visit = (node: unknown, at: KeyPath): void => {
    if (YAML.isMap(node)) {
      for (const pair of node.items) {
        const key = YAML.isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const keyRange = YAML.isNode(pair.key) ? pair.key.range : undefined;
        const valueRange = YAML.isNode(pair.value) ? pair.value.range : undefined;
        const start = keyRange?.[0] ?? valueRange?.[0];
        const end = valueRange?.[2] ?? keyRange?.[2];
        if (start !== undefined && end !== undefined && offset >= start && offset <= end) {
          best = [...at, key];
          visit(pair.value, [...at, key]);
        }
      }
    } else if (YAML.isSeq(node)) {
      node.items.forEach((item, i) => {
        const range = YAML.isNode(item) ? item.range : undefined;
        if (range && offset >= range[0] && offset <= range[2]) {
          best = [...at, i];
          visit(item, [...at, i]);
        }
      });
    }
  };
  visit(doc.contents, []);
  return best;
}

/** ["config", "hubspoke:hub", "hostnames", 1] -> `hub.hostnames[1]` (project keys as in other errors). */
export function userKeyPath(keys: KeyPath): string | undefined {
  const rest = keys[0] === "config" ? keys.slice(1) : keys;
  if (rest.length === 0) return undefined;
  const [first, ...more] = rest;
  const prefix = `${CONFIG_NAMESPACE}:`;
  let out =
    typeof first === "string" && first.startsWith(prefix) ? first.slice(prefix.length) : String(first);
  for (const k of more) out += typeof k === "number" ? `[${k}]` : `.${k}`;
  return out;
}

const YAML_MESSAGES: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: "key given twice: the second value would silently win; keep one",
  BAD_INDENT: "indentation does not line up with the keys around it",
  TAB_AS_INDENT: "tabs are not allowed for indentation in YAML: use spaces",
  MULTILINE_IMPLICIT_KEY: 'a key without ":" (or a value that runs over several lines): write key: value',
};

export function parseStackFile(text: string, fileName = "stack file"): StackFile {
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const errors: ConfigError[] = [];
  const where = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${fileName}:${line}:${col}`;
  };
  const report = (offset: number, message: string) => {
    const key = userKeyPath(keyPathAt(doc, offset));
    errors.push(
      key ? { path: key, message: `${message} (${where(offset)})` } : { path: where(offset), message },
    );
  };
  for (const e of doc.errors) {
    report(e.pos[0], YAML_MESSAGES[e.code] ?? `YAML: ${e.message.split("\n")[0]}`);
  }
  // `*.example.com` unquoted is an alias to an anchor named `.example.com`, not a string.
  YAML.visit(doc, {
    Alias(_key, node) {
      const offset = node.range?.[0] ?? 0;
      report(
        offset,
        `unquoted "*${node.source}" is read by YAML as an alias, not as text: quote it ("*${node.source}")`,
      );
    },
  });
  if (errors.length) return { ok: false, errors };

  const raw: unknown = doc.toJS() ?? {};
  const configNode =
    typeof raw === "object" && raw !== null ? (raw as { config?: unknown }).config : undefined;
  if (
    configNode !== undefined &&
    configNode !== null &&
    (typeof configNode !== "object" || Array.isArray(configNode))
  ) {
    return {
      ok: false,
      errors: [{ path: "config", message: `expected a map of keys, got ${typeof configNode}` }],
    };
  }
  const config: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries((configNode ?? {}) as Record<string, unknown>)) {
    if (isSecure(value)) {
      config[key] = `${OFFLINE_SECRET_PLACEHOLDER_PREFIX}${key}`;
      secretKeys.push(key);
    } else {
      config[key] = value;
    }
  }
  return { ok: true, config, secretKeys };
}

export function readStackFile(file: string): StackFile {
  return parseStackFile(fs.readFileSync(file, "utf8"), path.relative(process.cwd(), file) || file);
}
