// Test helpers for bad config: a shipped stack's `hubspoke:` keys edited, the errors it gives.
import { strict as assert } from "node:assert";
import { buildStackSpec, ConfigError, formatConfigError } from "../../stacks/spec";
import { stackConfig } from "./stacks";

type Json = any;

/** The errors of a shipped stack's config after `edit` (keys without the `hubspoke:` prefix). */
export function configErrorsFor(stack: string, edit: (config: Json) => void): ConfigError[] {
  const config: Json = {};
  for (const [k, v] of Object.entries(stackConfig(stack)))
    if (k.startsWith("hubspoke:")) config[k.slice(9)] = v;
  edit(config);
  const result = buildStackSpec(config);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

export function expectConfigError(errors: ConfigError[], key: string, pattern: RegExp): void {
  assert.ok(
    errors.some((e) => e.path === key && pattern.test(e.message)),
    `no error at ${key} matching ${pattern}:\n${errors.map(formatConfigError).join("\n")}`,
  );
}
