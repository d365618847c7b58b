// Pure values the observability components share: file layout inside the containers, command
// lines, resource budgets, env var names, small parsers, and the files each workload is given,
// built from the stack spec. No Pulumi import, so tests and the components read the same values.
import { buildShardFederationJob } from "./shards";
import { hashOfParts } from "../kube";
import * as path from "node:path";
import type { Resources } from "../../stacks/defaults";
import type { SpokeSpec, StackSpec } from "../../stacks/spec";
import { imageTagVersion, parseDurationSeconds } from "../../stacks/validators";
import {
  CONJUR_NAMESPACE,
  FOLLOWER_HTTPS_PORT,
  FOLLOWER_POD_HTTPS_PORT,
  FOLLOWER_SERVICE,
  MONITORING_NAMESPACE,
  NGINX_TLS_PORT,
  PRIMARY_SERVICE,
  PROMETHEUS_SERVICE,
  serviceDnsNames,
} from "../naming";
import { LOG_FORWARD_PORT, PROMETHEUS_PORT } from "./model";
import {
  buildHubAlertRules,
  buildHubPrometheusConfig,
  buildPrimaryAlertRules,
  buildSpokePrometheusConfig,
  buildSpokeRecordingRules,
  buildSpokeWebConfig,
  renderPrometheusYaml,
} from "./prometheus";
import {
  buildHubSinkConfig,
  buildSpokeForwarderConfig,
  CLIENT_CERTS_NOT_ENFORCED_NOTE,
  renderFluentBitYaml,
  type SinkDestination,
} from "./fluentbit";
import { buildFederationDashboard } from "./dashboard";
import { BACKUP_NAMES, BACKUP_STATE_METRICS } from "../dr/workloads";
import { type BackupAlertInput, buildBackupAlertRules, buildBackupStateScrapeJob } from "./backup-alerts";

/** Where the Prometheus containers find their files (config, rules, web config, TLS, TSDB). */
export const PROMETHEUS_PATHS = {
  configDir: "/etc/prometheus/config",
  /** Key of the config ConfigMap and file name under configDir. */
  configFile: "prometheus.yml",
  /** Recording rules on a spoke, alert rules on the hub. */
  rulesFile: "rules.yml",
  webDir: "/etc/prometheus/web",
  webConfigFile: "web.yml",
  tlsDir: "/etc/prometheus/tls",
  data: "/prometheus",
} as const;

const { configDir, configFile, rulesFile, webDir, webConfigFile, tlsDir } = PROMETHEUS_PATHS;
const PROMETHEUS_RULES_PATH = path.posix.join(configDir, rulesFile);

/**
 * A file of the Prometheus TLS Secret, as mounted: its server (spoke) or federation client (hub)
 * certificate, the estate root CA, and on a spoke the client certificate of its own self-scrape.
 */
function prometheusTlsFile(
  key: "tls.crt" | "tls.key" | "ca.crt" | "follower-ca.crt" | "client.crt" | "client.key",
): string {
  return path.posix.join(tlsDir, key);
}

/** The Prometheus command line; the image's default arguments are replaced as a whole. */
export function prometheusArgs(input: {
  retentionTime: string;
  retentionSize: string;
  /** Serve the API through the mTLS web config (spokes). */
  webConfig: boolean;
}): string[] {
  return [
    `--config.file=${path.posix.join(configDir, configFile)}`,
    `--storage.tsdb.path=${PROMETHEUS_PATHS.data}`,
    `--storage.tsdb.retention.time=${input.retentionTime}`,
    `--storage.tsdb.retention.size=${input.retentionSize}`,
    `--web.listen-address=0.0.0.0:${PROMETHEUS_PORT}`,
    ...(input.webConfig ? [`--web.config.file=${path.posix.join(webDir, webConfigFile)}`] : []),
  ];
}

/** Requests and limits of a container: cpu and memory requested, cpu and memory at most. */
function budget(cpuRequest: string, memoryRequest: string, cpuLimit: string, memoryLimit: string): Resources {
  return { cpuRequest, memoryRequest, cpuLimit, memoryLimit };
}

/** The official image runs as nobody (65534); the TSDB volume gets the same group. */
export const PROMETHEUS_UID = 65534;

/** A spoke keeps raw data for a week; the hub keeps the federated aggregates for a month. */
export const SPOKE_PROMETHEUS_STORAGE = { retentionTime: "7d", retentionSize: "1536MB", volume: "2Gi" };
export const HUB_PROMETHEUS_STORAGE = { retentionTime: "30d", retentionSize: "18GB", volume: "20Gi" };

