// Reads the `hubspoke:*` keys from Pulumi's config and builds the StackSpec, or throws one error
// that lists every problem, before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { buildStackSpec, ConfigValidationError, StackSpec } from "./spec";

export const CONFIG_NAMESPACE = "hubspoke";

/**
 * Pulumi hands config to programs as text: structured values as JSON, booleans as `true`/`false`.
 * Anything else stays a string (an account named `123` must not turn into a number).
 */
export function decodeConfigValue(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

/** All `hubspoke:` keys of the running stack, prefix removed, JSON decoded. */
export function readProjectConfig(): Record<string, unknown> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = decodeConfigValue(value);
  }
  return out;
}

export function loadStackSpec(): StackSpec {
  const result = buildStackSpec(readProjectConfig());
  if (!result.ok) throw new ConfigValidationError(result.errors);
  return result.spec;
}

/** A secret config value named by the spec (a kubeconfig, sink credentials), as a secret Output. */
export function requireSecretConfig(key: string): pulumi.Output<string> {
  return new pulumi.Config(CONFIG_NAMESPACE).requireSecret(key);
}
