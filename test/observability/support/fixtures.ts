// Realistic inputs shared by the observability tests: a hub with up to three spokes, one spoke's
// Prometheus, the spoke log forwarder and the hub log sink.
import type { HubPrometheusInput, SpokePrometheusInput } from "../../../components/observability/prometheus";
import type { HubSinkInput, SpokeForwarderInput } from "../../../components/observability/fluentbit";

export const SPOKES = [
  { name: "eu-payments", region: "eu-west-1" },
  { name: "us-checkout", region: "us-east-2" },
  { name: "ap-ledger", region: "ap-southeast-1" },
] as const;

export function hubInput(spokeCount: 1 | 2 | 3): HubPrometheusInput {
  return {
    cluster: "hub",
    region: "eu-central-1",
    scrapeInterval: "30s",
    scrapeTimeout: "20s",
    spokes: SPOKES.slice(0, spokeCount).map((s) => ({
      name: s.name,
      region: s.region,
      target: `prometheus.${s.name}.clusters.example.internal:9090`,
      serverName: `prometheus.${s.name}.clusters.example.internal`,
    })),
    tls: {
      caFile: "/etc/prometheus/federation/ca.crt",
      certFile: "/etc/prometheus/federation/tls.crt",
      keyFile: "/etc/prometheus/federation/tls.key",
    },
    sampleLimit: 50000,
    bodySizeLimit: "50MB",
    ruleFiles: ["/etc/prometheus/rules/hub-alerts.yml"],
  };
}

export function spokeInput(overrides: Partial<SpokePrometheusInput> = {}): SpokePrometheusInput {
  return {
    cluster: "eu-payments",
    region: "eu-west-1",
    scrapeInterval: "30s",
    followerNamespace: "conjur-system",
    followerMetricsPort: 8080,
    annotatedPods: true,
    ...overrides,
  };
}

export function forwarderInput(overrides: Partial<SpokeForwarderInput> = {}): SpokeForwarderInput {
  return {
    cluster: "eu-payments",
    region: "eu-west-1",
    hubHost: "logs.hub.example.internal",
    hubPort: 24224,
    tlsServerName: "logs.hub.example.internal",
    caFile: "/fluent-bit/tls/ca.crt",
    certFile: "/fluent-bit/tls/tls.crt",
    keyFile: "/fluent-bit/tls/tls.key",
    sharedKeyEnv: "FLUENT_FORWARD_SHARED_KEY",
    storagePath: "/var/fluent-bit/state",
    storageTotalLimit: "2G",
    memBufLimit: "50M",
    conjurNamespace: "conjur-system",
    ...overrides,
  };
}

export function sinkInput(
  destination: HubSinkInput["destination"],
  overrides: Partial<HubSinkInput> = {},
): HubSinkInput {
  return {
    listenPort: 24224,
    caFile: "/fluent-bit/tls/ca.crt",
    certFile: "/fluent-bit/tls/tls.crt",
    keyFile: "/fluent-bit/tls/tls.key",
    sharedKeyEnv: "FLUENT_FORWARD_SHARED_KEY",
    destination,
    storagePath: "/var/fluent-bit/sink",
    ...overrides,
  };
}

export const OPENSEARCH = {
  kind: "opensearch",
  host: "opensearch.logging.svc.cluster.local",
  port: 9200,
  index: "conjur-logs",
  userEnv: "OPENSEARCH_USER",
  passwordEnv: "OPENSEARCH_PASSWORD",
  caFile: "/fluent-bit/tls/opensearch-ca.crt",
} as const;

export const ELASTICSEARCH = {
  kind: "elasticsearch",
  host: "es.logging.example.internal",
  port: 9243,
  index: "conjur-logs",
  userEnv: "ES_USER",
  passwordEnv: "ES_PASSWORD",
} as const;

/** Fields Prometheus 2.42 refuses (reference/OBSERVABILITY.md); none may appear in generated YAML. */
export const FIELDS_REJECTED_BY_PROMETHEUS_2_42 = [
  "scrape_config_files",
  "keep_dropped_targets",
  "enable_compression",
  "scrape_protocols",
  "track_timestamps_staleness",
  "scrape_classic_histograms",
  "native_histogram_bucket_limit",
  "always_scrape_classic_histograms",
  "fallback_scrape_protocol",
  "proxy_from_environment",
  "rule_query_offset",
  "query_offset",
  "protobuf_message",
];

/** Every object key anywhere in a document. */
export function allKeys(doc: unknown): string[] {
  if (Array.isArray(doc)) return doc.flatMap(allKeys);
  if (doc !== null && typeof doc === "object") {
    return Object.entries(doc).flatMap(([k, v]) => [k, ...allKeys(v)]);
  }
  return [];
}
