// Pure builders for the Prometheus federation: spoke scrape config, recording rules and mTLS web
// config; hub federate config and alert rules; and the one YAML serialiser they all go through.
import YAML from "yaml";
import {
  ANNOTATED_PODS_JOB,
  DEFAULT_RECORDING_RULES_FILE,
  DEFAULT_SELF_SCRAPE_TARGET,
  DOCS_URL,
  FEDERATE_JOB_PREFIX,
  FOLLOWER_APP_LABEL,
  FOLLOWER_APP_NAME,
  FOLLOWER_JOB,
  OBSERVABILITY_RUNBOOK,
  PRIMARY_APP_NAME,
  PRIMARY_JOB,
  SELF_SCRAPE_JOB,
  TROUBLESHOOTING_URL,
  escapeRegex,
  federateJobName,
} from "./model";

// Document types: field names are Prometheus' own (snake_case), so the objects serialise as-is.
// Only fields Prometheus 2.42 accepts are modelled, which keeps the rejected ones out by type.

export interface TlsClientConfig {
  ca_file: string;
  cert_file?: string;
  key_file?: string;
  server_name?: string;
  /** Only ever written as false: said explicitly where a reviewer looks for it. */
  insecure_skip_verify?: false;
  min_version: "TLS12" | "TLS13";
}

export interface RelabelConfig {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  replacement?: string;
  target_label?: string;
  action?: "replace" | "keep" | "drop" | "labelmap" | "labeldrop" | "labelkeep";
}

export interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  scrape_timeout?: string;
  honor_labels?: boolean;
  metrics_path?: string;
  params?: Record<string, string[]>;
  scheme?: "http" | "https";
  tls_config?: TlsClientConfig;
  sample_limit?: number;
  body_size_limit?: string;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  kubernetes_sd_configs?: Array<{ role: "pod" | "service"; namespaces?: { names: string[] } }>;
  relabel_configs?: RelabelConfig[];
}