export const SPOKE_PROMETHEUS_RESOURCES = budget("100m", "256Mi", "1", "1Gi");
export const HUB_PROMETHEUS_RESOURCES = budget("250m", "512Mi", "2", "2Gi");

// ---- Fluent Bit ----

/** The official image's config directory; the ConfigMap replaces its contents. */
export const FLUENT_BIT_PATHS = {
  binary: "/fluent-bit/bin/fluent-bit",
  configDir: "/fluent-bit/etc",
  /** YAML (the extension tells Fluent Bit the format); the Conjur parsers are inline. */
  configFile: "fluent-bit.yaml",
  tlsDir: "/fluent-bit/tls",
  /** The node's logs (container logs are symlinks into /var/log/pods). */
  hostLogs: "/var/log",
  /** Forwarder: tail offsets and the filesystem buffer, on the node so a restart loses nothing. */
  forwarderState: "/var/fluent-bit/state",
  /** Sink: the filesystem buffer in front of the destination. */
  sinkBuffer: "/var/fluent-bit/sink",
} as const;

/** The container's command: the image's binary with our config file. */
export function fluentBitCommand(): { command: string[]; args: string[] } {
  const configPath = path.posix.join(FLUENT_BIT_PATHS.configDir, FLUENT_BIT_PATHS.configFile);
  return { command: [FLUENT_BIT_PATHS.binary], args: ["-c", configPath] };
}

/** Env vars the Fluent Bit configs reference as ${VAR}; each is filled from a Secret. */
export const FORWARD_SHARED_KEY_ENV = "FLUENT_FORWARD_SHARED_KEY";
export const SINK_USER_ENV = "LOG_SINK_USER";
export const SINK_PASSWORD_ENV = "LOG_SINK_PASSWORD";

/** Forwarder buffering: memory per input, and what the node may hold on disk while the hub is away. */
export const FORWARDER_BUFFER = { memBufLimit: "50M", storageTotalLimit: "2G" };
/** Sink buffering in front of the destination; the emptyDir is sized above the limit. */
export const SINK_BUFFER = { memBufLimit: "64M", storageTotalLimit: "4G", volume: "5Gi" };

export const FLUENT_BIT_RESOURCES = budget("50m", "96Mi", "500m", "384Mi");
export const LOG_SINK_RESOURCES = budget("100m", "128Mi", "1", "512Mi");
/** The sink's uid: the image does not need root when it reads no host files. */
export const LOG_SINK_UID = 10000;

/** Fluent Bit's Prometheus-format metrics (buffer, retries, records), for the spoke's annotated-pods job. */
export const FLUENT_BIT_METRICS_PATH = "/api/v1/metrics/prometheus";
/** Returns 200 while output errors and retry failures stay under the Health_Check thresholds. */
export const FLUENT_BIT_HEALTH_PATH = "/api/v1/health";

/**
 * Whether the log sink may require client certificates (`tls.verify_client_cert`, added in Fluent
 * Bit 5.0; older releases refuse to start on the unknown key). False only when the image's tag names
 * a release before 5: a digest or an unusual tag keeps the requirement, so a wrong guess fails
 * loudly at start-up instead of silently accepting forwarders without a certificate.
 */
export function fluentBitRequiresClientCerts(image: string): boolean {
  const version = imageTagVersion(image);
  return version === undefined || version.major >= 5;
}

/**
 * `user:password` (the sink credentials' config value) split at the first colon. The error names
 * the config key only, never the value.
 */
export function parseCredentials(text: string, configKey: string): { username: string; password: string } {
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1) {
    throw new Error(`config key ${configKey}: expected "user:password"`);
  }
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Short content hash for pod-template annotations: a config change rolls the pods. */
export function configHash(...parts: string[]): string {
  return hashOfParts(parts, 16);
}

/** Pod annotation that rolls a workload when its generated config changes. */
export const CONFIG_HASH_ANNOTATION = "hubspoke.io/config-hash";

/** Declared by pods that call the Kubernetes API (the policy pack checks it against automount). */
export const CALLS_KUBE_API = { "hubspoke.io/calls-kube-api": "true" } as const;

/** host:port the hub federates a spoke from (the spoke Prometheus' certificate names the host). */
export function federationHostPort(spoke: Pick<SpokeSpec, "monitoring">): string {
  return `${spoke.monitoring.hostname}:${PROMETHEUS_PORT}`;
}

// ---- The files each workload is given, from the stack spec ----

/** Federation scrapes may return this much; sample_limit bounds the count, this the bytes. */
export const FEDERATION_BODY_SIZE_LIMIT = "50MB";

/** The port a spoke's follower pods listen on (the appliance's 443 where there is none). */
export function followerPodPort(spec: StackSpec): number {
  return spec.conjur.edition === "enterprise"
    ? FOLLOWER_POD_HTTPS_PORT[spec.conjur.follower.kind]
    : FOLLOWER_HTTPS_PORT;
}

