// Reads the `hubspoke:*` keys from Pulumi's config and builds the StackSpec, or throws one error
// that lists every problem, before any resource is registered. The stack's other keys are checked
// too (a mistyped namespace, the default-provider switch), and which values are secret comes from
// the runtime, so `pulumi up` and the offline plan report the same errors.
import * as pulumi from "@pulumi/pulumi";
import { buildStackSpec, ConfigError, ConfigValidationError, StackSpec } from "./spec";
import { PROJECT_NAMESPACE, stackKeyErrors } from "./config-keys";

export const CONFIG_NAMESPACE = PROJECT_NAMESPACE;

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

/**
 * The project keys (namespace removed) whose values are secret. Pulumi passes the list of secure
 * keys to the program (PULUMI_CONFIG_SECRET_KEYS); the SDK reads it in runtime.isConfigSecret, which
 * is exported but not typed.
 */
export function projectSecretKeys(): Set<string> {
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean })
    .isConfigSecret;
  const prefix = `${CONFIG_NAMESPACE}:`;
  return new Set(
    Object.keys(pulumi.runtime.allConfig())
      .filter((key) => key.startsWith(prefix) && isSecret?.(key) === true)
      .map((key) => key.slice(prefix.length)),
  );
}

export function loadStackSpec(): StackSpec {
  const keyErrors: ConfigError[] = stackKeyErrors(pulumi.runtime.allConfig());
  const result = buildStackSpec(readProjectConfig(), { secretKeys: projectSecretKeys() });
  const errors = [...keyErrors, ...(result.ok ? [] : result.errors)];
  if (errors.length > 0 || !result.ok) throw new ConfigValidationError(errors);
  return result.spec;
}

/** A secret config value named by the spec (a kubeconfig, sink credentials), as a secret Output. */
export function requireSecretConfig(key: string): pulumi.Output<string> {
  return new pulumi.Config(CONFIG_NAMESPACE).requireSecret(key);
}
