// Secret hygiene by construction: every generated secret gets a distinct sentinel value in the mocks,
// and a scanner finds each sentinel wherever it went. A sentinel may sit only inside a value still
// marked secret, and on a Kubernetes object only in a Secret's data/stringData; never in plain
// inputs, plain stack outputs, the plan's files or its log.
import * as fs from "node:fs";
import * as path from "node:path";
import { Evaluation, isSecretWrapper } from "../../tools/mock-engine";

export interface Sentinel {
  /** The unique text the mocks hand out (or a form of it: a base64 or hex encoding). */
  readonly token: string;
  /** Which secret it stands for: `random:index/randomPassword:RandomPassword conjur-admin-password .result`. */
  readonly source: string;
}

export interface Occurrence {
  readonly sentinel: Sentinel;
  /** `resource <urn>`, `output <name>`, `file <relative path>` or `log`. */
  readonly where: string;
  /** Field path (`spec.template.spec.containers[0].env[2].value`) or line number. */
  readonly path: string;
  /** Inside a value marked secret. */
  readonly wrapped: boolean;
  /** Found only after base64-decoding the text around it. */
  readonly decoded: boolean;
}

export interface Leak extends Occurrence {
  readonly why: string;
}

const PRIVATE_KEY_FIELDS = ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"];

/** Hands out sentinels through mock-engine's `computed` hook and remembers what each stands for. */
export class SentinelRegistry {
  readonly sentinels: Sentinel[] = [];
  /** Resource types the hook gave sentinels to, for the test to prove it covered each kind of secret. */
  readonly covered = new Set<string>();

  /** A new sentinel: upper-case letters and digits only, so URL- or shell-escaping leaves it intact. */
  issue(source: string): string {
    const token = `SENTINEL${String(this.sentinels.length + 1).padStart(4, "0")}X`;
    this.sentinels.push({ token, source });
    return token;
  }

  /** Registers a value the program receives as is (a secret config value). */
  add(token: string, source: string): void {
    this.sentinels.push({ token, source });
  }

  readonly computed = (
    type: string,
    name: string,
    inputs: Record<string, unknown>,
  ): Record<string, unknown> | undefined => {
    const of = (field: string) => `${type} ${name} .${field}`;
    switch (type) {
      case "tls:index/privateKey:PrivateKey": {
        this.covered.add(type);
        const fields: Record<string, unknown> = {};
        for (const field of PRIVATE_KEY_FIELDS) {
          fields[field] =
            `-----BEGIN PRIVATE KEY-----\n${this.issue(of(field))}\n-----END PRIVATE KEY-----\n`;
        }
        return fields;
      }
      case "random:index/randomPassword:RandomPassword":
        this.covered.add(type);
        return { result: this.issue(of("result")), bcryptHash: this.issue(of("bcryptHash")) };
      case "random:index/randomBytes:RandomBytes": {
        this.covered.add(type);
        const bytes = Buffer.alloc(Number(inputs["length"] ?? 32));
        Buffer.from(this.issue(of("bytes"))).copy(bytes);
        const base64 = bytes.toString("base64");
        const hex = bytes.toString("hex");
        this.add(base64, of("base64"));
        this.add(hex, of("hex"));
        return { base64, hex };
      }
      case "kubernetes:core/v1:Secret":
        // Only reads (Secret.get) come without inputs: the token the controller wrote into the Secret.
        if (inputs["metadata"] !== undefined) return undefined;
        this.covered.add(`${type} (read)`);
        return { data: { token: Buffer.from(this.issue(of("data.token"))).toString("base64") } };
      default:
        return undefined;
    }
  };
}

const BASE64_RUN = /[A-Za-z0-9+/]{12,}={0,2}/g;