/** What the hub Prometheus watches of the Conjur backups, when the stack makes them (oss). */
function hubBackupState(spec: StackSpec): BackupAlertInput | undefined {
  if (!spec.backup) return undefined;
  return {
    cluster: spec.hub.cluster,
    target: BACKUP_STATE_METRICS.target,
    namespace: CONJUR_NAMESPACE,
    cronJob: BACKUP_NAMES.cronJob,
    rpo: spec.backup.rpo,
    rpoSeconds: spec.backup.rpoSeconds,
  };
}

/** The hub Prometheus' client certificate and the root CA, for every federate job. */
function federationClientTls() {
  return {
    caFile: prometheusTlsFile("ca.crt"),
    certFile: prometheusTlsFile("tls.crt"),
    keyFile: prometheusTlsFile("tls.key"),
  };
}

/** The hub stack's federate job for its shards' spokes (shards.ts), with the static jobs' settings. */
function shardFederationJob(spec: StackSpec) {
  const monitoring = spec.monitoring;
  return buildShardFederationJob({
    scrapeInterval: monitoring.federationInterval,
    scrapeTimeout: monitoring.federationTimeout,
    ...(monitoring.federationMatch ? { match: monitoring.federationMatch } : {}),
    tls: federationClientTls(),
    sampleLimit: monitoring.sampleLimit,
    bodySizeLimit: FEDERATION_BODY_SIZE_LIMIT,
  });
}

/**
 * The hub Prometheus' config (a federate job per spoke, the primary, the backup state), alert rules
 * and dashboard.
 */
export function hubPrometheusFiles(spec: StackSpec, spokes: readonly SpokeSpec[]) {
  const monitoring = spec.monitoring;
  const backupState = hubBackupState(spec);
  const prometheusYaml = renderPrometheusYaml(
    buildHubPrometheusConfig({
      cluster: spec.hub.cluster,
      region: spec.hub.region,
      scrapeInterval: monitoring.federationInterval,
      scrapeTimeout: monitoring.federationTimeout,
      spokes: spokes.map((spoke) => ({
        name: spoke.name,
        region: spoke.region,
        target: federationHostPort(spoke),
        serverName: spoke.monitoring.hostname,
        ...(monitoring.federationMatch ? { match: [...monitoring.federationMatch] } : {}),
      })),
      tls: federationClientTls(),
      sampleLimit: monitoring.sampleLimit,
      bodySizeLimit: FEDERATION_BODY_SIZE_LIMIT,
      ruleFiles: [PROMETHEUS_RULES_PATH],
      selfScrapeTarget: `localhost:${PROMETHEUS_PORT}`,
      // Through the primary's TLS front, which already admits the monitoring namespace (Open
      // Source: with Enterprise the Leader runs outside Kubernetes and is monitored there).
      ...(spec.conjur.edition === "oss"
        ? {
            primary: {
              namespace: CONJUR_NAMESPACE,
              port: NGINX_TLS_PORT,
              tls: {
                caFile: prometheusTlsFile("ca.crt"),
                serverName: serviceFqdn(PRIMARY_SERVICE, CONJUR_NAMESPACE),
              },
            },
          }
        : {}),
      extraScrapeConfigs: [
        ...(backupState ? [buildBackupStateScrapeJob(backupState)] : []),
        ...(spec.layout.role === "hub" ? [shardFederationJob(spec)] : []),
      ],
    }),
  );
  const timeoutSeconds = parseDurationSeconds(monitoring.federationTimeout) ?? 0;
  const federationRules = buildHubAlertRules({
    spokes: spokes.map((s) => ({ name: s.name })),
    followers: spec.conjur.edition === "enterprise",
    // Warn well before a scrape times out or hits sample_limit.
    slowScrapeSeconds: Math.max(1, Math.floor(timeoutSeconds / 3)),
    oversizedSamples: Math.max(1, Math.floor(monitoring.sampleLimit * 0.8)),
  });
  const primaryRules =
    spec.conjur.edition === "oss" ? buildPrimaryAlertRules({ cluster: spec.hub.cluster }).groups : [];
  const backupRules = backupState ? buildBackupAlertRules(backupState).groups : [];
  const rulesYaml = renderPrometheusYaml({
    groups: [...federationRules.groups, ...primaryRules, ...backupRules],
  });
  const dashboard = buildFederationDashboard({ spokes: spokes.map((s) => s.name) });
  return { prometheusYaml, rulesYaml, dashboardJson: JSON.stringify(dashboard, null, 2) };
}

