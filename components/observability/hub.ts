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
  SINK_BUFFER,
  SINK_PASSWORD_ENV,
  SINK_USER_ENV,
} from "./workloads";
import {
  ANYWHERE,
  AppScope,
  appPods,
  fluentBitPodTemplate,
  prometheusServer,
  secretEnv,
  type ObservabilityArgs,
  type Step,
} from "./parts";

/** The spec (converted spokes, monitoring settings, the log sink), the hub's provider, and: */
export interface HubObservabilityArgs extends ObservabilityArgs {
  /** The estate's certificates: the hub Prometheus' client, the log sink's server, the root CA. */
  readonly pki: EstatePki;
  /** The namespace the Conjur primary runs in (ConjurHub's output, so the Role waits for it). */
  readonly conjurNamespace: pulumi.Input<string>;
}

/** The dashboard ConfigMap's label that Grafana's dashboard sidecar looks for. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;
export const DASHBOARD_CONFIGMAP = "conjur-federation-dashboard";
export const DASHBOARD_FILE = "conjur-federation.json";
export const PRIMARY_DISCOVERY_ROLE = "hubspoke-prometheus-discovery";
export const SHARD_DISCOVERY_ROLE = "hubspoke-shard-discovery";
type HubParts = Step<HubObservabilityArgs> & { readonly spokes: readonly SpokeSpec[] };

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
  const files = hubPrometheusFiles(spec, spokes);
  const promPort = tcpPorts(PROMETHEUS_PORT);
  const prometheus = prometheusServer(name, k8sOpts, {
    image: spec.images.prometheus,
    // Verifies the spokes' Prometheus certificates and the primary's, all from the root CA.
    tls: ["federation-tls", tlsSecretData(pki.hubPrometheusClient, pki.caCertPem)],
    files,
    // Discovery of the primary's pods, in its namespace only.
    discovery: [
      {
        resource: "prometheus-discovery",
        role: PRIMARY_DISCOVERY_ROLE,
        resources: ["pods"],
        namespace: args.conjurNamespace,
      },
      // A sharded hub discovers its shards' spokes from their federation Services (shards.ts).
      ...(spec.layout.role === "hub"
        ? [
            {
              resource: "shard-discovery",
              role: SHARD_DISCOVERY_ROLE,
              resources: ["services"],
              namespace: MONITORING_NAMESPACE,
            },
          ]
        : []),
    ],
    workload: "StatefulSet",
    storage: HUB_PROMETHEUS_STORAGE,
    resources: HUB_PROMETHEUS_RESOURCES,
    service: { type: "ClusterIP" },
    // Grafana, Alertmanager and operators' port-forwards live in the monitoring namespace.
    ingress: [{ from: [{ namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE) }], ports: promPort }],
    egress: [
      // Every federation target is <monitoring.hostname>:9090, at addresses the spec does not know.
      ...(spokes.length > 0 || spec.layout.role === "hub"
        ? [{ to: ipBlocks(ANYWHERE), ports: promPort }]
        : []),
      { to: [appPods(CONJUR_NAMESPACE, PRIMARY_SERVICE)], ports: tcpPorts(NGINX_TLS_PORT) },
      dnsEgressRule(),
      kubeApiEgressRule(),
    ],
  });
  const dashboardMeta = {
    ...prometheus.namespaceMeta(DASHBOARD_CONFIGMAP, "dashboard"),
    labels: { ...workloadLabels(DASHBOARD_CONFIGMAP, "dashboard"), ...GRAFANA_DASHBOARD_LABEL },
  };
  const data = { [DASHBOARD_FILE]: files.dashboardJson };
  new k8s.core.v1.ConfigMap(`${name}-dashboard`, { metadata: dashboardMeta, data }, prometheus.opts);
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
  const selector = () => selectorLabels(LOG_SINK_SERVICE);
  // Unready (destination failing) takes a replica out of the LoadBalancer, so the spokes keep their
  // logs in their own buffers.
  const template = fluentBitPodTemplate(sink, {
    image: spec.images.fluentBit,
    // As a server, the CA that forwarders' client certificates must chain to.
    tls: tlsSecretData(pki.logSinkServer, pki.caCertPem),
    sharedKey: args.forwardSharedKey,
    env: (scope) => destinationEnv(scope, spec),
    conf: logSinkFile(spec),
    podSecurityContext: restrictedPodSecurityContext(LOG_SINK_UID, LOG_SINK_UID),
    placement: { affinity: preferredAntiAffinity(selector()) },
    ports: [{ name: "forward", containerPort: LOG_FORWARD_PORT, protocol: "TCP" }],
    readinessDelaySeconds: 5,
    resources: LOG_SINK_RESOURCES,
    securityContext: restrictedContainerSecurityContext(),
    mounts: [
      {
        name: "buffer",
        path: FLUENT_BIT_PATHS.sinkBuffer,
        source: { emptyDir: { sizeLimit: SINK_BUFFER.volume } },
      },
    ],
  });
  const replicas = spec.environment === "dev" ? 1 : 2;
  const deployment = {
    replicas,
    selector: { matchLabels: selector() },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template,
  };
  new k8s.apps.v1.Deployment(`${name}-log-sink`, { metadata: sink.meta(), spec: deployment }, sink.opts);
  if (replicas > 1) {
    const pdb = { metadata: sink.meta(), spec: { minAvailable: 1, selector: { matchLabels: selector() } } };
    new k8s.policy.v1.PodDisruptionBudget(`${name}-log-sink-pdb`, pdb, sink.opts);
  }
  // A sharded hub also admits its shards' spokes, which it knows by their CIDRs only.
  const shardCidrs = spec.layout.role === "hub" ? spec.layout.spokeCidrs : [];
  const spokeSources = [...new Set([...spokes.flatMap((s) => s.egressCidrs), ...shardCidrs])];
  sink.service({
    type: "LoadBalancer",
    // Local keeps the spokes' source addresses, so the NetworkPolicy can admit their CIDRs only.
    externalTrafficPolicy: "Local",
    selector: selector(),
    ports: [{ name: "forward", port: LOG_FORWARD_PORT, targetPort: "forward", protocol: "TCP" }],
    // The cloud firewall admits the same clients as the NetworkPolicy: the spokes.
    ...(spokeSources.length ? { loadBalancerSourceRanges: [...spokeSources] } : {}),
  });

  const destination = spec.hub.logSink;
  sink.isolate(
    spokeSources.length > 0 ? [{ from: ipBlocks(spokeSources), ports: tcpPorts(LOG_FORWARD_PORT) }] : [],
    [
      ...(destination.kind !== "stdout"
        ? [{ to: ipBlocks(ANYWHERE), ports: tcpPorts(destination.port) }]
        : []),
      dnsEgressRule(),
    ],
  );
}
