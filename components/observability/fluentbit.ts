// Typed model of Fluent Bit's classic config format (render, parse back, structural checks) and
// the builders for the spoke log forwarder and the hub log sink. Pure: no Pulumi import.
import * as path from "node:path";
import { FLUENT_BIT_HTTP_PORT, assertDnsLabel, assertPort, assertSimpleLabelValue } from "./model";

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

/** One `Key value` line. Keys may repeat (a parser filter lists several `Parser` entries). */
export type Entry = [key: string, value: string];

/** The entries of one `[INPUT]`, `[FILTER]`, `[OUTPUT]`, `[PARSER]` or `[MULTILINE_PARSER]`. */
export interface Section {
  entries: Entry[];
}

export interface FluentBitConfig {
  service: Record<string, string>;
  inputs: Section[];
  filters: Section[];
  outputs: Section[];
}

export interface ParsersFile {
  parsers: Section[];
  multilineParsers?: Section[];
}

/** A section as read back from text, before it is sorted into a config or a parsers file. */
export interface ClassicSection {
  header: string;
  entries: Entry[];
}

/** First value of `key`, compared case-insensitively as Fluent Bit does. */
export function getValue(section: Section, key: string): string | undefined {
  const wanted = key.toLowerCase();
  return section.entries.find(([k]) => k.toLowerCase() === wanted)?.[1];
}

/** Every value of `key` (case-insensitive), in order. */
export function getValues(section: Section, key: string): string[] {
  const wanted = key.toLowerCase();
  return section.entries.filter(([k]) => k.toLowerCase() === wanted).map(([, v]) => v);
}

function serviceValue(service: Record<string, string>, key: string): string | undefined {
  const wanted = key.toLowerCase();
  return Object.entries(service).find(([k]) => k.toLowerCase() === wanted)?.[1];
}

