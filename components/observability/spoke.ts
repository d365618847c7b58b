// SpokeObservability: what one converted spoke contributes to the estate's monitoring. A small
// Prometheus in `monitoring` (followers and annotated pods, recording rules, mTLS-only API the hub
// federates from) and a Fluent Bit DaemonSet in `logging` forwarding the node's container logs to
// the hub's log sink over mTLS, buffered on the node while the hub is away.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { SpokeSpec, StackSpec } from "../../stacks/spec";
import { FOLLOWER_POD_HTTPS_PORT } from "../spoke/followers";
import { EstatePki } from "../pki";
import { managedNamespace, networkPolicyFactory } from "../namespace";
import {
  defaultDenySpec,
  dnsEgressRule,
  emptyDirVolume,
  ipBlocks,
  kubeApiEgressRule,
  namespaceSelectorFor,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tcpPorts,
  tlsSecretData,
} from "../kube";
import {
  CONJUR_NAMESPACE,
  FOLLOWER_HTTPS_PORT,
  FOLLOWER_SERVICE,
  LOGGING_NAMESPACE,
  MONITORING_NAMESPACE,
  PROMETHEUS_SERVICE,
  selectorLabels,
  serviceDnsNames,
  workloadLabels,
} from "../naming";
import { FLUENT_BIT_HTTP_PORT, LOG_FORWARD_PORT, PROMETHEUS_PORT } from "./model";
import {
  buildSpokePrometheusConfig,
  buildSpokeRecordingRules,
  buildSpokeWebConfig,
  renderPrometheusYaml,
} from "./prometheus";
import { buildSpokeForwarderConfig, renderFluentBitYaml } from "./fluentbit";
import {
  CALLS_KUBE_API,
  CONFIG_HASH_ANNOTATION,
  configHash,
  federationHostPort,
  FLUENT_BIT_HEALTH_PATH,
  FLUENT_BIT_METRICS_PATH,
  FLUENT_BIT_PATHS,
  FLUENT_BIT_RESOURCES,
  fluentBitCommand,
  fluentBitTlsFile,
  FORWARD_SHARED_KEY_ENV,
  FORWARDER_BUFFER,
  PROMETHEUS_PATHS,
  PROMETHEUS_UID,
  prometheusArgs,
  prometheusRulesPath,
  prometheusTlsFile,
  SPOKE_PROMETHEUS_RESOURCES,
  SPOKE_PROMETHEUS_STORAGE,
} from "./workloads";

export interface SpokeObservabilityArgs {
  /** The validated stack spec (images, monitoring settings, the hub's log sink name). */
  readonly spec: StackSpec;
  /** This spoke, as the spec declares it (converted). */
  readonly spoke: SpokeSpec;
  /** Provider of the spoke's cluster. */
  readonly provider: k8s.Provider;
  /** The estate's certificates: this spoke's Prometheus server and Fluent Bit client, the root CA. */
  readonly pki: EstatePki;
  /** The forward protocol's shared key (secret), the same value the hub's log sink holds. */
  readonly forwardSharedKey: pulumi.Input<string>;
}

/** Names of the objects this component creates; the policy pack's Fluent Bit exemption matches FLUENT_BIT_NAME. */
export const FLUENT_BIT_NAME = "fluent-bit";
export const SPOKE_PROMETHEUS_CLUSTER_ROLE = "hubspoke-prometheus";
export const FLUENT_BIT_CLUSTER_ROLE = "hubspoke-fluent-bit";

/** Without `hub.egressCidrs`, any source may connect: the client certificate decides. */
const ANY_ADDRESS = ["0.0.0.0/0"];

export class SpokeObservability extends pulumi.ComponentResource {
  /** The URL the hub's federate job scrapes (`https://<monitoring.hostname>:9090/federate`). */
  public readonly federationTarget: pulumi.Output<string>;
  /** In-cluster Service name of the spoke Prometheus (mTLS: a client certificate is required). */
  public readonly prometheusServiceName: pulumi.Output<string>;
  /** Name of the Fluent Bit DaemonSet in the `logging` namespace. */
  public readonly logForwarderName: pulumi.Output<string>;

