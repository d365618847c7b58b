// Reading generated Fluent Bit YAML back as data, and the properties of a log pipeline that the
// tests require of every config (Fluent Bit itself accepts a config without them).
import * as assert from "node:assert/strict";
import * as YAML from "yaml";
import type {
  FluentBitSection,
  FluentBitValue,
  FluentBitYaml,
} from "../../../components/observability/fluentbit";

/** A generated config file's text, as the data Fluent Bit reads. */
export function readFluentBitYaml(text: string): FluentBitYaml {
  return YAML.parse(text) as FluentBitYaml;
}

/** The section of `sections` named `name` (exactly one). */
export function named(sections: readonly FluentBitSection[] | undefined, name: string): FluentBitSection {
  const found = (sections ?? []).filter((s) => s.name === name);
  assert.equal(found.length, 1, `expected one section named ${name}, found ${found.length}`);
  return found[0];
}

/** Every value of `key` as Fluent Bit sets it: a list once per item, a scalar as its text. */
export function valuesOf(value: FluentBitValue | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** Outputs that do not leave the process, so TLS and retry rules do not apply. */
const LOCAL_OUTPUTS = ["stdout", "null", "file", "counter"];
/** Keys whose value is a credential: an environment reference, never a literal. */
const SECRET_KEYS = ["shared_key", "http_passwd", "passwd", "password", "tls.key_passwd"];
const ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const isOn = (v: FluentBitValue | undefined) => ["on", "true", "yes"].includes(String(v).toLowerCase());

/**
 * What would lose, leak or misroute logs; [] when nothing: every network output verifies TLS and
 * retries without limit into a bounded buffer, filesystem buffering has a storage path, and every
 * credential is an environment reference.
 */
export function logPipelineProblems(config: FluentBitYaml): string[] {
  const problems: string[] = [];
  const { inputs, filters = [], outputs } = config.pipeline;
  for (const output of outputs) {
    if (LOCAL_OUTPUTS.includes(output.name)) continue;
    if (!isOn(output.tls)) problems.push(`output ${output.name}: tls must be On`);
    if (!isOn(output["tls.verify"])) problems.push(`output ${output.name}: tls.verify must be On`);
    if (!["no_limits", "false"].includes(String(output.retry_limit).toLowerCase()))
      problems.push(`output ${output.name}: retry_limit must be no_limits (the default of 1 drops logs)`);
    if (output["storage.total_limit_size"] === undefined)
      problems.push(`output ${output.name}: storage.total_limit_size must bound the buffer`);
  }
  if (inputs.some((i) => i["storage.type"] === "filesystem") && !config.service["storage.path"])
    problems.push("service: storage.path must be set when an input buffers on the filesystem");
  for (const section of [...inputs, ...filters, ...outputs]) {
    for (const [key, value] of Object.entries(section)) {
      if (SECRET_KEYS.includes(key.toLowerCase()) && !ENV_REFERENCE.test(String(value)))
        problems.push(`${section.name}: ${key} must be an environment reference like \${VAR}`);
    }
  }
  return problems;
}
