// Federation of a sharded layout's spokes (docs/sharding.md): the hub stack cannot list the spokes
// its shards convert, so each shard registers its spokes on the hub cluster as ExternalName
// Services in the monitoring namespace, and the hub Prometheus discovers them (kubernetes_sd, role
// service) and federates each at `<externalName>:<port>`. Pure builders, shared by both stacks.
import type * as k8s from "@pulumi/kubernetes";
import { MONITORING_NAMESPACE, workloadLabels } from "../naming";
import { DEFAULT_FEDERATION_MATCH, ScrapeConfig, ScrapeTls, TlsClientConfig } from "./prometheus";
import { FEDERATE_JOB_PREFIX, PROMETHEUS_PORT } from "./model";

/** A spoke name is a DNS label, so no spoke's own federate job can take this name. */
export const SHARD_FEDERATE_JOB = `${FEDERATE_JOB_PREFIX}_shards`;

/** The labels a shard's federation Service carries, and the hub's discovery selects on. */
export const FEDERATION_LABELS = {
  marker: "hubspoke.io/federation",
  spoke: "hubspoke.io/spoke",
  region: "hubspoke.io/region",
} as const;
const MARKER_VALUE = "spoke";

/** Prometheus' meta label of a Service label (`hubspoke.io/spoke` -> `..._hubspoke_io_spoke`). */
const metaLabel = (label: string) =>
  `__meta_kubernetes_service_label_${label.replace(/[^A-Za-z0-9_]/g, "_")}`;

/** Name of a spoke's federation Service on the hub. */
export const federationServiceName = (spoke: string) => `federate-${spoke}`;

/** A shard spoke's federation Service on the hub: an ExternalName at its Prometheus' hostname. */
export function federationService(spoke: {
  readonly name: string;
  readonly region: string;
  readonly hostname: string;
}): { metadata: k8s.types.input.meta.v1.ObjectMeta; spec: k8s.types.input.core.v1.ServiceSpec } {
  return {
    metadata: {
      name: federationServiceName(spoke.name),
      namespace: MONITORING_NAMESPACE,
      labels: {
        ...workloadLabels(federationServiceName(spoke.name), "federation"),
        [FEDERATION_LABELS.marker]: MARKER_VALUE,
        [FEDERATION_LABELS.spoke]: spoke.name,
        [FEDERATION_LABELS.region]: spoke.region,
      },
    },
    spec: {
      type: "ExternalName",
      externalName: spoke.hostname,
      ports: [{ name: "federate", port: PROMETHEUS_PORT, protocol: "TCP" }],
    },
  };
}

export interface ShardFederationInput {
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
  readonly match?: readonly string[];
  readonly tls: Omit<ScrapeTls, "serverName">;
  readonly sampleLimit: number;
  readonly bodySizeLimit: string;
}

/**
 * The hub's one federate job for every shard spoke: the same scrape as a spoke's own federate job,
 * with targets from the federation Services. TLS verifies the dialled host (the external name,
 * which the spoke's certificate holds), so no server_name is set.
 */
export function buildShardFederationJob(input: ShardFederationInput): ScrapeConfig {
  const { caFile, certFile, keyFile } = input.tls;
  const tls: TlsClientConfig = {
    ca_file: caFile,
    cert_file: certFile,
    key_file: keyFile,
    min_version: "TLS12",
  };
  return {
    job_name: SHARD_FEDERATE_JOB,
    scrape_interval: input.scrapeInterval,
    scrape_timeout: input.scrapeTimeout,
    honor_labels: true,
    metrics_path: "/federate",
    params: { "match[]": [...(input.match ?? DEFAULT_FEDERATION_MATCH)] },
    scheme: "https",
    tls_config: tls,
    sample_limit: input.sampleLimit,
    body_size_limit: input.bodySizeLimit,
    kubernetes_sd_configs: [{ role: "service", namespaces: { names: [MONITORING_NAMESPACE] } }],
    relabel_configs: [
      { source_labels: [metaLabel(FEDERATION_LABELS.marker)], regex: MARKER_VALUE, action: "keep" },
      {
        source_labels: ["__meta_kubernetes_service_external_name", "__meta_kubernetes_service_port_number"],
        separator: ":",
        regex: "(.+):([0-9]+)",
        replacement: "$1:$2",
        target_label: "__address__",
        action: "replace",
      },
      { source_labels: [metaLabel(FEDERATION_LABELS.spoke)], target_label: "cluster", action: "replace" },
      { source_labels: [metaLabel(FEDERATION_LABELS.region)], target_label: "region", action: "replace" },
    ],
  };
}
