// HubObservability: the estate's central monitoring and log sink on the hub cluster. A Prometheus
// in `monitoring` federating every converted spoke over mTLS (plus the Conjur primary), with the
// alert rules and the Grafana dashboard; and a Fluent Bit aggregator in `logging` receiving the
// spokes' forward traffic over TLS and writing it to the configured destination.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { convertedSpokes, type SpokeSpec, type StackSpec } from "../../stacks/spec";
import { requireSecretConfig } from "../../stacks/load";
import type { EstatePki } from "../pki";
import {
  dnsEgressRule,
  ipBlocks,
  kubeApiEgressRule,
  namespaceSelectorFor,
  preferredAntiAffinity,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tcpPorts,
  tlsSecretData,
} from "../kube";
import {
  CONJUR_NAMESPACE,
  LOG_SINK_SERVICE,
  LOGGING_NAMESPACE,
  MONITORING_NAMESPACE,
  NGINX_TLS_PORT,
  PRIMARY_SERVICE,
  PROMETHEUS_SERVICE,
  selectorLabels,
  serviceDnsNames,
  workloadLabels,
} from "../naming";
import { federateJobName, LOG_FORWARD_PORT, PROMETHEUS_PORT } from "./model";
import {
  FLUENT_BIT_PATHS,
  HUB_PROMETHEUS_RESOURCES,
  HUB_PROMETHEUS_STORAGE,
  hubPrometheusFiles,
  LOG_SINK_RESOURCES,
  LOG_SINK_UID,
  logSinkFile,
  parseCredentials,
  PROMETHEUS_PATHS,
  SINK_BUFFER,
  SINK_PASSWORD_ENV,
  SINK_USER_ENV,
} from "./workloads";
import {
  AppScope,
  appPods,
  configMounts,
  fluentBitPodSpec,
  prometheusPodSpec,
  secretEnv,
  type Mount,
} from "./parts";

export interface HubObservabilityArgs {
  /** The validated stack spec: converted spokes, monitoring settings, the log sink. */
  readonly spec: StackSpec;
  /** Provider of the hub cluster. */
  readonly provider: k8s.Provider;
  /** The estate's certificates: the hub Prometheus' client, the log sink's server, the root CA. */
  readonly pki: EstatePki;
  /** The forward protocol's shared key (secret), the same value every spoke's Fluent Bit holds. */
  readonly forwardSharedKey: pulumi.Input<string>;
  /** The namespace the Conjur primary runs in (ConjurHub's output, so the Role waits for it). */
  readonly conjurNamespace: pulumi.Input<string>;
}

/** The dashboard ConfigMap's label that Grafana's dashboard sidecar looks for. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;
export const DASHBOARD_CONFIGMAP = "conjur-federation-dashboard";
export const DASHBOARD_FILE = "conjur-federation.json";
export const PRIMARY_DISCOVERY_ROLE = "hubspoke-prometheus-discovery";
export const SHARD_DISCOVERY_ROLE = "hubspoke-shard-discovery";
/**
 * Neither the spokes' Prometheus addresses nor the search cluster's are in the spec: any
 * destination, on the federation (or the destination's) port only.
 */
const ANY_DESTINATION = ["0.0.0.0/0"];

interface HubParts {
  readonly name: string;
  readonly args: HubObservabilityArgs;
  readonly spokes: readonly SpokeSpec[];
  readonly k8sOpts: pulumi.CustomResourceOptions;
}

export class HubObservability extends pulumi.ComponentResource {
  /** In-cluster URL of the hub Prometheus (plain HTTP, admitted from the monitoring namespace). */
  public readonly prometheusUrl: pulumi.Output<string>;
  /** `host:port` the spokes forward logs to (the log sink's certificate names the host). */
  public readonly logSinkEndpoint: pulumi.Output<string>;
  /** The hub's federate job names, one per converted spoke. */
  public readonly federateJobs: pulumi.Output<string[]>;

  constructor(name: string, args: HubObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:observability:HubObservability", name, {}, opts);
    const spokes = convertedSpokes(args.spec);
    const k8sOpts = { parent: this, provider: args.provider };

    const parts: HubParts = { name, args, spokes, k8sOpts };
    hubPrometheus(parts);
    hubLogSink(parts);

    this.prometheusUrl = pulumi.output(
      `http://${serviceDnsNames(PROMETHEUS_SERVICE, MONITORING_NAMESPACE)[2]}:${PROMETHEUS_PORT}`,
    );
    this.logSinkEndpoint = pulumi.output(`${args.spec.hub.logSinkHostname}:${LOG_FORWARD_PORT}`);
    this.federateJobs = pulumi.output(spokes.map((s) => federateJobName(s.name)));
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      logSinkEndpoint: this.logSinkEndpoint,
      federateJobs: this.federateJobs,
    });
  }
}