export interface PrometheusConfig {
  global: {
    scrape_interval: string;
    scrape_timeout?: string;
    evaluation_interval: string;
    external_labels: Record<string, string>;
  };
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

export type RecordingRule = { record: string; expr: string };

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export type RuleFile<R> = { groups: Array<{ name: string; interval?: string; rules: R[] }> };

// ---- Spoke ----

/** Client TLS for a Prometheus scraping an mTLS-protected Prometheus (its own or a spoke's). */
export type ScrapeTls = { caFile: string; certFile: string; keyFile: string; serverName: string };

/**
 * Server-verified TLS without a client certificate, for scraping a Conjur endpoint that serves
 * /metrics over HTTPS (the follower on 443, the primary behind its TLS front): the CA that issued
 * the endpoint's certificate, and the name it holds (pod IPs are not in it, so it is always given).
 */
export type ServerTls = { caFile: string; serverName: string };

function verifiedTls({ caFile: ca_file, serverName: server_name }: ServerTls): TlsClientConfig {
  return { ca_file, server_name, insecure_skip_verify: false, min_version: "TLS12" };
}

/** Client TLS presenting a certificate (mTLS), for the spokes' Prometheus APIs. */
function clientTls(tls: ScrapeTls): TlsClientConfig {
  const { caFile: ca_file, certFile: cert_file, keyFile: key_file, serverName: server_name } = tls;
  return { ca_file, cert_file, key_file, server_name, min_version: "TLS12" };
}

/** A job's scheme and TLS when it scrapes over HTTPS (plain HTTP without `tls`). */
function https(tls: TlsClientConfig | undefined): Pick<ScrapeConfig, "scheme" | "tls_config"> {
  return tls !== undefined ? { scheme: "https", tls_config: tls } : {};
}

export interface SpokePrometheusInput {
  /** Spoke cluster name; becomes the `cluster` external label the hub sees on every series. */
  cluster: string;
  region: string;
  scrapeInterval: string;
  /** Optional; Prometheus caps its 10s default at the interval when omitted. */
  scrapeTimeout?: string;
  /** Whether the spoke runs a Conjur follower (Enterprise); without one there is no follower job. */
  followers?: boolean;
  followerNamespace: string;
  followerMetricsPort: number;
  annotatedPods: boolean;
  /** Replaces Kubernetes discovery of the followers with fixed targets (tests, non-k8s runs). */
  staticFollowerTargets?: string[];
  /** Scrape the followers over HTTPS, verifying their certificate (plain HTTP when omitted). */
  followerTls?: ServerTls;
  recordingRulesFile?: string;
  /** host:port this Prometheus listens on, for its self-scrape. */
  selfScrapeTarget?: string;
  /**
   * When the spoke serves its API with mTLS (buildSpokeWebConfig), its self-scrape has to present
   * a client certificate too, or `up{job="prometheus"}` is 0 forever.
   */
  selfScrapeTls?: ScrapeTls;
}

function selfScrapeJob(target: string, tls: ScrapeTls | undefined): ScrapeConfig {
  const tlsConfig = tls !== undefined ? clientTls(tls) : undefined;
  return { job_name: SELF_SCRAPE_JOB, ...https(tlsConfig), static_configs: [{ targets: [target] }] };
}

// Relabelling rules by what they do, with Prometheus' field order (source, regex, replacement, target).
const keep = (source: string, regex: string): RelabelConfig => ({
  source_labels: [source],
  regex,
  action: "keep",
});
const drop = (source: string, regex: string): RelabelConfig => ({
  source_labels: [source],
  regex,
  action: "drop",
});
function replace(source: string[], regex: string, target: string, replacement?: string): RelabelConfig {
  const replaced = replacement !== undefined ? { replacement } : {};
  return { source_labels: source, regex, ...replaced, target_label: target, action: "replace" };
}
const copy = (source: string, target: string): RelabelConfig => ({
  source_labels: [source],
  target_label: target,
  action: "replace",
});

/**
 * A pod target's namespace and pod as labels. Only these are copied: mapping every pod label could
 * bring in a `cluster` or `region` label, which would shadow the external labels the hub relies on.
 */
const POD_IDENTITY = [
  copy("__meta_kubernetes_namespace", "namespace"),
  copy("__meta_kubernetes_pod_name", "pod"),
];

/** Prometheus turns a pod label key into this meta label (non-alphanumerics become "_"). */
function podLabelMeta(labelKey: string): string {
  return `__meta_kubernetes_pod_label_${labelKey.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/**
 * Relabelling for one target per running pod carrying `<FOLLOWER_APP_LABEL>: <appName>`, at
 * `<pod IP>:<port>`, labelled with its namespace and pod.
 */
function runningPodTargets(appName: string, port: number): RelabelConfig[] {
  const podIp = ["__meta_kubernetes_pod_ip"];
  return [
    keep(podLabelMeta(FOLLOWER_APP_LABEL), appName),
    // Pods that are not running yet (seed fetch still in its init container) have no metrics.
    keep("__meta_kubernetes_pod_phase", "Running"),
    // The pod role yields one target per declared container port; pinning the address to the
    // metrics port collapses them into one target per pod (identical targets are deduplicated).
    replace(podIp, "([0-9.]+)", "__address__", `$1:${port}`),
    replace(podIp, "([0-9A-Fa-f:]+:[0-9A-Fa-f:]*)", "__address__", `[$1]:${port}`),
    ...POD_IDENTITY,
  ];
}

function followerJob(input: SpokePrometheusInput): ScrapeConfig {
  const tls = input.followerTls !== undefined ? verifiedTls(input.followerTls) : undefined;
  const job: ScrapeConfig = { job_name: FOLLOWER_JOB, metrics_path: "/metrics", ...https(tls) };
  if (input.staticFollowerTargets !== undefined)
    return { ...job, static_configs: [{ targets: [...input.staticFollowerTargets] }] };
  // Selected by pod name: the Kubernetes Follower's pods carry its operator's labels, not ours, but
  // both follower kinds run as Deployment `conjur-follower` (pods `conjur-follower-<rs>-<id>`).
  const [, ...rest] = runningPodTargets(FOLLOWER_APP_NAME, input.followerMetricsPort);
  return {
    ...job,
    kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [input.followerNamespace] } }],
    relabel_configs: [
      keep("__meta_kubernetes_pod_name", `${FOLLOWER_APP_NAME}-[a-z0-9]+-[a-z0-9]+`),
      ...rest,
    ],
  };
}

function annotatedPodsJob(): ScrapeConfig {
  const annotation = (name: string) => `__meta_kubernetes_pod_annotation_prometheus_io_${name}`;
  return {
    job_name: ANNOTATED_PODS_JOB,
    kubernetes_sd_configs: [{ role: "pod" }],
    relabel_configs: [
      keep(annotation("scrape"), "true"),
      // Followers already have their own job; scraping them twice would double every Conjur rate.
      drop(podLabelMeta(FOLLOWER_APP_LABEL), FOLLOWER_APP_NAME),
      drop("__meta_kubernetes_pod_phase", "Pending|Succeeded|Failed|Unknown"),
      replace([annotation("scheme")], "(https?)", "__scheme__"),
      replace([annotation("path")], "(.+)", "__metrics_path__"),
      replace(["__address__", annotation("port")], "([^:]+)(?::\\d+)?;(\\d+)", "__address__", "$1:$2"),
      ...POD_IDENTITY,
    ],
  };
}

/** The spoke's own Prometheus: follower metrics, opted-in pods, itself, and the recording rules. */
export function buildSpokePrometheusConfig(input: SpokePrometheusInput): PrometheusConfig {
  return {
    global: globalSection(input),
    rule_files: [input.recordingRulesFile ?? DEFAULT_RECORDING_RULES_FILE],
    scrape_configs: [
      selfScrapeJob(input.selfScrapeTarget ?? DEFAULT_SELF_SCRAPE_TARGET, input.selfScrapeTls),
      ...(input.followers !== false ? [followerJob(input)] : []),
      ...(input.annotatedPods ? [annotatedPodsJob()] : []),
    ],
  };
}

/**
 * Recording-rule names, `level:metric:operations`. Levels start with `cluster` or `job` (e.g.
 * `cluster_operation`), which is what DEFAULT_FEDERATION_MATCH selects.
 */
export const RECORDING_RULES = {
  requestRate: "cluster:conjur_http_requests:rate5m",
  requestRateByOperation: "cluster_operation:conjur_http_requests:rate5m",
  errorRate: "cluster:conjur_http_errors:rate5m",
  errorRatio: "cluster:conjur_http_error_ratio:rate5m",
  durationBuckets: "cluster_le:conjur_http_server_request_duration_seconds_bucket:rate5m",
  durationP99: "cluster:conjur_http_request_duration_seconds:p99_rate5m",
  upByJob: "job:up:sum",
  targetsByJob: "job:up:count",
} as const;

/**
 * Aggregates each spoke computes so the hub federates a handful of series instead of every raw
 * bucket. Rules in one group run in order, so later rules can build on earlier ones.
 */
export function buildSpokeRecordingRules(): RuleFile<RecordingRule> {
  const requests = "conjur_http_server_requests_total";
  const rules: Array<[keyof typeof RECORDING_RULES, string]> = [
    ["requestRate", `sum(rate(${requests}[5m]))`],
    ["requestRateByOperation", `sum by (operation) (rate(${requests}[5m]))`],
    // Without any 5xx series the sum is empty, not 0; `or 0 * requests` reports 0 errors while
    // Conjur serves traffic, and still nothing when Conjur exports no metrics at all.
    ["errorRate", `sum(rate(${requests}{code=~"5.."}[5m])) or 0 * sum(rate(${requests}[5m]))`],
    ["errorRatio", `${RECORDING_RULES.errorRate} / ${RECORDING_RULES.requestRate}`],
    ["durationBuckets", "sum by (le) (rate(conjur_http_server_request_duration_seconds_bucket[5m]))"],
    ["durationP99", `histogram_quantile(0.99, ${RECORDING_RULES.durationBuckets})`],
    ["upByJob", "sum by (job) (up)"],
    ["targetsByJob", "count by (job) (up)"],
  ];
  const records = rules.map(([name, expr]) => ({ record: RECORDING_RULES[name], expr }));
  return { groups: [{ name: "conjur-spoke-aggregates", rules: records }] };
}

/** `--web.config.file` for a spoke: HTTPS only, and only for clients with a cert from the CA. */
export function buildSpokeWebConfig(input: { certFile: string; keyFile: string; clientCaFile: string }) {
  const { certFile: cert_file, keyFile: key_file, clientCaFile: client_ca_file } = input;
  const clientAuth = { client_auth_type: "RequireAndVerifyClientCert", client_ca_file } as const;
  return { tls_server_config: { cert_file, key_file, ...clientAuth, min_version: "TLS12" as const } };
}

// ---- Hub ----

export interface HubSpoke {
  name: string;
  region: string;
  /** host:port of the spoke Prometheus, reachable from the hub. */
  target: string;
  /** Name in the spoke's server certificate (SNI and verification). */
  serverName: string;
  /** `match[]` selectors for this spoke; replaces DEFAULT_FEDERATION_MATCH. */
  match?: string[];
}

/** The hub's Conjur primary, discovered as pods and scraped through its TLS front. */
export interface HubPrimaryInput {
  namespace: string;
  /** The TLS front's container port (Conjur's own HTTP port is not reachable from outside the pod). */
  port: number;
  tls: ServerTls;
}

export interface HubPrometheusInput {
  cluster: string;
  region: string;
  scrapeInterval: string;
  scrapeTimeout: string;
  spokes: HubSpoke[];
  tls: { caFile: string; certFile: string; keyFile: string };
  sampleLimit: number;
  bodySizeLimit: string;
  ruleFiles: string[];
  selfScrapeTarget?: string;
  /** Adds the `conjur-primary` job when given. */
  primary?: HubPrimaryInput;
  /** Further jobs appended as given (the backup state: components/observability/backup-alerts.ts). */
  extraScrapeConfigs?: ScrapeConfig[];
}

/**
 * What the hub pulls from each spoke: Conjur's own series, target health and the recording-rule
 * aggregates at any `cluster…`/`job…` level (cluster:, cluster_operation:, cluster_le:, job:).
 */
export const DEFAULT_FEDERATION_MATCH: readonly string[] = [
  '{__name__=~"conjur_.*"}',
  "up",
  '{__name__=~"(cluster|job)(_[a-z]+)*:.+"}',
];

/**
 * The `global` section both ends share: their intervals and external labels. The spec has checked
 * the durations, and that a timeout does not exceed its interval (Prometheus refuses that).
 */
function globalSection(input: {
  cluster: string;
  region: string;
  scrapeInterval: string;
  scrapeTimeout?: string;
}): PrometheusConfig["global"] {
  const { cluster, region, scrapeInterval: interval, scrapeTimeout: timeout } = input;
  return {
    scrape_interval: interval,
    ...(timeout !== undefined ? { scrape_timeout: timeout } : {}),
    evaluation_interval: interval,
    external_labels: { cluster, region },
  };
}

function federateJob(spoke: HubSpoke, input: HubPrometheusInput): ScrapeConfig {
  // /federate answers an empty match[] with an error: the spec admits only a non-empty list.
  const match = spoke.match ?? DEFAULT_FEDERATION_MATCH;
  return {
    job_name: federateJobName(spoke.name),
    scrape_interval: input.scrapeInterval,
    scrape_timeout: input.scrapeTimeout,
    // Keep the spoke's job/instance and its external labels instead of the hub's target labels.
    honor_labels: true,
    metrics_path: "/federate",
    params: { "match[]": [...match] },
    scheme: "https",
    tls_config: clientTls({ ...input.tls, serverName: spoke.serverName }),
    sample_limit: input.sampleLimit,
    body_size_limit: input.bodySizeLimit,
    // The target labels give the hub's own series for this job (up, scrape_duration_seconds...)
    // the spoke's cluster, so alerts on them can name it.
    static_configs: [{ targets: [spoke.target], labels: { cluster: spoke.name, region: spoke.region } }],
  };
}

function primaryJob(primary: HubPrimaryInput, cluster: string): ScrapeConfig {
  return {
    job_name: PRIMARY_JOB,
    metrics_path: "/metrics",
    ...https(verifiedTls(primary.tls)),
    kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [primary.namespace] } }],
    relabel_configs: [
      ...runningPodTargets(PRIMARY_APP_NAME, primary.port),
      // The hub's own series get its cluster, like the federated ones carry their spoke's.
      { target_label: "cluster", replacement: cluster, action: "replace" },
    ],
  };
}

/** The hub Prometheus: one mTLS federate job per spoke, plus itself. */
export function buildHubPrometheusConfig(input: HubPrometheusInput): PrometheusConfig {
  return {
    global: globalSection(input),
    rule_files: [...input.ruleFiles],
    scrape_configs: [
      selfScrapeJob(input.selfScrapeTarget ?? DEFAULT_SELF_SCRAPE_TARGET, undefined),
      ...input.spokes.map((spoke) => federateJob(spoke, input)),
      ...(input.primary !== undefined ? [primaryJob(input.primary, input.cluster)] : []),
      ...(input.extraScrapeConfigs ?? []),
    ],
  };
}

export interface HubAlertInput {
  spokes: Array<{ name: string }>;
  /** Whether the spokes run Conjur followers (Enterprise); without them no follower alert applies. */
  followers?: boolean;
  federationJobPrefix?: string;
  /** FederationScrapeSlow fires above this many seconds; keep it under the scrape timeout. */
  slowScrapeSeconds?: number;
  /** FederationScrapeOversized fires above this many samples; keep it under sample_limit. */
  oversizedSamples?: number;
}

export const HUB_ALERTS = {
  federationDown: "SpokeFederationDown",
  spokeAbsent: "SpokeAbsent",
  followerUnhealthy: "ConjurFollowerUnhealthy",
  followerTargetsMissing: "ConjurFollowerTargetsMissing",
  scrapeSlow: "FederationScrapeSlow",
  scrapeOversized: "FederationScrapeOversized",
} as const;

export const DEFAULT_SLOW_SCRAPE_SECONDS = 10;
export const DEFAULT_OVERSIZED_SAMPLES = 40000;

export interface AlertSpec {
  alert: string;
  expr: string;
  for?: string;
  severity: "critical" | "warning";
  /** Set when the series cannot carry it (absent() has no labels). */
  cluster?: string;
  summary: string;
  description: string;
  /**
   * A doc under docs/ holding both what the alert means and what to do (the backup alerts:
   * `disaster-recovery.md`); by default docs/observability.md and the troubleshooting guide.
   */
  runbookDoc?: string;
}

/**
 * An alerting rule. `runbook` points at the alert's section of the observability docs (what it
 * means), `runbook_url` at its section of the troubleshooting guide (causes, checks, fixes): both
 * headings are the alert's name, whose GitHub anchor is the name in lower case. With `runbookDoc`,
 * both point at that doc's heading named after the alert.
 */
export function alertingRule(spec: AlertSpec): AlertingRule {
  const { alert, expr, severity, cluster, summary, description, runbookDoc } = spec;
  const anchor = alert.toLowerCase();
  return {
    alert,
    expr,
    ...(spec.for !== undefined ? { for: spec.for } : {}),
    labels: { severity, ...(cluster !== undefined ? { cluster } : {}) },
    annotations: {
      summary,
      description,
      runbook: `${runbookDoc ? `docs/${runbookDoc}` : OBSERVABILITY_RUNBOOK}#${anchor}`,
      runbook_url: `${runbookDoc ? `${DOCS_URL}/${runbookDoc}` : TROUBLESHOOTING_URL}#${anchor}`,
    },
  };
}

