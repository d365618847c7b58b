// Shared names and input checks for the observability builders (Prometheus, Fluent Bit, Grafana).
// Pure: no Pulumi import, so the builders and their tests run on plain values.

/** Scrape job of the Conjur followers on a spoke; the hub's follower alert selects it by name. */
export const FOLLOWER_JOB = "conjur-follower";
/** Pod label (and value) that marks a Conjur follower pod. */
export const FOLLOWER_APP_LABEL = "app.kubernetes.io/name";
export const FOLLOWER_APP_NAME = "conjur-follower";
/** Scrape job of pods that opt in with `prometheus.io/scrape: "true"`. */
export const ANNOTATED_PODS_JOB = "kubernetes-pods";
/** Every Prometheus scrapes itself under this job name. */
export const SELF_SCRAPE_JOB = "prometheus";
/** The hub names each spoke's federation job `<prefix><spoke name>`. */
export const FEDERATE_JOB_PREFIX = "federate-";
export const DEFAULT_RECORDING_RULES_FILE = "/etc/prometheus/rules/recording.yml";
export const DEFAULT_SELF_SCRAPE_TARGET = "localhost:9090";
/** Where the alerts' runbook hints point. */
export const OBSERVABILITY_RUNBOOK = "docs/observability.md";
/** The project's docs as GitHub renders them (the alerts' `runbook_url`s). */
export const DOCS_URL = "https://github.com/hubspoke/hubspoke/blob/main/docs";
/**
 * The troubleshooting guide as GitHub renders it: each alert's `runbook_url` is this plus
 * `#<anchor>`, the slug of the guide's heading named after the alert.
 */
export const TROUBLESHOOTING_URL = `${DOCS_URL}/troubleshooting.md`;
/** Fluent Bit's built-in HTTP server (health and metrics). */
export const FLUENT_BIT_HTTP_PORT = 2020;
/** Where every Prometheus of the estate listens (spokes with mTLS, the hub in-cluster). */
export const PROMETHEUS_PORT = 9090;
/** The forward protocol port of the hub's log sink. */
export const LOG_FORWARD_PORT = 24224;
/** The hub's scrape job of the Conjur primary (through its TLS front). */
export const PRIMARY_JOB = "conjur-primary";
/** Pod label value (under FOLLOWER_APP_LABEL) that marks a Conjur primary pod. */
export const PRIMARY_APP_NAME = "conjur-primary";

/**
 * Series that exist without any recording rule: Prometheus' own per-target series and the Conjur
 * metrics documented in reference/CONJUR.md (histograms expand to _bucket/_sum/_count).
 */
export const KNOWN_SERIES: readonly string[] = [
  "up",
  "scrape_duration_seconds",
  "scrape_samples_scraped",
  "conjur_http_server_requests_total",
  "conjur_http_server_request_duration_seconds_bucket",
  "conjur_http_server_request_duration_seconds_sum",
  "conjur_http_server_request_duration_seconds_count",
  "conjur_server_authenticator",
  "conjur_resource_count",
];

/** The hub's federation job name for a spoke. */
export function federateJobName(spoke: string, prefix: string = FEDERATE_JOB_PREFIX): string {
  return `${prefix}${spoke}`;
}

const DURATION_UNITS_MS: ReadonlyArray<readonly [string, number]> = [
  ["y", 365 * 24 * 3600 * 1000],
  ["w", 7 * 24 * 3600 * 1000],
  ["d", 24 * 3600 * 1000],
  ["h", 3600 * 1000],
  ["m", 60 * 1000],
  ["s", 1000],
  ["ms", 1],
];
// Same grammar as Prometheus' model.ParseDuration: units in descending order, each at most once.
const DURATION_PATTERN = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds in a Prometheus duration ("1m30s", "500ms", "0"); throws on anything else. */
export function parsePrometheusDuration(text: string, what = "duration"): number {
  if (text === "0") return 0;
  const match = DURATION_PATTERN.exec(text);
  if (text === "" || match === null) {
    throw new Error(`${what}: "${text}" is not a Prometheus duration (e.g. "30s", "1m30s", "500ms")`);
  }
  return DURATION_UNITS_MS.reduce((total, [, unitMs], i) => total + Number(match[i + 1] ?? 0) * unitMs, 0);
}

/** Throws `<what>: "<value>" <rule>` unless the pattern matches the whole value. */
function assertPattern(pattern: RegExp, value: string, what: string, rule: string): void {
  if (!pattern.test(value)) throw new Error(`${what}: "${value}" ${rule}`);
}

/**
 * Names that end up inside PromQL strings, job names, Fluent Bit tag patterns and Kubernetes
 * names: a DNS label is safe in all of them, so nothing needs escaping downstream.
 */
export function assertDnsLabel(value: string, what: string): void {
  const rule = 'must be a DNS label (lower-case letters, digits and "-", 1-63 chars)';
  assertPattern(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, value, what, rule);
}

/** Values written as label values and Fluent Bit record values (no spaces: `Record key value`). */
export function assertSimpleLabelValue(value: string, what: string): void {
  const rule = 'must be letters, digits, ".", "_" or "-" (no spaces), at most 63 chars';
  assertPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, value, what, rule);
}

/** "host:port" or "[ipv6]:port" with a port in 1..65535. */
export function assertHostPort(value: string, what: string): void {
  const match = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(value);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port < 1 || port > 65535) throw new Error(`${what}: "${value}" must be host:port`);
}

export function assertPort(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${what}: ${value} is not a TCP port (1-65535)`);
  }
}

/** Spoke names become job names and `cluster` labels, so each may appear once. */
export function assertUniqueSpokes(names: readonly string[]): void {
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) {
    throw new Error(
      `spokes: two spokes are named "${duplicate}" (duplicate spoke name); job names and cluster labels must be unique`,
    );
  }
}

/** Escapes a literal for use inside an RE2 regular expression (PromQL `=~`). */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}
