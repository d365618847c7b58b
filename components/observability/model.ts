// Shared names of the observability builders (Prometheus, Fluent Bit, Grafana). Pure: no Pulumi
// import. The builders check nothing themselves: their inputs come from the stack spec, which
// stacks/ validates once ("nothing downstream re-validates", docs/architecture.md). The names it
// admits are DNS labels and label values, which need no escaping in PromQL, job names or tags.

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

/** Escapes a literal for use inside an RE2 regular expression (PromQL `=~`). */
export function escapeRegex(literal: string): string {
  return literal.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}