/** The spoke Prometheus' config (followers, annotated pods, itself), recording rules and web config. */
export function spokePrometheusFiles(spec: StackSpec, spoke: SpokeSpec) {
  const prometheusYaml = renderPrometheusYaml(
    buildSpokePrometheusConfig({
      cluster: spoke.name,
      region: spoke.region,
      scrapeInterval: spec.monitoring.scrapeInterval,
      // Enterprise only: with Open Source the spoke has no follower.
      followers: spec.conjur.edition === "enterprise",
      followerNamespace: CONJUR_NAMESPACE,
      // The follower's HTTPS port (its pod port); /metrics there is not verified on Enterprise
      // (docs/architecture.md). Its certificate comes from the Leader, so the Leader's CA verifies it.
      followerMetricsPort: followerPodPort(spec),
      followerTls: {
        caFile: prometheusTlsFile(spec.conjur.edition === "enterprise" ? "follower-ca.crt" : "ca.crt"),
        serverName: serviceFqdn(FOLLOWER_SERVICE, CONJUR_NAMESPACE),
      },
      annotatedPods: true,
      recordingRulesFile: PROMETHEUS_RULES_PATH,
      selfScrapeTarget: `localhost:${PROMETHEUS_PORT}`,
      // Its own API requires a client certificate, so its self-scrape presents one issued for that alone.
      selfScrapeTls: {
        caFile: prometheusTlsFile("ca.crt"),
        certFile: prometheusTlsFile("client.crt"),
        keyFile: prometheusTlsFile("client.key"),
        serverName: serviceFqdn(PROMETHEUS_SERVICE, MONITORING_NAMESPACE),
      },
    }),
  );
  const rulesYaml = renderPrometheusYaml(buildSpokeRecordingRules());
  const webYaml = renderPrometheusYaml(
    buildSpokeWebConfig({
      certFile: prometheusTlsFile("tls.crt"),
      keyFile: prometheusTlsFile("tls.key"),
      clientCaFile: prometheusTlsFile("ca.crt"),
    }),
  );
  return { prometheusYaml, rulesYaml, webYaml };
}

/** TLS and shared-key settings of both ends of the forward protocol, as mounted and passed in. */
const FORWARD_TLS = {
  caFile: path.posix.join(FLUENT_BIT_PATHS.tlsDir, "ca.crt"),
  certFile: path.posix.join(FLUENT_BIT_PATHS.tlsDir, "tls.crt"),
  keyFile: path.posix.join(FLUENT_BIT_PATHS.tlsDir, "tls.key"),
  sharedKeyEnv: FORWARD_SHARED_KEY_ENV,
};

/** The log sink's config: forward input from the spokes, then the configured destination. */
export function logSinkFile(spec: StackSpec): string {
  const sink = spec.hub.logSink;
  const destination: SinkDestination =
    sink.kind === "stdout"
      ? { kind: "stdout" }
      : {
          kind: sink.kind,
          host: sink.host,
          port: sink.port,
          index: sink.index,
          userEnv: SINK_USER_ENV,
          passwordEnv: SINK_PASSWORD_ENV,
        };
  // Releases before 5 refuse to start on tls.verify_client_cert (see docs/observability.md).
  const requireClientCert = fluentBitRequiresClientCerts(spec.images.fluentBit);
  return renderFluentBitYaml(
    buildHubSinkConfig({
      listenPort: LOG_FORWARD_PORT,
      ...FORWARD_TLS,
      destination,
      storagePath: FLUENT_BIT_PATHS.sinkBuffer,
      storageTotalLimit: SINK_BUFFER.storageTotalLimit,
      memBufLimit: SINK_BUFFER.memBufLimit,
      requireClientCert,
    }),
    requireClientCert ? [] : [CLIENT_CERTS_NOT_ENFORCED_NOTE],
  );
}

/** A spoke's forwarder config: its container logs, labelled like its metrics, to the hub's sink. */
export function logForwarderFile(spec: StackSpec, spoke: SpokeSpec): string {
  return renderFluentBitYaml(
    buildSpokeForwarderConfig({
      cluster: spoke.name,
      region: spoke.region,
      hubHost: spec.hub.logSinkHostname,
      hubPort: LOG_FORWARD_PORT,
      tlsServerName: spec.hub.logSinkHostname,
      ...FORWARD_TLS,
      storagePath: FLUENT_BIT_PATHS.forwarderState,
      storageTotalLimit: FORWARDER_BUFFER.storageTotalLimit,
      memBufLimit: FORWARDER_BUFFER.memBufLimit,
      conjurNamespace: CONJUR_NAMESPACE,
    }),
  );
}

function serviceFqdn(service: string, namespace: string): string {
  return serviceDnsNames(service, namespace)[2];
}