/** Metrics: the hub Prometheus (a StatefulSet, so the federated history outlives the pod). */
function hubPrometheus({ name, args, spokes, k8sOpts }: HubParts) {
  const { spec, pki } = args;
  const restricted = { name: MONITORING_NAMESPACE, podSecurity: "restricted" } as const;
  const prometheus = new AppScope(name, "monitoring", PROMETHEUS_SERVICE, restricted, k8sOpts);
  // Verifies the spokes' Prometheus certificates and the primary's, all from the root CA.
  const tlsData = tlsSecretData(pki.hubPrometheusClient, pki.caCertPem);
  const tls = prometheus.tlsSecret("federation-tls", tlsData);
  const { prometheusYaml, rulesYaml, dashboardJson } = hubPrometheusFiles(spec, spokes);
  const config = prometheus.configMap("config", {
    [PROMETHEUS_PATHS.configFile]: prometheusYaml,
    [PROMETHEUS_PATHS.rulesFile]: rulesYaml,
  });
  const dashboardMeta = {
    ...prometheus.namespaceMeta(DASHBOARD_CONFIGMAP, "dashboard"),
    labels: { ...workloadLabels(DASHBOARD_CONFIGMAP, "dashboard"), ...GRAFANA_DASHBOARD_LABEL },
  };
  const dashboardData = { [DASHBOARD_FILE]: dashboardJson };
  new k8s.core.v1.ConfigMap(
    `${name}-dashboard`,
    { metadata: dashboardMeta, data: dashboardData },
    prometheus.opts,
  );

  const serviceAccount = prometheus.serviceAccount(true);
  // Discovery of the primary's pods, in its namespace only.
  prometheus.grantRead(
    "prometheus-discovery",
    PRIMARY_DISCOVERY_ROLE,
    ["pods"],
    serviceAccount,
    args.conjurNamespace,
  );
  // A sharded hub discovers its shards' spokes from their federation Services (shards.ts).
  if (spec.layout.role === "hub") {
    prometheus.grantRead(
      "shard-discovery",
      SHARD_DISCOVERY_ROLE,
      ["services"],
      serviceAccount,
      MONITORING_NAMESPACE,
    );
  }
  const service = prometheus.service({
    type: "ClusterIP",
    selector: selectorLabels(PROMETHEUS_SERVICE),
    ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web", protocol: "TCP" }],
  });
  const storage = HUB_PROMETHEUS_STORAGE;
  new k8s.apps.v1.StatefulSet(
    `${name}-prometheus`,
    {
      metadata: prometheus.meta(),
      spec: {
        serviceName: service.metadata.name,
        replicas: 1,
        selector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
        template: {
          metadata: prometheus.podMetadata([prometheusYaml, rulesYaml], true),
          spec: prometheusPodSpec({
            image: spec.images.prometheus,
            serviceAccount,
            storage,
            resources: HUB_PROMETHEUS_RESOURCES,
            mtls: false,
            mounts: [
              ...configMounts(PROMETHEUS_PATHS, config, tls),
              { name: "data", path: PROMETHEUS_PATHS.data },
            ],
          }),
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data", labels: workloadLabels(PROMETHEUS_SERVICE, "prometheus") },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: storage.volume } } },
          },
        ],
      },
    },
    // The claim template is immutable once the StatefulSet exists; resizing is an operator task.
    { ...prometheus.opts, ignoreChanges: ["spec.volumeClaimTemplates"] },
  );

  const promPort = tcpPorts(PROMETHEUS_PORT);
  prometheus.isolate(
    // Grafana, Alertmanager and operators' port-forwards live in the monitoring namespace.
    [{ from: [{ namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE) }], ports: promPort }],
    [
      // Every federation target is <monitoring.hostname>:9090.
      ...(spokes.length > 0 || spec.layout.role === "hub"
        ? [{ to: ipBlocks(ANY_DESTINATION), ports: promPort }]
        : []),
      { to: [appPods(CONJUR_NAMESPACE, PRIMARY_SERVICE)], ports: tcpPorts(NGINX_TLS_PORT) },
      dnsEgressRule(),
      kubeApiEgressRule(),
    ],
  );
}

