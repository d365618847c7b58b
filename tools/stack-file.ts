// Reads a Pulumi stack file (`Pulumi.<stack>.yaml`) the way the CLI hands it to a program: the
// `config:` map, with `secure:` values replaced by marked placeholders (they cannot be decrypted
// offline) and reported as secret keys.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { PLACEHOLDER, PROJECT_ROOT } from "./mock-engine";

export interface StackFile {
  readonly config: Record<string, unknown>;
  readonly secretKeys: string[];
}

export function stackFilePath(stack: string): string {
  return path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
}

function isSecure(value: unknown): value is { secure: string } {
  return (
    typeof value === "object" && value !== null && typeof (value as { secure?: unknown }).secure === "string"
  );
}

export function parseStackFile(text: string): StackFile {
  const doc = (YAML.parse(text) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (isSecure(value)) {
      config[key] = `${PLACEHOLDER}-secret-config-${key}`;
      secretKeys.push(key);
    } else {
      config[key] = value;
    }
  }
  return { config, secretKeys };
}

export function readStackFile(file: string): StackFile {
  return parseStackFile(fs.readFileSync(file, "utf8"));
}