/** Sentinels in a text, directly or inside a base64 run (Secret data, kubeconfigs, certificates). */
export function sentinelsInText(
  text: string,
  sentinels: readonly Sentinel[],
): Array<{ sentinel: Sentinel; decoded: boolean }> {
  const found = new Map<string, { sentinel: Sentinel; decoded: boolean }>();
  for (const sentinel of sentinels) {
    if (text.includes(sentinel.token)) found.set(sentinel.token, { sentinel, decoded: false });
  }
  for (const run of text.match(BASE64_RUN) ?? []) {
    // Each of the four alignments: the encoded value need not start where the run does.
    for (let offset = 0; offset < 4; offset++) {
      const decoded = Buffer.from(run.slice(offset), "base64").toString("latin1");
      for (const sentinel of sentinels) {
        if (!found.has(sentinel.token) && decoded.includes(sentinel.token)) {
          found.set(sentinel.token, { sentinel, decoded: true });
        }
      }
    }
  }
  return [...found.values()];
}

/** Every sentinel occurrence in a value (resource inputs, an output), with its path and secrecy. */
export function occurrencesInValue(
  value: unknown,
  sentinels: readonly Sentinel[],
  where: string,
  at = "",
  wrapped = false,
): Occurrence[] {
  if (isSecretWrapper(value)) return occurrencesInValue(value.value, sentinels, where, at, true);
  if (typeof value === "string") {
    return sentinelsInText(value, sentinels).map((f) => ({ ...f, where, path: at || "(root)", wrapped }));
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => occurrencesInValue(item, sentinels, where, `${at}[${i}]`, wrapped));
  }
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) =>
      occurrencesInValue(item, sentinels, where, at ? `${at}.${key}` : key, wrapped),
    );
  }
  return [];
}

/** Kubernetes objects keep secrets only in a Secret's data or stringData. */
function allowedInKubernetesObject(type: string, fieldPath: string): boolean {
  return type === "kubernetes:core/v1:Secret" && /^(?:data|stringData)(?:[.[]|$)/.test(fieldPath);
}

export interface EvaluationScan {
  readonly occurrences: Occurrence[];
  readonly leaks: Leak[];
}

/** Judges every occurrence in an evaluation's resources and outputs. */
export function scanEvaluation(evaluation: Evaluation, sentinels: readonly Sentinel[]): EvaluationScan {
  const occurrences: Occurrence[] = [];
  const leaks: Leak[] = [];
  for (const r of evaluation.resources) {
    for (const o of occurrencesInValue(r.inputs, sentinels, `resource ${r.urn}`)) {
      occurrences.push(o);
      if (!o.wrapped) leaks.push({ ...o, why: "in plain (unmarked) inputs: stored in clear in the state" });
      else if (r.type.startsWith("kubernetes:") && !allowedInKubernetesObject(r.type, o.path)) {
        leaks.push({ ...o, why: "in a Kubernetes object outside a Secret's data/stringData" });
      }
    }
  }
  for (const [name, value] of Object.entries(evaluation.outputs)) {
    for (const o of occurrencesInValue(value, sentinels, `output ${name}`)) {
      occurrences.push(o);
      if (!o.wrapped) leaks.push({ ...o, why: "in a plain stack output" });
    }
  }
  return { occurrences, leaks };
}

/** Any sentinel in any file under a plan's output directory, or in its log lines, is a leak. */
export function scanPlanArtefacts(
  outDir: string,
  log: readonly string[],
  sentinels: readonly Sentinel[],
): Leak[] {
  const leaks: Leak[] = [];
  const scanText = (text: string, where: string): void => {
    text.split("\n").forEach((line, index) => {
      for (const f of sentinelsInText(line, sentinels)) {
        leaks.push({ ...f, where, path: `line ${index + 1}`, wrapped: false, why: "in the plan's output" });
      }
    });
  };
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else scanText(fs.readFileSync(full, "utf8"), `file ${path.relative(outDir, full)}`);
    }
  };
  walk(outDir);
  scanText(log.join("\n"), "log");
  return leaks;
}

export function formatLeak(leak: Leak): string {
  return `${leak.sentinel.source} ${leak.why}: ${leak.where} at ${leak.path}${leak.decoded ? " (base64)" : ""}`;
}