/** The search cluster's credentials in a Secret, handed to the sink as env vars (none for stdout). */
function destinationEnv(sinkScope: AppScope, spec: StackSpec): k8s.types.input.core.v1.EnvVar[] {
  const sink = spec.hub.logSink;
  if (sink.kind === "stdout") return [];
  const credentials = requireSecretConfig(sink.credentialsSecret).apply((text) =>
    parseCredentials(text, sink.credentialsSecret),
  );
  const secret = sinkScope.secret("destination", "Opaque", {
    username: pulumi.secret(credentials.apply((c) => c.username)),
    password: pulumi.secret(credentials.apply((c) => c.password)),
  });
  return [secretEnv(SINK_USER_ENV, secret, "username"), secretEnv(SINK_PASSWORD_ENV, secret, "password")];
}

/** Logs: the log sink, behind a LoadBalancer that admits the spokes only. */
function hubLogSink({ name, args, spokes, k8sOpts }: HubParts) {
  const { spec, pki } = args;
  // The sink reads no host files: unlike the spokes' logging namespaces, fully restricted.
  const restricted = { name: LOGGING_NAMESPACE, podSecurity: "restricted" } as const;
  const sink = new AppScope(name, "logging", LOG_SINK_SERVICE, restricted, k8sOpts);
  // As a server, the CA that forwarders' client certificates must chain to.
  const tls = sink.tlsSecret("tls", tlsSecretData(pki.logSinkServer, pki.caCertPem));
  const env = [sink.sharedKeyEnv(args.forwardSharedKey), ...destinationEnv(sink, spec)];
  const sinkConf = logSinkFile(spec);
  const config = sink.configMap("config", { [FLUENT_BIT_PATHS.configFile]: sinkConf });
  const serviceAccount = sink.serviceAccount(false);

  const replicas = spec.environment === "dev" ? 1 : 2;
  const buffer = { emptyDir: { sizeLimit: SINK_BUFFER.volume } };
  const mounts: Mount[] = [
    ...configMounts(FLUENT_BIT_PATHS, config, tls),
    { name: "buffer", path: FLUENT_BIT_PATHS.sinkBuffer, source: buffer },
  ];
  new k8s.apps.v1.Deployment(
    `${name}-log-sink`,
    {
      metadata: sink.meta(),
      spec: {
        replicas,
        selector: { matchLabels: selectorLabels(LOG_SINK_SERVICE) },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: sink.podMetadata([sinkConf], false),
          // Unready (destination failing) takes a replica out of the LoadBalancer, so the spokes
          // keep their logs in their own buffers.
          spec: fluentBitPodSpec({
            serviceAccount,
            automountServiceAccountToken: false,
            podSecurityContext: restrictedPodSecurityContext(LOG_SINK_UID, LOG_SINK_UID),
            placement: { affinity: preferredAntiAffinity(selectorLabels(LOG_SINK_SERVICE)) },
            image: spec.images.fluentBit,
            env,
            ports: [{ name: "forward", containerPort: LOG_FORWARD_PORT, protocol: "TCP" }],
            readinessDelaySeconds: 5,
            resources: LOG_SINK_RESOURCES,
            securityContext: restrictedContainerSecurityContext(),
            mounts,
          }),
        },
      },
    },
    sink.opts,
  );
  if (replicas > 1) {
    const pdbSpec = { minAvailable: 1, selector: { matchLabels: selectorLabels(LOG_SINK_SERVICE) } };
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-log-sink-pdb`,
      { metadata: sink.meta(), spec: pdbSpec },
      sink.opts,
    );
  }
  // A sharded hub also admits its shards' spokes, which it knows by their CIDRs only.
  const shardCidrs = spec.layout.role === "hub" ? spec.layout.spokeCidrs : [];
  const spokeSources = [...new Set([...spokes.flatMap((s) => s.egressCidrs), ...shardCidrs])];
  sink.service({
    type: "LoadBalancer",
    // Local keeps the spokes' source addresses, so the NetworkPolicy can admit their CIDRs only.
    externalTrafficPolicy: "Local",
    selector: selectorLabels(LOG_SINK_SERVICE),
    ports: [{ name: "forward", port: LOG_FORWARD_PORT, targetPort: "forward", protocol: "TCP" }],
    // The cloud firewall admits the same clients as the NetworkPolicy: the spokes.
    ...(spokeSources.length ? { loadBalancerSourceRanges: [...spokeSources] } : {}),
  });

  const destination = spec.hub.logSink;
  sink.isolate(
    spokeSources.length > 0 ? [{ from: ipBlocks(spokeSources), ports: tcpPorts(LOG_FORWARD_PORT) }] : [],
    [
      ...(destination.kind !== "stdout"
        ? [{ to: ipBlocks(ANY_DESTINATION), ports: tcpPorts(destination.port) }]
        : []),
      dnsEgressRule(),
    ],
  );
}
