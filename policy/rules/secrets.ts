// Secrets hygiene: secret material only in Secret objects. One rule looks for values that look like
// credentials where plain text lives; the other for Pulumi secrets placed in non-Secret objects.
import type { PlannedResource, Rule } from "../types";
import {
  asArray,
  asRecord,
  asString,
  containersOf,
  describeContainer,
  isKubernetesObject,
  isSecretValue,
  kubernetesKind,
  podTemplateOf,
  stringMap,
} from "../kubernetes";

const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;
const AWS_ACCESS_KEY_ID = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/;
const JSON_WEB_TOKEN = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
const URL_WITH_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:([^\s@/]+)@/i;
// Placeholders the consumer expands ($(VAR) is Kubernetes' own env expansion): not literal passwords.
const REFERENCE = /^(?:\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[^}]+\}|\{\{[^}]+\}\}|%s|\*+|<[^>]+>)$/;

// Key-name words that mark a credential, and words that say the value is something else about it.
const SENSITIVE_WORDS = new Set([
  "password",
  "passwd",
  "pwd",
  "passphrase",
  "secret",
  "secrets",
  "token",
  "key",
  "apikey",
  "privatekey",
  "credential",
  "credentials",
]);
const PASSWORD_WORDS = new Set(["password", "passwd", "pwd", "passphrase"]);
const NOT_A_CREDENTIAL_WORDS = new Set([
  "checksum",
  "hash",
  "digest",
  "sha",
  "sha256",
  "fingerprint",
  "public",
  "pub",
  "cert",
  "certificate",
  "crt",
]);
const REFERS_TO_CREDENTIAL_SUFFIXES = new Set([
  "file",
  "path",
  "dir",
  "name",
  "ref",
  "id",
  "url",
  "uri",
  "length",
  "ttl",
]);

