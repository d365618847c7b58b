// HubObservability: the estate's central monitoring and log sink on the hub cluster. A Prometheus
// in `monitoring` federating every converted spoke over mTLS (plus the Conjur primary), with the
// alert rules and the Grafana dashboard; and a Fluent Bit aggregator in `logging` receiving the
// spokes' forward traffic over TLS and writing it to the configured destination.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { convertedSpokes, type StackSpec } from "../../stacks/spec";
import { requireSecretConfig } from "../../stacks/load";
import type { EstatePki } from "../pki";
import { BACKUP_STATE_METRICS } from "../dr/cluster";
import { BACKUP_NAMES } from "../dr/workloads";
import { BackupAlertInput, buildBackupAlertRules, buildBackupStateScrapeJob } from "./backup-alerts";
import { managedNamespace, networkPolicyFactory } from "../namespace";
import {
  defaultDenySpec,
  dnsEgressRule,
  emptyDirVolume,
  ipBlocks,
  kubeApiEgressRule,
  namespaceSelectorFor,
  preferredAntiAffinity,
  resourceRequirements,
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
import {
  federateJobName,
  FLUENT_BIT_HTTP_PORT,
  LOG_FORWARD_PORT,
  parsePrometheusDuration,
  PROMETHEUS_PORT,
} from "./model";
import {
  buildHubAlertRules,
  buildHubPrometheusConfig,
  buildPrimaryAlertRules,
  renderPrometheusYaml,
  type AlertingRule,
  type RuleFile,
} from "./prometheus";
import {
  buildHubSinkConfig,
  CLIENT_CERTS_NOT_ENFORCED_NOTE,
  renderFluentBitYaml,
  type SinkDestination,
} from "./fluentbit";
import { buildFederationDashboard } from "./dashboard";
import {
  CALLS_KUBE_API,
  CONFIG_HASH_ANNOTATION,
  configHash,
  federationHostPort,
  FLUENT_BIT_HEALTH_PATH,
  FLUENT_BIT_PATHS,
  fluentBitCommand,
  fluentBitRequiresClientCerts,
  fluentBitTlsFile,
  FORWARD_SHARED_KEY_ENV,
  HUB_PROMETHEUS_RESOURCES,
  HUB_PROMETHEUS_STORAGE,
  LOG_SINK_RESOURCES,
  LOG_SINK_UID,
  parseCredentials,
  PROMETHEUS_PATHS,
  PROMETHEUS_UID,
  prometheusArgs,
  prometheusRulesPath,
  prometheusTlsFile,
  SINK_BUFFER,
  SINK_PASSWORD_ENV,
  SINK_USER_ENV,
} from "./workloads";

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
/** Federation scrapes may return this much; sample_limit bounds the count, this the bytes. */
const FEDERATION_BODY_SIZE_LIMIT = "50MB";
/** The spokes' Prometheus addresses are not in the spec: any destination, on the federation port only. */
const FEDERATION_DESTINATIONS = ["0.0.0.0/0"];
/** The search cluster's addresses are not in the spec either: any destination, on its port only. */
const SINK_DESTINATIONS = ["0.0.0.0/0"];

export class HubObservability extends pulumi.ComponentResource {
  /** In-cluster URL of the hub Prometheus (plain HTTP, admitted from the monitoring namespace). */
  public readonly prometheusUrl: pulumi.Output<string>;
  /** `host:port` the spokes forward logs to (the log sink's certificate names the host). */
  public readonly logSinkEndpoint: pulumi.Output<string>;
  /** The hub's federate job names, one per converted spoke. */
  public readonly federateJobs: pulumi.Output<string[]>;

  constructor(name: string, args: HubObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:observability:HubObservability", name, {}, opts);
    const { spec, pki } = args;
    const hub = spec.hub;
    const spokes = convertedSpokes(spec);
    const k8sOpts = { parent: this, provider: args.provider };

    // ---- Metrics: the hub Prometheus ----
    const { opts: monitoringOpts, meta: monitoringMeta } = managedNamespace(
      `${name}-monitoring-namespace`,
      { name: MONITORING_NAMESPACE, podSecurity: "restricted" },
      k8sOpts,
    );

    const federationTls = new k8s.core.v1.Secret(
      `${name}-prometheus-federation-tls`,
      {
        metadata: monitoringMeta("prometheus-federation-tls", "prometheus"),
        type: "kubernetes.io/tls",
        // Verifies the spokes' Prometheus certificates and the primary's, all from the root CA.
        stringData: tlsSecretData(pki.hubPrometheusClient, pki.caCertPem),
      },
      monitoringOpts,
    );

    const timeoutSeconds = parsePrometheusDuration(spec.monitoring.federationTimeout) / 1000;
    const backupState = hubBackupState(spec);
    const prometheusYaml = renderPrometheusYaml(
      buildHubPrometheusConfig({
        cluster: hub.cluster,
        region: hub.region,
        scrapeInterval: spec.monitoring.federationInterval,
        scrapeTimeout: spec.monitoring.federationTimeout,
        spokes: spokes.map((spoke) => ({
          name: spoke.name,
          region: spoke.region,
          target: federationHostPort(spoke),
          serverName: spoke.monitoring.hostname,
          ...(spec.monitoring.federationMatch ? { match: [...spec.monitoring.federationMatch] } : {}),
        })),
        tls: {
          caFile: prometheusTlsFile("ca.crt"),
          certFile: prometheusTlsFile("tls.crt"),
          keyFile: prometheusTlsFile("tls.key"),
        },
        sampleLimit: spec.monitoring.sampleLimit,
        bodySizeLimit: FEDERATION_BODY_SIZE_LIMIT,
        ruleFiles: [prometheusRulesPath()],
        selfScrapeTarget: `localhost:${PROMETHEUS_PORT}`,
        // Through the primary's TLS front, which already admits the monitoring namespace.
        primary: {
          namespace: CONJUR_NAMESPACE,
          port: NGINX_TLS_PORT,
          tls: {
            caFile: prometheusTlsFile("ca.crt"),
            serverName: serviceDnsNames(PRIMARY_SERVICE, CONJUR_NAMESPACE)[2],
          },
        },
        ...(backupState ? { extraScrapeConfigs: [buildBackupStateScrapeJob(backupState)] } : {}),
      }),
    );
    const federationRules = buildHubAlertRules({
      spokes: spokes.map((s) => ({ name: s.name })),
      // Warn well before a scrape times out or hits sample_limit.
      slowScrapeSeconds: Math.max(1, Math.floor(timeoutSeconds / 3)),
      oversizedSamples: Math.max(1, Math.floor(spec.monitoring.sampleLimit * 0.8)),
    });
    const rules: RuleFile<AlertingRule> = {
      groups: [
        ...federationRules.groups,
        ...buildPrimaryAlertRules({ cluster: hub.cluster }).groups,
        ...(backupState ? buildBackupAlertRules(backupState).groups : []),
      ],
    };
    const rulesYaml = renderPrometheusYaml(rules);
    const prometheusConfig = new k8s.core.v1.ConfigMap(
      `${name}-prometheus-config`,
      {
        metadata: monitoringMeta("prometheus-config", "prometheus"),
        data: { [PROMETHEUS_PATHS.configFile]: prometheusYaml, [PROMETHEUS_PATHS.rulesFile]: rulesYaml },
      },
      monitoringOpts,
    );
    new k8s.core.v1.ConfigMap(
      `${name}-dashboard`,
      {
        metadata: {
          ...monitoringMeta(DASHBOARD_CONFIGMAP, "dashboard"),
          labels: { ...workloadLabels(DASHBOARD_CONFIGMAP, "dashboard"), ...GRAFANA_DASHBOARD_LABEL },
        },
        data: {
          [DASHBOARD_FILE]: JSON.stringify(
            buildFederationDashboard({ spokes: spokes.map((s) => s.name) }),
            null,
            2,
          ),
        },
      },
      monitoringOpts,
    );

    const prometheusSa = new k8s.core.v1.ServiceAccount(
      `${name}-prometheus-sa`,
      { metadata: monitoringMeta(PROMETHEUS_SERVICE, "prometheus"), automountServiceAccountToken: true },
      monitoringOpts,
    );
    // Discovery of the primary's pods, in its namespace only.
    const discoveryRole = new k8s.rbac.v1.Role(
      `${name}-prometheus-discovery-role`,
      {
        metadata: {
          name: PRIMARY_DISCOVERY_ROLE,
          namespace: args.conjurNamespace,
          labels: workloadLabels(PRIMARY_DISCOVERY_ROLE, "rbac"),
        },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
      },
      k8sOpts,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-prometheus-discovery-binding`,
      {
        metadata: {
          name: PRIMARY_DISCOVERY_ROLE,
          namespace: args.conjurNamespace,
          labels: workloadLabels(PRIMARY_DISCOVERY_ROLE, "rbac"),
        },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: discoveryRole.metadata.name },
        subjects: [
          { kind: "ServiceAccount", name: prometheusSa.metadata.name, namespace: MONITORING_NAMESPACE },
        ],
      },
      k8sOpts,
    );

    const prometheusService = new k8s.core.v1.Service(
      `${name}-prometheus-service`,
      {
        metadata: monitoringMeta(PROMETHEUS_SERVICE, "prometheus"),
        spec: {
          type: "ClusterIP",
          selector: selectorLabels(PROMETHEUS_SERVICE),
          ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web", protocol: "TCP" }],
        },
      },
      monitoringOpts,
    );
    new k8s.apps.v1.StatefulSet(
      `${name}-prometheus`,
      {
        metadata: monitoringMeta(PROMETHEUS_SERVICE, "prometheus"),
        spec: {
          serviceName: prometheusService.metadata.name,
          replicas: 1,
          selector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
          template: {
            metadata: {
              labels: workloadLabels(PROMETHEUS_SERVICE, "prometheus"),
              annotations: {
                ...CALLS_KUBE_API,
                [CONFIG_HASH_ANNOTATION]: configHash(prometheusYaml, rulesYaml),
              },
            },
            spec: {
              serviceAccountName: prometheusSa.metadata.name,
              automountServiceAccountToken: true,
              securityContext: restrictedPodSecurityContext(PROMETHEUS_UID, PROMETHEUS_UID),
              containers: [
                {
                  name: "prometheus",
                  image: spec.images.prometheus,
                  args: prometheusArgs({
                    retentionTime: HUB_PROMETHEUS_STORAGE.retentionTime,
                    retentionSize: HUB_PROMETHEUS_STORAGE.retentionSize,
                    webConfig: false,
                  }),
                  ports: [{ name: "web", containerPort: PROMETHEUS_PORT, protocol: "TCP" }],
                  readinessProbe: {
                    httpGet: { path: "/-/ready", port: "web" },
                    initialDelaySeconds: 5,
                    periodSeconds: 10,
                  },
                  livenessProbe: {
                    httpGet: { path: "/-/healthy", port: "web" },
                    initialDelaySeconds: 30,
                    periodSeconds: 20,
                    failureThreshold: 6,
                  },
                  resources: resourceRequirements(HUB_PROMETHEUS_RESOURCES),
                  securityContext: restrictedContainerSecurityContext(),
                  volumeMounts: [
                    { name: "config", mountPath: PROMETHEUS_PATHS.configDir, readOnly: true },
                    { name: "tls", mountPath: PROMETHEUS_PATHS.tlsDir, readOnly: true },
                    { name: "data", mountPath: PROMETHEUS_PATHS.data },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: prometheusConfig.metadata.name } },
                { name: "tls", secret: { secretName: federationTls.metadata.name } },
              ],
            },
          },
          // The federated history outlives the pod.
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels: workloadLabels(PROMETHEUS_SERVICE, "prometheus") },
              spec: {
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: HUB_PROMETHEUS_STORAGE.volume } },
              },
            },
          ],
        },
      },
      // The claim template is immutable once the StatefulSet exists; resizing is an operator task.
      { ...monitoringOpts, ignoreChanges: ["spec.volumeClaimTemplates"] },
    );

    const monitoringPolicy = networkPolicyFactory(
      `${name}-monitoring-netpol`,
      monitoringMeta,
      monitoringOpts,
    );
    monitoringPolicy("default-deny", "default-deny", defaultDenySpec());
    monitoringPolicy("prometheus", PROMETHEUS_SERVICE, {
      podSelector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          // Grafana, Alertmanager and operators' port-forwards live in the monitoring namespace.
          from: [{ namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE) }],
          ports: tcpPorts(PROMETHEUS_PORT),
        },
      ],
      egress: [
        // Every federation target is <monitoring.hostname>:9090.
        ...(spokes.length > 0
          ? [{ to: ipBlocks(FEDERATION_DESTINATIONS), ports: tcpPorts(PROMETHEUS_PORT) }]
          : []),
        {
          to: [
            {
              namespaceSelector: namespaceSelectorFor(CONJUR_NAMESPACE),
              podSelector: { matchLabels: selectorLabels(PRIMARY_SERVICE) },
            },
          ],
          ports: tcpPorts(NGINX_TLS_PORT),
        },
        dnsEgressRule(),
        kubeApiEgressRule(),
      ],
    });

    // ---- Logs: the log sink ----
    // The sink reads no host files: unlike the spokes' logging namespaces, fully restricted.
    const { opts: loggingOpts, meta: loggingMeta } = managedNamespace(
      `${name}-logging-namespace`,
      { name: LOGGING_NAMESPACE, podSecurity: "restricted" },
      k8sOpts,
    );

    const sinkTls = new k8s.core.v1.Secret(
      `${name}-log-sink-tls`,
      {
        metadata: loggingMeta("log-sink-tls", "log-sink"),
        type: "kubernetes.io/tls",
        // As a server, the CA that forwarders' client certificates must chain to.
        stringData: tlsSecretData(pki.logSinkServer, pki.caCertPem),
      },
      loggingOpts,
    );
    const sharedKey = new k8s.core.v1.Secret(
      `${name}-log-sink-shared-key`,
      {
        metadata: loggingMeta("log-sink-shared-key", "log-sink"),
        type: "Opaque",
        stringData: { "shared-key": pulumi.secret(args.forwardSharedKey) },
      },
      loggingOpts,
    );
    const sinkEnv: k8s.types.input.core.v1.EnvVar[] = [
      {
        name: FORWARD_SHARED_KEY_ENV,
        valueFrom: { secretKeyRef: { name: sharedKey.metadata.name, key: "shared-key" } },
      },
    ];

    const sink = hub.logSink;
    let destination: SinkDestination = { kind: "stdout" };
    let destinationPort: number | undefined;
    if (sink.kind !== "stdout") {
      const credentials = requireSecretConfig(sink.credentialsSecret).apply((text) =>
        parseCredentials(text, sink.credentialsSecret),
      );
      const destinationSecret = new k8s.core.v1.Secret(
        `${name}-log-sink-destination`,
        {
          metadata: loggingMeta("log-sink-destination", "log-sink"),
          type: "Opaque",
          stringData: {
            username: pulumi.secret(credentials.apply((c) => c.username)),
            password: pulumi.secret(credentials.apply((c) => c.password)),
          },
        },
        loggingOpts,
      );
      const fromDestinationSecret = (envName: string, key: string) => ({
        name: envName,
        valueFrom: { secretKeyRef: { name: destinationSecret.metadata.name, key } },
      });
      sinkEnv.push(
        fromDestinationSecret(SINK_USER_ENV, "username"),
        fromDestinationSecret(SINK_PASSWORD_ENV, "password"),
      );
      destination = {
        kind: sink.kind,
        host: sink.host,
        port: sink.port,
        index: sink.index,
        userEnv: SINK_USER_ENV,
        passwordEnv: SINK_PASSWORD_ENV,
      };
      destinationPort = sink.port;
    }
    // Releases before 5 refuse to start on tls.verify_client_cert (see docs/observability.md).
    const requireClientCert = fluentBitRequiresClientCerts(spec.images.fluentBit);
    const sinkConf = renderFluentBitYaml(
      buildHubSinkConfig({
        listenPort: LOG_FORWARD_PORT,
        caFile: fluentBitTlsFile("ca.crt"),
        certFile: fluentBitTlsFile("tls.crt"),
        keyFile: fluentBitTlsFile("tls.key"),
        sharedKeyEnv: FORWARD_SHARED_KEY_ENV,
        destination,
        storagePath: FLUENT_BIT_PATHS.sinkBuffer,
        storageTotalLimit: SINK_BUFFER.storageTotalLimit,
        memBufLimit: SINK_BUFFER.memBufLimit,
        requireClientCert,
      }),
      requireClientCert ? [] : [CLIENT_CERTS_NOT_ENFORCED_NOTE],
    );
    const sinkConfig = new k8s.core.v1.ConfigMap(
      `${name}-log-sink-config`,
      {
        metadata: loggingMeta("log-sink-config", "log-sink"),
        data: { [FLUENT_BIT_PATHS.configFile]: sinkConf },
      },
      loggingOpts,
    );
    const sinkSa = new k8s.core.v1.ServiceAccount(
      `${name}-log-sink-sa`,
      { metadata: loggingMeta(LOG_SINK_SERVICE, "log-sink"), automountServiceAccountToken: false },
      loggingOpts,
    );

    const spokeSources = [...new Set(spokes.flatMap((s) => s.egressCidrs))];
    const sinkReplicas = spec.environment === "dev" ? 1 : 2;
    const { command, args: fluentBitArgs } = fluentBitCommand();
    new k8s.apps.v1.Deployment(
      `${name}-log-sink`,
      {
        metadata: loggingMeta(LOG_SINK_SERVICE, "log-sink"),
        spec: {
          replicas: sinkReplicas,
          selector: { matchLabels: selectorLabels(LOG_SINK_SERVICE) },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels: workloadLabels(LOG_SINK_SERVICE, "log-sink"),
              annotations: { [CONFIG_HASH_ANNOTATION]: configHash(sinkConf) },
            },
            spec: {
              serviceAccountName: sinkSa.metadata.name,
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(LOG_SINK_UID, LOG_SINK_UID),
              affinity: preferredAntiAffinity(selectorLabels(LOG_SINK_SERVICE)),
              containers: [
                {
                  name: "fluent-bit",
                  image: spec.images.fluentBit,
                  command,
                  args: fluentBitArgs,
                  env: sinkEnv,
                  ports: [
                    { name: "forward", containerPort: LOG_FORWARD_PORT, protocol: "TCP" },
                    { name: "http", containerPort: FLUENT_BIT_HTTP_PORT, protocol: "TCP" },
                  ],
                  // Unhealthy (destination failing) takes a replica out of the LoadBalancer, so the
                  // spokes keep their logs in their own buffers; liveness only asks for the server.
                  readinessProbe: {
                    httpGet: { path: FLUENT_BIT_HEALTH_PATH, port: "http" },
                    initialDelaySeconds: 5,
                    periodSeconds: 15,
                  },
                  livenessProbe: {
                    httpGet: { path: "/", port: "http" },
                    initialDelaySeconds: 10,
                    periodSeconds: 20,
                    failureThreshold: 6,
                  },
                  resources: resourceRequirements(LOG_SINK_RESOURCES),
                  securityContext: restrictedContainerSecurityContext(),
                  volumeMounts: [
                    { name: "config", mountPath: FLUENT_BIT_PATHS.configDir, readOnly: true },
                    { name: "tls", mountPath: FLUENT_BIT_PATHS.tlsDir, readOnly: true },
                    { name: "buffer", mountPath: FLUENT_BIT_PATHS.sinkBuffer },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: sinkConfig.metadata.name } },
                { name: "tls", secret: { secretName: sinkTls.metadata.name } },
                emptyDirVolume("buffer", { sizeLimit: SINK_BUFFER.volume }),
              ],
            },
          },
        },
      },
      loggingOpts,
    );
    if (sinkReplicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-log-sink-pdb`,
        {
          metadata: loggingMeta(LOG_SINK_SERVICE, "log-sink"),
          spec: { minAvailable: 1, selector: { matchLabels: selectorLabels(LOG_SINK_SERVICE) } },
        },
        loggingOpts,
      );
    }
    new k8s.core.v1.Service(
      `${name}-log-sink-service`,
      {
        metadata: loggingMeta(LOG_SINK_SERVICE, "log-sink"),
        spec: {
          type: "LoadBalancer",
          // Local keeps the spokes' source addresses, so the NetworkPolicy can admit their CIDRs only.
          externalTrafficPolicy: "Local",
          selector: selectorLabels(LOG_SINK_SERVICE),
          ports: [{ name: "forward", port: LOG_FORWARD_PORT, targetPort: "forward", protocol: "TCP" }],
          // The cloud firewall admits the same clients as the NetworkPolicy: the spokes.
          ...(spokeSources.length ? { loadBalancerSourceRanges: [...spokeSources] } : {}),
        },
      },
      loggingOpts,
    );

    const loggingPolicy = networkPolicyFactory(`${name}-logging-netpol`, loggingMeta, loggingOpts);
    loggingPolicy("default-deny", "default-deny", defaultDenySpec());
    loggingPolicy("log-sink", LOG_SINK_SERVICE, {
      podSelector: { matchLabels: selectorLabels(LOG_SINK_SERVICE) },
      policyTypes: ["Ingress", "Egress"],
      ingress:
        spokeSources.length > 0 ? [{ from: ipBlocks(spokeSources), ports: tcpPorts(LOG_FORWARD_PORT) }] : [],
      egress: [
        ...(destinationPort !== undefined
          ? [{ to: ipBlocks(SINK_DESTINATIONS), ports: tcpPorts(destinationPort) }]
          : []),
        dnsEgressRule(),
      ],
    });

    this.prometheusUrl = pulumi.output(
      `http://${serviceDnsNames(PROMETHEUS_SERVICE, MONITORING_NAMESPACE)[2]}:${PROMETHEUS_PORT}`,
    );
    this.logSinkEndpoint = pulumi.output(`${hub.logSinkHostname}:${LOG_FORWARD_PORT}`);
    this.federateJobs = pulumi.output(spokes.map((s) => federateJobName(s.name)));
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      logSinkEndpoint: this.logSinkEndpoint,
      federateJobs: this.federateJobs,
    });
  }
}

/** What the hub Prometheus watches of the Conjur backups, when the stack makes them. */
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
