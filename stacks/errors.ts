// Config errors as users read them (`config error: <key path>: <message>`): the lowest floor of
// stacks/, imported by the spec, its rules and the key checks alike.

export interface ConfigError {
  /** Key path as the user wrote it, e.g. `spokes[1].podCidr`. */
  readonly path: string;
  readonly message: string;
}

export class ConfigValidationError extends Error {
  constructor(public readonly errors: readonly ConfigError[]) {
    super(`invalid stack config:\n${errors.map(formatConfigError).join("\n")}`);
    this.name = "ConfigValidationError";
  }
}

/**
 * True for a ConfigValidationError, also one thrown by another copy of this module (the plan tool
 * reloads the program's modules for each evaluation, so `instanceof` cannot be relied on).
 */
export function isConfigValidationError(err: unknown): err is ConfigValidationError {
  return (
    err instanceof Error &&
    err.name === "ConfigValidationError" &&
    Array.isArray((err as ConfigValidationError).errors)
  );
}

export function formatConfigError(e: ConfigError): string {
  return `config error: ${e.path}: ${e.message}`;
}

/** Formats a zod/config path the way users read it: `spokes[1].tenants[0].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(root)";
}