/** Splits a key name into lower-case words: `DB_PASSWORD`, `db-password`, `dbPassword`, `tls.key`. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "");
}

function credentialKeyKind(key: string): "password" | "credential" | undefined {
  const words = keyWords(key);
  const last = words[words.length - 1];
  if (last === undefined || REFERS_TO_CREDENTIAL_SUFFIXES.has(last)) return undefined;
  if (words.some((word) => NOT_A_CREDENTIAL_WORDS.has(word))) return undefined;
  // Run-together names (PGPASSWORD) end with the word too.
  if (PASSWORD_WORDS.has(last) || [...PASSWORD_WORDS].some((word) => last.endsWith(word))) return "password";
  return words.some((word) => SENSITIVE_WORDS.has(word)) ? "credential" : undefined;
}

function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** A long base64/base64url/hex blob with the character mix and entropy of generated key material. */
export function looksGenerated(value: string): boolean {
  if (value.length < 20 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((pattern) => pattern.test(value)).length;
  if (classes < 2 || (classes === 2 && value.length < 32)) return false;
  // Readable identifiers (`prometheus-federation-2024-config`) split into words; random blobs rarely do.
  const parts = value.split(/[-_]/);
  if (parts.length >= 3 && parts.filter((part) => /^[A-Za-z]{3,}$/.test(part)).length * 2 >= parts.length) {
    return false;
  }
  const alphabet = /^[0-9a-fA-F]+$/.test(value) ? 16 : 64;
  return shannonEntropy(value) >= 0.8 * Math.log2(Math.min(value.length, alphabet));
}

/** Why a value under a key looks like secret material, or undefined. Public certificates are fine. */
export function secretLookingReason(key: string, value: string): string | undefined {
  if (isSecretValue(value)) return undefined;
  if (PEM_PRIVATE_KEY.test(value)) return "contains a PEM private key";
  if (AWS_ACCESS_KEY_ID.test(value)) return "contains an AWS access key id";
  if (JSON_WEB_TOKEN.test(value)) return "contains a JSON Web Token";
  const urlPassword = URL_WITH_PASSWORD.exec(value)?.[1];
  if (urlPassword !== undefined && !REFERENCE.test(urlPassword)) return "contains a URL with a password";
  const keyKind = credentialKeyKind(key);
  const trimmed = value.trim();
  if (keyKind !== undefined && looksGenerated(trimmed))
    return `key "${key}" holds a generated-looking secret`;
  if (keyKind === "password" && isLiteralPassword(trimmed)) return `key "${key}" holds a literal password`;
  return undefined;
}

function isLiteralPassword(value: string): boolean {
  return (
    value.length >= 4 &&
    !REFERENCE.test(value) &&
    !value.startsWith("/") &&
    !/^(?:true|false|yes|no|none|null)$/i.test(value)
  );
}

// `key: value`, `key = value`, `key value` (Fluent Bit), `"key": "value"`, `KEY=value` lines in config files.
const CONFIG_LINE =
  /^\s*(?:-\s+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?:[:=]\s*|\s+)["']?([^"'\s,#]+)["']?/;
// `--db-password=x` / `--token x` style arguments.
const FLAG_ARGUMENT = /^--?([A-Za-z][A-Za-z0-9_.-]*)=(.+)$/;

/** Scans a whole text value: itself under its key, then each embedded config line under its own key. */
export function scanText(key: string, text: string): string | undefined {
  const direct = secretLookingReason(key, text);
  if (direct !== undefined) return direct;
  if (!text.includes("\n")) return undefined;
  for (const line of text.split("\n")) {
    const match = CONFIG_LINE.exec(line);
    if (match === null) continue;
    const reason = secretLookingReason(match[1], match[2]);
    if (reason !== undefined) return `${reason} (line "${match[1]} ...")`;
  }
  return undefined;
}

function metadataFindings(metadata: unknown, where: string): string[] {
  const messages: string[] = [];
  for (const section of ["labels", "annotations"] as const) {
    for (const [key, value] of Object.entries(stringMap(asRecord(metadata)?.[section]))) {
      const text = asString(value);
      const reason = text === undefined ? undefined : scanText(key, text);
      if (reason !== undefined) messages.push(`${where}${section}["${key}"]: ${reason}`);
    }
  }
  return messages;
}

function secretLookingFindings(resource: PlannedResource): string[] {
  if (!isKubernetesObject(resource)) return [];
  const messages = metadataFindings(resource.props.metadata, "metadata.");

  if (kubernetesKind(resource) === "ConfigMap") {
    for (const [key, value] of Object.entries(stringMap(resource.props.data))) {
      const text = asString(value);
      const reason = text === undefined ? undefined : scanText(key, text);
      if (reason !== undefined) messages.push(`data["${key}"]: ${reason}; move it to a Secret`);
    }
  }

  const template = podTemplateOf(resource);
  if (template !== undefined) {
    const templatePrefix = template.specPath.replace(/\.spec$/, ".metadata.");
    if (template.specPath !== "spec") messages.push(...metadataFindings(template.metadata, templatePrefix));
    for (const ref of containersOf(template.spec)) {
      for (const envEntry of asArray(ref.container.env)) {
        const env = asRecord(envEntry);
        const name = asString(env?.name);
        const value = asString(env?.value);
        if (name === undefined || value === undefined) continue;
        const reason = scanText(name, value);
        if (reason !== undefined) {
          messages.push(`${describeContainer(ref)}: env ${name}: ${reason}; use valueFrom.secretKeyRef`);
        }
      }
      for (const list of ["command", "args"] as const) {
        for (const argument of asArray(ref.container[list])) {
          const text = asString(argument);
          if (text === undefined) continue;
          const flag = FLAG_ARGUMENT.exec(text);
          const reason =
            flag === null ? secretLookingReason("", text) : secretLookingReason(flag[1], flag[2]);
          if (reason !== undefined) messages.push(`${describeContainer(ref)}: ${list}: ${reason}`);
        }
      }
    }
  }
  return messages;
}

export const noSecretLookingValues: Rule = {
  name: "no-secret-looking-values",
  description:
    "No private keys, access keys, tokens, passwords or credentialed URLs in ConfigMap data, env literals, " +
    "arguments, labels or annotations; they belong in Secret objects.",
  level: "mandatory",
  check: secretLookingFindings,
};

/** Paths (`data.password`, `spec.template...env[0].value`) under which a Pulumi secret sits. */
export function secretValuePaths(value: unknown, path = ""): string[] {
  if (isSecretValue(value)) return [path === "" ? "(root)" : path];
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => secretValuePaths(item, `${path}[${index}]`));
  }
  const record = asRecord(value);
  if (record === undefined) return [];
  return Object.entries(record).flatMap(([key, item]) =>
    secretValuePaths(item, path === "" ? key : `${path}.${key}`),
  );
}

export const noSecretOutsideSecretObjects: Rule = {
  name: "no-secret-outside-secret-objects",
  description: "Pulumi secret values appear only in Kubernetes Secret objects, never in other kinds.",
  level: "mandatory",
  check: (resource) => {
    if (!isKubernetesObject(resource) || kubernetesKind(resource) === "Secret") return [];
    return secretValuePaths(resource.props).map(
      (path) =>
        `${path} holds a Pulumi secret, but a ${kubernetesKind(resource) ?? "non-Secret"} object stores it ` +
        `in plain text; put it in a Secret and reference it`,
    );
  },
};