  constructor(name: string, args: SpokeObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:observability:SpokeObservability", name, {}, opts);
    const { spec, spoke, pki } = args;
    const federationSources = spec.hub.egressCidrs.length ? spec.hub.egressCidrs : ANY_ADDRESS;
    const trust = pki.spokes.get(spoke.name);
    if (!trust) throw new Error(`internal: spoke ${spoke.name} has no trust material (not converted?)`);
    const k8sOpts = { parent: this, provider: args.provider };

    // ---- Metrics: the spoke Prometheus ----
    const { opts: monitoringOpts, meta: monitoringMeta } = managedNamespace(
      `${name}-monitoring-namespace`,
      { name: MONITORING_NAMESPACE, podSecurity: "restricted" },
      k8sOpts,
    );

    // Its own API requires a client certificate, so its self-scrape presents one issued for that alone.
    const selfScrapeClient = trust.prometheusSelfClient;
    const prometheusTls = new k8s.core.v1.Secret(
      `${name}-prometheus-tls`,
      {
        metadata: monitoringMeta("prometheus-tls", "prometheus"),
        type: "kubernetes.io/tls",
        stringData: {
          "tls.crt": trust.prometheusServer.certPem,
          "tls.key": trust.prometheusServer.keyPem,
          // The estate root CA: it issued the hub's client certificate, the followers' and our own.
          "ca.crt": pki.caCertPem,
          ...(spec.conjur.edition === "enterprise"
            ? { "follower-ca.crt": spec.conjur.leader.caCertificate }
            : {}),
          "client.crt": selfScrapeClient.certPem,
          "client.key": selfScrapeClient.keyPem,
        },
      },
      monitoringOpts,
    );

    const prometheusFqdn = serviceDnsNames(PROMETHEUS_SERVICE, MONITORING_NAMESPACE)[2];
    const prometheusYaml = renderPrometheusYaml(
      buildSpokePrometheusConfig({
        cluster: spoke.name,
        region: spoke.region,
        scrapeInterval: spec.monitoring.scrapeInterval,
        // Enterprise only: with Open Source the spoke has no follower.
        followers: spec.conjur.edition === "enterprise",
        followerNamespace: CONJUR_NAMESPACE,
        // The follower's HTTPS port (its pod port); /metrics there is not verified on Enterprise
        // (docs/observability.md). Its certificate comes from the Leader, so the Leader's CA verifies it.
        followerMetricsPort:
          spec.conjur.edition === "enterprise"
            ? FOLLOWER_POD_HTTPS_PORT[spec.conjur.follower.kind]
            : FOLLOWER_HTTPS_PORT,
        followerTls: {
          caFile: prometheusTlsFile(spec.conjur.edition === "enterprise" ? "follower-ca.crt" : "ca.crt"),
          serverName: serviceDnsNames(FOLLOWER_SERVICE, CONJUR_NAMESPACE)[2],
        },
        annotatedPods: true,
        recordingRulesFile: prometheusRulesPath(),
        selfScrapeTarget: `localhost:${PROMETHEUS_PORT}`,
        selfScrapeTls: {
          caFile: prometheusTlsFile("ca.crt"),
          certFile: prometheusTlsFile("client.crt"),
          keyFile: prometheusTlsFile("client.key"),
          serverName: prometheusFqdn,
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
    const prometheusConfig = new k8s.core.v1.ConfigMap(
      `${name}-prometheus-config`,
      {
        metadata: monitoringMeta("prometheus-config", "prometheus"),
        data: { [PROMETHEUS_PATHS.configFile]: prometheusYaml, [PROMETHEUS_PATHS.rulesFile]: rulesYaml },
      },
      monitoringOpts,
    );
    // File paths only: the key and certificates are in the Secret.
    const prometheusWeb = new k8s.core.v1.ConfigMap(
      `${name}-prometheus-web`,
      {
        metadata: monitoringMeta("prometheus-web", "prometheus"),
        data: { [PROMETHEUS_PATHS.webConfigFile]: webYaml },
      },
      monitoringOpts,
    );

    const prometheusSa = new k8s.core.v1.ServiceAccount(
      `${name}-prometheus-sa`,
      {
        metadata: monitoringMeta(PROMETHEUS_SERVICE, "prometheus"),
        automountServiceAccountToken: true,
      },
      monitoringOpts,
    );
    // Discovery lists pods (followers in conjur-system, annotated pods anywhere); nothing else.
    const prometheusRole = new k8s.rbac.v1.ClusterRole(
      `${name}-prometheus-role`,
      {
        metadata: {
          name: SPOKE_PROMETHEUS_CLUSTER_ROLE,
          labels: workloadLabels(SPOKE_PROMETHEUS_CLUSTER_ROLE, "rbac"),
        },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
      },
      k8sOpts,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-prometheus-binding`,
      {
        metadata: {
          name: SPOKE_PROMETHEUS_CLUSTER_ROLE,
          labels: workloadLabels(SPOKE_PROMETHEUS_CLUSTER_ROLE, "rbac"),
        },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: prometheusRole.metadata.name,
        },
        subjects: [
          { kind: "ServiceAccount", name: prometheusSa.metadata.name, namespace: MONITORING_NAMESPACE },
        ],
      },
      k8sOpts,
    );

    // The API demands a client certificate, which kubelet probes cannot present: the probes check
    // the listening socket. /-/ready and /-/healthy are for clients with a certificate (operations.md).
    const socketProbe = { tcpSocket: { port: "web" } };
    new k8s.apps.v1.Deployment(
      `${name}-prometheus`,
      {
        metadata: monitoringMeta(PROMETHEUS_SERVICE, "prometheus"),
        spec: {
          replicas: 1,
          // One TSDB per pod in an emptyDir: never two pods at once.
          strategy: { type: "Recreate" },
          selector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
          template: {
            metadata: {
              labels: workloadLabels(PROMETHEUS_SERVICE, "prometheus"),
              annotations: {
                ...CALLS_KUBE_API,
                // Prometheus does not reload its config by itself: a new config rolls the pod.
                [CONFIG_HASH_ANNOTATION]: configHash(prometheusYaml, rulesYaml, webYaml),
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
                    retentionTime: SPOKE_PROMETHEUS_STORAGE.retentionTime,
                    retentionSize: SPOKE_PROMETHEUS_STORAGE.retentionSize,
                    webConfig: true,
                  }),
                  ports: [{ name: "web", containerPort: PROMETHEUS_PORT, protocol: "TCP" }],
                  readinessProbe: { ...socketProbe, initialDelaySeconds: 5, periodSeconds: 10 },
                  livenessProbe: {
                    ...socketProbe,
                    initialDelaySeconds: 30,
                    periodSeconds: 20,
                    failureThreshold: 6,
                  },
                  resources: resourceRequirements(SPOKE_PROMETHEUS_RESOURCES),
                  securityContext: restrictedContainerSecurityContext(),
                  volumeMounts: [
                    { name: "config", mountPath: PROMETHEUS_PATHS.configDir, readOnly: true },
                    { name: "web", mountPath: PROMETHEUS_PATHS.webDir, readOnly: true },
                    { name: "tls", mountPath: PROMETHEUS_PATHS.tlsDir, readOnly: true },
                    { name: "data", mountPath: PROMETHEUS_PATHS.data },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: prometheusConfig.metadata.name } },
                { name: "web", configMap: { name: prometheusWeb.metadata.name } },
                { name: "tls", secret: { secretName: prometheusTls.metadata.name } },
                emptyDirVolume("data", { sizeLimit: SPOKE_PROMETHEUS_STORAGE.volume }),
              ],
            },
          },
        },
      },
      monitoringOpts,
    );
    new k8s.core.v1.Service(
      `${name}-prometheus-service`,
      {
        metadata: monitoringMeta(PROMETHEUS_SERVICE, "prometheus"),
        spec: {
          type: spoke.monitoring.exposure,
          // Local keeps the hub's source address visible to the NetworkPolicy.
          ...(spoke.monitoring.exposure === "LoadBalancer" ? { externalTrafficPolicy: "Local" } : {}),
          // The cloud firewall admits the hub only, when its addresses are known.
          ...(spoke.monitoring.exposure === "LoadBalancer" && spec.hub.egressCidrs.length
            ? { loadBalancerSourceRanges: [...spec.hub.egressCidrs] }
            : {}),
          selector: selectorLabels(PROMETHEUS_SERVICE),
          ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web", protocol: "TCP" }],
        },
      },
      monitoringOpts,
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
          // The hub (from outside, through the LoadBalancer or your route) and in-cluster proxies:
          // only the TLS port, and the web config refuses any client without an estate certificate.
          from: [...ipBlocks(federationSources), { namespaceSelector: {} }],
          ports: tcpPorts(PROMETHEUS_PORT),
        },
      ],
      egress: [
        // The follower (Enterprise): the only pods of conjur-system, on the port they listen on.
        ...(spec.conjur.edition === "enterprise"
          ? [
              {
                to: [{ namespaceSelector: namespaceSelectorFor(CONJUR_NAMESPACE) }],
                ports: tcpPorts(FOLLOWER_POD_HTTPS_PORT[spec.conjur.follower.kind]),
              },
            ]
          : []),
        // Pods that opt in with prometheus.io/scrape, in any namespace and on the port they name:
        // a NetworkPolicy cannot select by annotation, so this admits every pod of this cluster.
        { to: [{ namespaceSelector: {} }] },
        dnsEgressRule(),
        kubeApiEgressRule(),
      ],
    });

    // ---- Logs: the Fluent Bit DaemonSet ----
    // Documented exemption (docs/observability.md, policy/exemptions.ts): Fluent Bit reads the
    // node's log files through hostPath, which only the privileged profile admits.
    const { opts: loggingOpts, meta: loggingMeta } = managedNamespace(
      `${name}-logging-namespace`,
      {
        name: LOGGING_NAMESPACE,
        podSecurity: "privileged",
        annotations: {
          "hubspoke.io/pod-security-exemption":
            "fluent-bit reads host log files through hostPath; see docs/observability.md",
        },
      },
      k8sOpts,
    );

    const forwarderTls = new k8s.core.v1.Secret(
      `${name}-fluent-bit-tls`,
      {
        metadata: loggingMeta("fluent-bit-tls", "fluent-bit"),
        type: "kubernetes.io/tls",
        // Verifies the hub sink's certificate, which the root CA issued.
        stringData: tlsSecretData(trust.logForwarderClient, pki.caCertPem),
      },
      loggingOpts,
    );
    const sharedKey = new k8s.core.v1.Secret(
      `${name}-fluent-bit-shared-key`,
      {
        metadata: loggingMeta("fluent-bit-shared-key", "fluent-bit"),
        type: "Opaque",
        stringData: { "shared-key": pulumi.secret(args.forwardSharedKey) },
      },
      loggingOpts,
    );

    const forwarderConf = renderFluentBitYaml(
      buildSpokeForwarderConfig({
        cluster: spoke.name,
        region: spoke.region,
        hubHost: spec.hub.logSinkHostname,
        hubPort: LOG_FORWARD_PORT,
        tlsServerName: spec.hub.logSinkHostname,
        caFile: fluentBitTlsFile("ca.crt"),
        certFile: fluentBitTlsFile("tls.crt"),
        keyFile: fluentBitTlsFile("tls.key"),
        sharedKeyEnv: FORWARD_SHARED_KEY_ENV,
        storagePath: FLUENT_BIT_PATHS.forwarderState,
        storageTotalLimit: FORWARDER_BUFFER.storageTotalLimit,
        memBufLimit: FORWARDER_BUFFER.memBufLimit,
        conjurNamespace: CONJUR_NAMESPACE,
      }),
    );
    const forwarderConfig = new k8s.core.v1.ConfigMap(
      `${name}-fluent-bit-config`,
      {
        metadata: loggingMeta("fluent-bit-config", "fluent-bit"),
        data: { [FLUENT_BIT_PATHS.configFile]: forwarderConf },
      },
      loggingOpts,
    );

    const forwarderSa = new k8s.core.v1.ServiceAccount(
      `${name}-fluent-bit-sa`,
      { metadata: loggingMeta(FLUENT_BIT_NAME, "fluent-bit"), automountServiceAccountToken: true },
      loggingOpts,
    );
    // The kubernetes filter reads pod and namespace metadata; nothing else.
    const forwarderRole = new k8s.rbac.v1.ClusterRole(
      `${name}-fluent-bit-role`,
      {
        metadata: { name: FLUENT_BIT_CLUSTER_ROLE, labels: workloadLabels(FLUENT_BIT_CLUSTER_ROLE, "rbac") },
        rules: [{ apiGroups: [""], resources: ["namespaces", "pods"], verbs: ["get", "list", "watch"] }],
      },
      k8sOpts,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-fluent-bit-binding`,
      {
        metadata: { name: FLUENT_BIT_CLUSTER_ROLE, labels: workloadLabels(FLUENT_BIT_CLUSTER_ROLE, "rbac") },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: forwarderRole.metadata.name,
        },
        subjects: [{ kind: "ServiceAccount", name: forwarderSa.metadata.name, namespace: LOGGING_NAMESPACE }],
      },
      k8sOpts,
    );

    // Root only to read the node's root-owned log files (0640) and write its buffer on the node:
    // no capability, no escalation, no host namespaces, read-only root filesystem.
    const rootSeccomp = { type: "RuntimeDefault" };
    const { command, args: fluentBitArgs } = fluentBitCommand();
    new k8s.apps.v1.DaemonSet(
      `${name}-fluent-bit`,
      {
        metadata: loggingMeta(FLUENT_BIT_NAME, "fluent-bit"),
        spec: {
          selector: { matchLabels: selectorLabels(FLUENT_BIT_NAME) },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: {
              labels: workloadLabels(FLUENT_BIT_NAME, "fluent-bit"),
              annotations: {
                ...CALLS_KUBE_API,
                [CONFIG_HASH_ANNOTATION]: configHash(forwarderConf),
                // The spoke Prometheus scrapes its buffer and retry metrics (annotated-pods job).
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(FLUENT_BIT_HTTP_PORT),
                "prometheus.io/path": FLUENT_BIT_METRICS_PATH,
              },
            },
            spec: {
              serviceAccountName: forwarderSa.metadata.name,
              automountServiceAccountToken: true,
              securityContext: {
                runAsUser: 0,
                runAsGroup: 0,
                runAsNonRoot: false,
                seccompProfile: rootSeccomp,
              },
              // Logs of workloads on tainted nodes are logs too.
              tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
              containers: [
                {
                  name: "fluent-bit",
                  image: spec.images.fluentBit,
                  command,
                  args: fluentBitArgs,
                  env: [
                    {
                      name: FORWARD_SHARED_KEY_ENV,
                      valueFrom: { secretKeyRef: { name: sharedKey.metadata.name, key: "shared-key" } },
                    },
                  ],
                  ports: [{ name: "http", containerPort: FLUENT_BIT_HTTP_PORT, protocol: "TCP" }],
                  // Health turns 500 while the hub is unreachable (output errors): fine for
                  // readiness (a DaemonSet serves no traffic), fatal for liveness, which would
                  // restart it in a loop; liveness only asks whether the HTTP server answers.
                  readinessProbe: {
                    httpGet: { path: FLUENT_BIT_HEALTH_PATH, port: "http" },
                    initialDelaySeconds: 10,
                    periodSeconds: 15,
                  },
                  livenessProbe: {
                    httpGet: { path: "/", port: "http" },
                    initialDelaySeconds: 10,
                    periodSeconds: 20,
                    failureThreshold: 6,
                  },
                  resources: resourceRequirements(FLUENT_BIT_RESOURCES),
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: false,
                    runAsUser: 0,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: rootSeccomp,
                  },
                  volumeMounts: [
                    { name: "config", mountPath: FLUENT_BIT_PATHS.configDir, readOnly: true },
                    { name: "tls", mountPath: FLUENT_BIT_PATHS.tlsDir, readOnly: true },
                    { name: "host-logs", mountPath: FLUENT_BIT_PATHS.hostLogs, readOnly: true },
                    { name: "state", mountPath: FLUENT_BIT_PATHS.forwarderState },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: forwarderConfig.metadata.name } },
                { name: "tls", secret: { secretName: forwarderTls.metadata.name } },
                { name: "host-logs", hostPath: { path: FLUENT_BIT_PATHS.hostLogs, type: "Directory" } },
                // Tail offsets and the filesystem buffer survive pod restarts and upgrades.
                {
                  name: "state",
                  hostPath: { path: FLUENT_BIT_PATHS.forwarderState, type: "DirectoryOrCreate" },
                },
              ],
            },
          },
        },
      },
      loggingOpts,
    );

    const loggingPolicy = networkPolicyFactory(`${name}-logging-netpol`, loggingMeta, loggingOpts);
    loggingPolicy("default-deny", "default-deny", defaultDenySpec());
    loggingPolicy("fluent-bit", FLUENT_BIT_NAME, {
      podSelector: { matchLabels: selectorLabels(FLUENT_BIT_NAME) },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE),
              podSelector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
            },
          ],
          ports: tcpPorts(FLUENT_BIT_HTTP_PORT),
        },
      ],
      egress: [
        {
          to: ipBlocks(spec.hub.logSinkCidrs.length ? spec.hub.logSinkCidrs : ANY_ADDRESS),
          ports: tcpPorts(LOG_FORWARD_PORT),
        },
        dnsEgressRule(),
        kubeApiEgressRule(),
      ],
    });

    this.federationTarget = pulumi.output(`https://${federationHostPort(spoke)}/federate`);
    this.prometheusServiceName = pulumi.output(PROMETHEUS_SERVICE);
    this.logForwarderName = pulumi.output(FLUENT_BIT_NAME);
    this.registerOutputs({
      federationTarget: this.federationTarget,
      prometheusServiceName: this.prometheusServiceName,
      logForwarderName: this.logForwarderName,
    });
  }
}