/** The alerts about followers, which only Conjur Enterprise spokes run. */
const FOLLOWER_ALERTS: ReadonlySet<string> = new Set([
  HUB_ALERTS.followerUnhealthy,
  HUB_ALERTS.followerTargetsMissing,
]);

/** Alerts the hub evaluates on its federated data; every alert names the spoke in `cluster`. */
export function buildHubAlertRules(input: HubAlertInput): RuleFile<AlertingRule> {
  const prefix = input.federationJobPrefix ?? FEDERATE_JOB_PREFIX;
  const slow = input.slowScrapeSeconds ?? DEFAULT_SLOW_SCRAPE_SECONDS;
  const oversized = input.oversizedSamples ?? DEFAULT_OVERSIZED_SAMPLES;
  const federateJobs = `job=~"${escapeRegex(prefix)}.*"`;
  const alerts: AlertSpec[] = [
    {
      alert: HUB_ALERTS.federationDown,
      expr: `up{${federateJobs}} == 0`,
      for: "5m",
      severity: "critical",
      summary: "Hub cannot federate metrics from spoke {{ $labels.cluster }}",
      description:
        "The hub's scrape of /federate on {{ $labels.instance }} (spoke {{ $labels.cluster }}) has failed for 5 minutes: " +
        "check the spoke Prometheus, the network path and the mTLS certificates.",
    },
    // absent() cannot enumerate what is missing, so each spoke gets its own rule.
    ...input.spokes.map((s): AlertSpec => ({
      alert: HUB_ALERTS.spokeAbsent,
      expr: `absent_over_time(up{job="${federateJobName(s.name, prefix)}", cluster="${s.name}"}[10m])`,
      severity: "critical",
      cluster: s.name,
      summary: "Spoke {{ $labels.cluster }} is missing from the hub's federation",
      description:
        "The hub has no federation target for spoke {{ $labels.cluster }} for 10 minutes: " +
        "its scrape job is missing from the hub configuration or its target was dropped.",
    })),
    {
      alert: HUB_ALERTS.followerUnhealthy,
      expr: `up{job="${FOLLOWER_JOB}"} == 0`,
      for: "5m",
      severity: "critical",
      summary: "Conjur follower {{ $labels.instance }} in spoke {{ $labels.cluster }} is down",
      description:
        "The spoke Prometheus of {{ $labels.cluster }} cannot scrape the Conjur follower {{ $labels.instance }} for 5 minutes: " +
        "applications in that cluster may not be able to fetch secrets.",
    },
    {
      // A follower Deployment scaled to zero leaves no `up` series for the rule above to see.
      alert: HUB_ALERTS.followerTargetsMissing,
      expr: `count by (cluster) (up{${federateJobs}} == 1) unless on (cluster) count by (cluster) (up{job="${FOLLOWER_JOB}"})`,
      for: "10m",
      severity: "warning",
      summary: "Spoke {{ $labels.cluster }} reports no Conjur follower targets",
      description:
        "Spoke {{ $labels.cluster }} is federated but its Prometheus has no conjur-follower target: " +
        "the follower is not running or is not discovered.",
    },
    {
      alert: HUB_ALERTS.scrapeSlow,
      expr: `scrape_duration_seconds{${federateJobs}} > ${slow}`,
      for: "10m",
      severity: "warning",
      summary: "Federation scrapes of spoke {{ $labels.cluster }} are slow",
      description: `Scraping /federate on spoke {{ $labels.cluster }} takes more than ${slow}s; it will fail once it reaches the scrape timeout.`,
    },
    {
      alert: HUB_ALERTS.scrapeOversized,
      expr: `scrape_samples_scraped{${federateJobs}} > ${oversized}`,
      for: "15m",
      severity: "warning",
      summary: "Federation scrapes of spoke {{ $labels.cluster }} return too many samples",
      description: `Spoke {{ $labels.cluster }} returns more than ${oversized} samples per federation scrape; narrow its match[] before it hits sample_limit.`,
    },
  ];
  // Without followers (Open Source), the follower alerts would only ever fire.
  const rendered = alerts.filter((a) => input.followers !== false || !FOLLOWER_ALERTS.has(a.alert));
  return { groups: [{ name: "hub-federation", rules: rendered.map(alertingRule) }] };
}