/** Fluent Bit's boolean spelling (flb_utils_bool): on/true/yes, any case. */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ["on", "true", "yes"].includes(value.toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// Rendering and parsing
// ---------------------------------------------------------------------------------------------

const KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;

function hasControlCharacter(value: string): boolean {
  return [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

/**
 * A value the classic format can hold: one line, no control characters, and no surrounding
 * spaces (Fluent Bit trims them, so they would not survive a round trip).
 */
function assertClassicValue(value: string, what: string): void {
  if (/[\r\n]/.test(value))
    throw new Error(`${what}: value contains a newline, which the classic format cannot hold`);
  if (hasControlCharacter(value)) throw new Error(`${what}: value contains a control character`);
  if (value.trim() === "") throw new Error(`${what}: value is empty`);
  if (value !== value.trim()) throw new Error(`${what}: value has leading or trailing whitespace`);
}

function assertClassicKey(key: string, what: string): void {
  if (!KEY.test(key)) throw new Error(`${what}: "${key}" is not a valid key`);
}

function renderSection(header: string, entries: Entry[]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  const lines = entries.map(([key, value]) => {
    assertClassicKey(key, `[${header}]`);
    assertClassicValue(value, `[${header}] ${key}`);
    return `    ${key.padEnd(width)} ${value}`;
  });
  return [`[${header}]`, ...lines].join("\n") + "\n";
}

function renderSections(sections: Array<[string, Section]>): string {
  for (const [header, section] of sections) {
    if (section.entries.length === 0) throw new Error(`[${header}]: section has no entries`);
  }
  return sections.map(([header, section]) => renderSection(header, section.entries)).join("\n");
}

/** The main config file: `[SERVICE]`, then inputs, filters and outputs in pipeline order. */
export function renderFluentBitConfig(cfg: FluentBitConfig): string {
  return renderSections([
    ["SERVICE", { entries: Object.entries(cfg.service) }],
    ...cfg.inputs.map((s): [string, Section] => ["INPUT", s]),
    ...cfg.filters.map((s): [string, Section] => ["FILTER", s]),
    ...cfg.outputs.map((s): [string, Section] => ["OUTPUT", s]),
  ]);
}

/** The file named by `Parsers_File`. */
export function renderParsers(p: ParsersFile): string {
  return renderSections([
    ...p.parsers.map((s): [string, Section] => ["PARSER", s]),
    ...(p.multilineParsers ?? []).map((s): [string, Section] => ["MULTILINE_PARSER", s]),
  ]);
}

/**
 * Reads classic-format text back into sections: headers at column 0, indented `Key value`
 * lines, `#` comments. `@INCLUDE`/`@SET` are refused: generated configs never use them, and a
 * reader that skipped them would report a config different from the one Fluent Bit loads.
 */
export function parseFluentBitClassic(text: string): ClassicSection[] {
  const sections: ClassicSection[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const at = `line ${index + 1}`;
    if (line.includes("\r")) throw new Error(`${at}: stray carriage return (values cannot span lines)`);
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    if (trimmed.startsWith("@"))
      throw new Error(`${at}: directive "${trimmed.split(/\s+/)[0]}" is not supported`);
    if (/^\S/.test(line)) {
      const header = /^\[([A-Za-z_]+)\]$/.exec(trimmed);
      if (header === null)
        throw new Error(`${at}: expected a [SECTION] header or an indented entry, got "${trimmed}"`);
      sections.push({ header: header[1], entries: [] });
      return;
    }
    const current = sections[sections.length - 1];
    if (current === undefined) throw new Error(`${at}: entry outside of any section`);
    const entry = /^(\S+)\s+(.+)$/.exec(trimmed);
    if (entry === null) throw new Error(`${at}: key "${trimmed}" has no value`);
    current.entries.push([entry[1], entry[2]]);
  });
  return sections;
}

function byHeader(sections: ClassicSection[], header: string): Section[] {
  return sections.filter((s) => s.header.toUpperCase() === header).map((s) => ({ entries: s.entries }));
}

function assertKnownHeaders(sections: ClassicSection[], allowed: string[]): void {
  for (const s of sections) {
    if (!allowed.includes(s.header.toUpperCase())) throw new Error(`unexpected section [${s.header}]`);
  }
}

/** Sorts parsed sections of a main config file into the typed model. */
export function classicToConfig(sections: ClassicSection[]): FluentBitConfig {
  assertKnownHeaders(sections, ["SERVICE", "INPUT", "FILTER", "OUTPUT"]);
  const service = sections.filter((s) => s.header.toUpperCase() === "SERVICE");
  if (service.length > 1) throw new Error("more than one [SERVICE] section");
  return {
    service: Object.fromEntries(service[0]?.entries ?? []),
    inputs: byHeader(sections, "INPUT"),
    filters: byHeader(sections, "FILTER"),
    outputs: byHeader(sections, "OUTPUT"),
  };
}

/** Sorts parsed sections of a parsers file into the typed model. */
export function classicToParsers(sections: ClassicSection[]): ParsersFile {
  assertKnownHeaders(sections, ["PARSER", "MULTILINE_PARSER"]);
  const multiline = byHeader(sections, "MULTILINE_PARSER");
  const parsers: ParsersFile = { parsers: byHeader(sections, "PARSER") };
  if (multiline.length > 0) parsers.multilineParsers = multiline;
  return parsers;
}

// ---------------------------------------------------------------------------------------------
// Structural checks
// ---------------------------------------------------------------------------------------------

/** Multiline parsers compiled into Fluent Bit (usable without a parsers file). */
export const BUILTIN_MULTILINE_PARSERS: readonly string[] = ["cri", "docker", "go", "python", "java"];
/** Outputs that do not leave the node, so TLS and retry rules do not apply. */
const LOCAL_OUTPUTS = ["stdout", "null", "file", "counter", "flowcounter", "exit"];
/** Keys whose value is a credential and must come from the environment, never a literal. */
const SECRET_KEYS = ["shared_key", "http_passwd", "tls.key_passwd", "passwd", "password"];
const ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

function sectionLabel(kind: string, index: number, section: Section): string {
  return `${kind}[${index}] (${getValue(section, "Name") ?? "unnamed"})`;
}

/**
 * Problems that would lose, leak or misroute logs; [] when none. Checks what Fluent Bit itself
 * would accept silently (a missing storage.path, a retry limit of 1, a plaintext key).
 */
export function checkFluentBitConfig(cfg: FluentBitConfig, parsers: ParsersFile): string[] {
  const problems: string[] = [];
  const outputs = cfg.outputs.map((s, i) => ({ s, label: sectionLabel("output", i, s) }));
  const inputs = cfg.inputs.map((s, i) => ({ s, label: sectionLabel("input", i, s) }));
  const filters = cfg.filters.map((s, i) => ({ s, label: sectionLabel("filter", i, s) }));

  for (const { s, label } of outputs) {
    const name = (getValue(s, "Name") ?? "").toLowerCase();
    if (["stdout", "null"].includes(name)) continue;
    if (!isTrue(getValue(s, "tls"))) problems.push(`${label}: tls must be On`);
    if (!isTrue(getValue(s, "tls.verify"))) problems.push(`${label}: tls.verify must be On`);
  }

  const usesFilesystem = inputs.some(({ s }) => getValue(s, "storage.type")?.toLowerCase() === "filesystem");
  if (usesFilesystem && (serviceValue(cfg.service, "storage.path") ?? "") === "") {
    problems.push("service: storage.path must be set when an input uses storage.type filesystem");
  }

  for (const { s, label } of outputs) {
    if (LOCAL_OUTPUTS.includes((getValue(s, "Name") ?? "").toLowerCase())) continue;
    const retry = getValue(s, "Retry_Limit")?.toLowerCase();
    if (retry !== "no_limits" && retry !== "false") {
      problems.push(
        `${label}: Retry_Limit must be no_limits (the default of 1 drops logs after one failed flush)`,
      );
    }
    if (getValue(s, "storage.total_limit_size") === undefined) {
      problems.push(`${label}: storage.total_limit_size must bound the filesystem buffer`);
    }
  }

  const parserNames = new Set(parsers.parsers.map((p) => (getValue(p, "Name") ?? "").toLowerCase()));
  const multilineNames = new Set([
    ...BUILTIN_MULTILINE_PARSERS,
    ...(parsers.multilineParsers ?? []).map((p) => (getValue(p, "Name") ?? "").toLowerCase()),
  ]);
  const referenced = [
    ...inputs.flatMap(({ s, label }) => getValues(s, "Parser").map((p) => ({ p, label }))),
    ...filters
      .filter(({ s }) => (getValue(s, "Name") ?? "").toLowerCase() === "parser")
      .flatMap(({ s, label }) => getValues(s, "Parser").map((p) => ({ p, label }))),
  ];
  for (const { p, label } of referenced) {
    if (!parserNames.has(p.toLowerCase()))
      problems.push(`${label}: parser "${p}" is not defined in the parsers file`);
  }
  for (const { s, label } of [...inputs, ...filters]) {
    for (const list of getValues(s, "multiline.parser")) {
      for (const name of list.split(",").map((n) => n.trim())) {
        if (!multilineNames.has(name.toLowerCase())) {
          problems.push(
            `${label}: multiline parser "${name}" is neither built in nor defined in the parsers file`,
          );
        }
      }
    }
  }
  for (const { s, label } of filters) {
    if ((getValue(s, "Name") ?? "").toLowerCase() === "parser" && getValues(s, "Parser").length === 0) {
      problems.push(`${label}: parser filter names no Parser`);
    }
  }

  const everywhere = [
    { s: { entries: Object.entries(cfg.service) }, label: "service" },
    ...inputs,
    ...filters,
    ...outputs,
  ];
  for (const { s, label } of everywhere) {
    for (const [key, value] of s.entries) {
      if (SECRET_KEYS.includes(key.toLowerCase()) && !ENV_REFERENCE.test(value)) {
        problems.push(`${label}: ${key} must be an environment reference like \${VAR}, not a literal`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/**
 * A user value written verbatim: besides the classic-format rules, `${` is refused because Fluent
 * Bit would expand it as an environment variable.
 */
function literal(value: string, what: string): string {
  assertClassicValue(value, what);
  if (value.includes("${"))
    throw new Error(`${what}: "\${" would be expanded by Fluent Bit as an environment variable`);
  return value;
}

function envReference(name: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new Error(`${what}: "${name}" is not an environment variable name`);
  return `\${${name}}`;
}

const SIZE = /^\d+[KkMmGgTt]?[Bb]?$/;
function size(value: string, what: string): string {
  if (!SIZE.test(value)) throw new Error(`${what}: "${value}" is not a size such as "50M" or "5G"`);
  return value;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
function host(value: string, what: string): string {
  const isIPv4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(value);
  if (!isIPv4 && !HOSTNAME.test(value))
    throw new Error(`${what}: "${value}" is not a host name or IPv4 address`);
  return value;
}

function absolutePath(value: string, what: string): string {
  literal(value, what);
  if (!path.posix.isAbsolute(value) || /\s/.test(value)) {
    throw new Error(`${what}: "${value}" must be an absolute path without spaces`);
  }
  return value;
}

/** Parser names the forwarder's filters refer to. */
export const CONJUR_PARSER = "conjur";
export const CONJUR_AUDIT_PARSER = "conjur_audit";

/**
 * Conjur's application log line. Its formatter right-aligns the severity to five characters
 * (" INFO"), and the origin/request_id/tid tags appear only on request-scoped lines.
 * Written in the syntax common to Onigmo (Fluent Bit) and JavaScript, so tests can run it.
 */
export const CONJUR_LOG_REGEX =
  "^\\s*(?<level>[A-Z]+) (?<time>\\d{4}/\\d{2}/\\d{2} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4}) \\[pid=(?<pid>\\d+)\\]" +
  "(?: \\[origin=(?<origin>[^\\]]*)\\])?(?: \\[request_id=(?<request_id>[^\\]]*)\\])?(?: \\[tid=(?<tid>\\d+)\\])?" +
  "(?: (?<message>.*))?$";
export const CONJUR_LOG_TIME_FORMAT = "%Y/%m/%d %H:%M:%S %z";

/**
 * Conjur's RFC 5424 audit event: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`, where nil
 * fields are "-" and structured-data values escape "]" as "\]".
 */
export const CONJUR_AUDIT_REGEX =
  "^<(?<pri>\\d{1,3})>1 (?<time>\\S+) (?<host>\\S+) (?<ident>\\S+) (?<pid>\\S+) (?<msgid>\\S+) " +
  "(?<sd>-|(?:\\[(?:[^\\]\\\\]|\\\\.)*\\])+)(?: (?<message>.*))?$";
export const CONJUR_AUDIT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%L%z";

export function buildConjurParsers(): ParsersFile {
  return {
    parsers: [
      {
        entries: [
          ["Name", CONJUR_PARSER],
          ["Format", "regex"],
          ["Regex", CONJUR_LOG_REGEX],
          ["Time_Key", "time"],
          ["Time_Format", CONJUR_LOG_TIME_FORMAT],
          ["Time_Keep", "On"],
          ["Types", "pid:integer tid:integer"],
        ],
      },
      {
        entries: [
          ["Name", CONJUR_AUDIT_PARSER],
          ["Format", "regex"],
          ["Regex", CONJUR_AUDIT_REGEX],
          ["Time_Key", "time"],
          ["Time_Format", CONJUR_AUDIT_TIME_FORMAT],
          ["Time_Keep", "On"],
          ["Types", "pri:integer"],
        ],
      },
    ],
  };
}

export interface SpokeForwarderInput {
  cluster: string;
  region: string;
  hubHost: string;
  hubPort: number;
  /** Name in the hub sink's certificate; sent as SNI and checked against it. */
  tlsServerName: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Name of the env var holding the forward protocol's shared key (from a Secret). */
  sharedKeyEnv: string;
  storagePath: string;
  storageTotalLimit: string;
  memBufLimit: string;
  conjurNamespace: string;
  /** Where the parsers file is mounted; defaults to the official image's config directory. */
  parsersFile?: string;
  /** Defaults to memBufLimit. */
  backlogMemLimit?: string;
}

export const DEFAULT_PARSERS_FILE = "/fluent-bit/etc/parsers.conf";
const CONTAINER_LOGS = "/var/log/containers/*.log";
/** tail names each record kube.<path with / as .>, e.g. kube.var.log.containers.<pod>_<ns>_<container>-<id>.log */
const KUBE_TAG_PREFIX = "kube.var.log.containers.";

function serviceSection(
  storagePath: string,
  backlogMemLimit: string,
  parsersFile: string | undefined,
): Record<string, string> {
  const service: Record<string, string> = {
    Flush: "1",
    Log_Level: "info",
    Daemon: "Off",
  };
  if (parsersFile !== undefined) service.Parsers_File = parsersFile;
  return {
    ...service,
    HTTP_Server: "On",
    HTTP_Listen: "0.0.0.0",
    HTTP_Port: String(FLUENT_BIT_HTTP_PORT),
    Health_Check: "On",
    "storage.path": storagePath,
    "storage.sync": "normal",
    "storage.checksum": "off",
    "storage.backlog.mem_limit": backlogMemLimit,
    "storage.metrics": "On",
  };
}

/** The spoke DaemonSet's config: container logs, Kubernetes metadata, Conjur parsing, TLS forward to the hub. */
export function buildSpokeForwarderConfig(input: SpokeForwarderInput): {
  config: FluentBitConfig;
  parsers: ParsersFile;
} {
  assertDnsLabel(input.cluster, "cluster");
  assertSimpleLabelValue(input.region, "region");
  assertDnsLabel(input.conjurNamespace, "conjurNamespace");
  assertPort(input.hubPort, "hubPort");
  const hubHost = host(input.hubHost, "hubHost");
  const serverName = host(input.tlsServerName, "tlsServerName");
  const storagePath = absolutePath(input.storagePath, "storagePath");
  const memBufLimit = size(input.memBufLimit, "memBufLimit");
  const parsersFile = absolutePath(input.parsersFile ?? DEFAULT_PARSERS_FILE, "parsersFile");

  const config: FluentBitConfig = {
    service: serviceSection(
      storagePath,
      size(input.backlogMemLimit ?? memBufLimit, "backlogMemLimit"),
      parsersFile,
    ),
    inputs: [
      {
        entries: [
          ["Name", "tail"],
          ["Tag", "kube.*"],
          ["Path", CONTAINER_LOGS],
          // containerd writes CRI-format lines and splits long ones; cri joins them back.
          ["multiline.parser", "cri"],
          ["DB", path.posix.join(storagePath, "tail-containers.db")],
          ["DB.locking", "true"],
          ["storage.type", "filesystem"],
          ["Mem_Buf_Limit", memBufLimit],
          ["Skip_Long_Lines", "On"],
          ["Refresh_Interval", "10"],
        ],
      },
    ],
    filters: [
      {
        entries: [
          ["Name", "kubernetes"],
          ["Match", "kube.*"],
          ["Kube_Tag_Prefix", KUBE_TAG_PREFIX],
          ["Merge_Log", "On"],
          ["Keep_Log", "Off"],
          ["K8S-Logging.Parser", "On"],
          ["K8S-Logging.Exclude", "On"],
          ["Annotations", "Off"],
        ],
      },
      {
        // Tag of a container log: kube.var.log.containers.<pod>_<namespace>_<container>-<id>.log
        entries: [
          ["Name", "parser"],
          ["Match", `kube.*_${input.conjurNamespace}_*`],
          ["Key_Name", "log"],
          ["Parser", CONJUR_PARSER],
          ["Parser", CONJUR_AUDIT_PARSER],
          ["Reserve_Data", "On"],
        ],
      },
      {
        entries: [
          ["Name", "record_modifier"],
          ["Match", "*"],
          ["Record", `cluster ${input.cluster}`],
          ["Record", `region ${input.region}`],
        ],
      },
    ],
    outputs: [
      {
        entries: [
          ["Name", "forward"],
          ["Match", "*"],
          ["Host", hubHost],
          ["Port", String(input.hubPort)],
          ["Self_Hostname", input.cluster],
          ["tls", "On"],
          ["tls.verify", "On"],
          // Without it Fluent Bit checks the chain but not the name (fluent-bit#8072; option since 3.1).
          ["tls.verify_hostname", "On"],
          ["tls.vhost", serverName],
          ["tls.ca_file", absolutePath(input.caFile, "caFile")],
          ["tls.crt_file", absolutePath(input.certFile, "certFile")],
          ["tls.key_file", absolutePath(input.keyFile, "keyFile")],
          ["Shared_Key", envReference(input.sharedKeyEnv, "sharedKeyEnv")],
          // The hub acknowledges each chunk, so a chunk leaves the buffer only once it is stored.
          ["Require_ack_response", "True"],
          ["Retry_Limit", "no_limits"],
          ["storage.total_limit_size", size(input.storageTotalLimit, "storageTotalLimit")],
        ],
      },
    ],
  };
  return { config, parsers: buildConjurParsers() };
}

export type SinkDestination =
  | { kind: "stdout" }
  | {
      kind: "elasticsearch" | "opensearch";
      host: string;
      port: number;
      index: string;
      userEnv: string;
      passwordEnv: string;
      /** CA of the search cluster; the system trust store when omitted. */
      caFile?: string;
    };

export interface HubSinkInput {
  listenPort: number;
  caFile: string;
  certFile: string;
  keyFile: string;
  sharedKeyEnv: string;
  destination: SinkDestination;
  storagePath: string;
  /** Bound of the output's filesystem buffer while the search cluster is away. */
  storageTotalLimit?: string;
  memBufLimit?: string;
  /**
   * Refuse forwarders without a client certificate from caFile. With tls.verify On alone,
   * in_forward asks for a client certificate and checks one that is sent, but OpenSSL still
   * accepts a client that sends none (SSL_VERIFY_PEER without FAIL_IF_NO_PEER_CERT).
   * `tls.verify_client_cert` closes that gap, but only Fluent Bit releases from 2026 know it and
   * older ones refuse to start on the unknown key: set false for those, and Shared_Key plus
   * server TLS remain the only authentication of forwarders.
   */
  requireClientCert?: boolean;
}

/** Index names Elasticsearch/OpenSearch accept: lower case, no spaces or separators. */
const INDEX = /^[a-z0-9][a-z0-9._-]*$/;

function destinationOutput(destination: SinkDestination, storageTotalLimit: string): Section {
  if (destination.kind === "stdout") {
    return {
      entries: [
        ["Name", "stdout"],
        ["Match", "*"],
        ["Format", "json_lines"],
      ],
    };
  }
  assertPort(destination.port, "destination.port");
  if (!INDEX.test(destination.index))
    throw new Error(`destination.index: "${destination.index}" is not a valid index name`);
  const entries: Entry[] = [
    ["Name", destination.kind === "elasticsearch" ? "es" : "opensearch"],
    ["Match", "*"],
    ["Host", host(destination.host, "destination.host")],
    ["Port", String(destination.port)],
    ["Index", destination.index],
    ["tls", "On"],
    ["tls.verify", "On"],
  ];
  if (destination.caFile !== undefined)
    entries.push(["tls.ca_file", absolutePath(destination.caFile, "destination.caFile")]);
  entries.push(
    ["HTTP_User", envReference(destination.userEnv, "destination.userEnv")],
    ["HTTP_Passwd", envReference(destination.passwordEnv, "destination.passwordEnv")],
    ["Suppress_Type_Name", "On"],
    // Retried chunks get the same document ids, so a retry cannot index a record twice.
    ["Generate_ID", "On"],
    // Kubernetes labels such as app.kubernetes.io/name would otherwise become nested objects
    // and clash with a label named app.
    ["Replace_Dots", "On"],
    ["Retry_Limit", "no_limits"],
    ["storage.total_limit_size", storageTotalLimit],
  );
  return { entries };
}

/** The hub's log sink: TLS forward input from the spokes, then a search cluster or stdout. */
export function buildHubSinkConfig(input: HubSinkInput): FluentBitConfig {
  assertPort(input.listenPort, "listenPort");
  const storagePath = absolutePath(input.storagePath, "storagePath");
  const memBufLimit = size(input.memBufLimit ?? "64M", "memBufLimit");
  const forwardInput: Entry[] = [
    ["Name", "forward"],
    ["Listen", "0.0.0.0"],
    ["Port", String(input.listenPort)],
    ["tls", "On"],
    ["tls.verify", "On"],
  ];
  if (input.requireClientCert ?? true) forwardInput.push(["tls.verify_client_cert", "On"]);
  forwardInput.push(
    // As a server, tls.ca_file is the CA that forwarders' client certificates must chain to.
    ["tls.ca_file", absolutePath(input.caFile, "caFile")],
    ["tls.crt_file", absolutePath(input.certFile, "certFile")],
    ["tls.key_file", absolutePath(input.keyFile, "keyFile")],
    ["Shared_Key", envReference(input.sharedKeyEnv, "sharedKeyEnv")],
    ["storage.type", "filesystem"],
    ["Mem_Buf_Limit", memBufLimit],
  );
  return {
    service: serviceSection(storagePath, memBufLimit, undefined),
    inputs: [{ entries: forwardInput }],
    filters: [],
    outputs: [
      destinationOutput(input.destination, size(input.storageTotalLimit ?? "8G", "storageTotalLimit")),
    ],
  };
}