export const PRIMARY_ALERTS = {
  primaryDown: "ConjurPrimaryDown",
} as const;

/**
 * Alerts on the hub's own scrape of the Conjur primary (the `conjur-primary` job): a primary pod
 * that cannot be scraped, or no primary target at all.
 */
export function buildPrimaryAlertRules(input: { cluster: string }): RuleFile<AlertingRule> {
  const up = `up{job="${PRIMARY_JOB}"}`;
  const primaryDown = alertingRule({
    alert: PRIMARY_ALERTS.primaryDown,
    expr: `${up} == 0 or absent(${up})`,
    for: "5m",
    severity: "critical",
    // absent() has no labels to carry over or to show in annotations: the hub is named literally.
    cluster: input.cluster,
    summary: `Conjur primary on the hub ${input.cluster} is down or missing`,
    description:
      `For 5 minutes the hub Prometheus of ${input.cluster} has failed to scrape a Conjur primary pod ` +
      "({{ $labels.pod }}) or found none at all: followers cannot fetch new seeds or replicate.",
  });
  return { groups: [{ name: "hub-primary", rules: [primaryDown] }] };
}

/**
 * The single serialiser for Prometheus documents. YAML 1.1 quoting because Prometheus reads
 * YAML 1.1 (go-yaml v2: a bare `no` or `on` is a boolean); no line folding, so long PromQL stays
 * on one line; no anchors, so a shared object is written out in full each time.
 */
export function renderPrometheusYaml(doc: unknown): string {
  return YAML.stringify(doc, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false });
}
