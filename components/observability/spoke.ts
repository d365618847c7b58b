// SpokeObservability: what one converted spoke contributes to the estate's monitoring. A small
// Prometheus in `monitoring` (followers and annotated pods, recording rules, mTLS-only API the hub
// federates from) and a Fluent Bit DaemonSet in `logging` forwarding the node's container logs to
// the hub's log sink over mTLS, buffered on the node while the hub is away.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { leaderCaPem, type SpokeSpec, type StackSpec } from "../../stacks/spec";
import type { EstatePki, SpokeTrust } from "../pki";
import {
  dnsEgressRule,
  ipBlocks,
  kubeApiEgressRule,
  namespaceSelectorFor,
  tcpPorts,
  tlsSecretData,
} from "../kube";
import {
  CONJUR_NAMESPACE,
  LOGGING_NAMESPACE,
  MONITORING_NAMESPACE,
  PROMETHEUS_SERVICE,
  selectorLabels,
} from "../naming";
import { FLUENT_BIT_HTTP_PORT, LOG_FORWARD_PORT, PROMETHEUS_PORT } from "./model";
import {
  federationHostPort,
  FLUENT_BIT_METRICS_PATH,
  FLUENT_BIT_PATHS,
  FLUENT_BIT_RESOURCES,
  followerPodPort,
  logForwarderFile,
  PROMETHEUS_PATHS,
  SPOKE_PROMETHEUS_RESOURCES,
  SPOKE_PROMETHEUS_STORAGE,
  spokePrometheusFiles,
} from "./workloads";
import { AppScope, appPods, configMounts, fluentBitPodSpec, prometheusPodSpec, type Mount } from "./parts";

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

interface SpokeParts {
  readonly name: string;
  readonly args: SpokeObservabilityArgs;
  readonly trust: SpokeTrust;
  readonly k8sOpts: pulumi.CustomResourceOptions;
}

export class SpokeObservability extends pulumi.ComponentResource {
  /** The URL the hub's federate job scrapes (`https://<monitoring.hostname>:9090/federate`). */
  public readonly federationTarget: pulumi.Output<string>;
  /** In-cluster Service name of the spoke Prometheus (mTLS: a client certificate is required). */
  public readonly prometheusServiceName: pulumi.Output<string>;
  /** Name of the Fluent Bit DaemonSet in the `logging` namespace. */
  public readonly logForwarderName: pulumi.Output<string>;

  constructor(name: string, args: SpokeObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:observability:SpokeObservability", name, {}, opts);
    const spoke = args.spoke;
    const trust = args.pki.spokes.get(spoke.name);
    if (!trust) throw new Error(`internal: spoke ${spoke.name} has no trust material (not converted?)`);
    const parts: SpokeParts = { name, args, trust, k8sOpts: { parent: this, provider: args.provider } };

    spokePrometheus(parts);
    spokeLogForwarder(parts);

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

/** Metrics: the spoke Prometheus, whose API only the estate's certificates may call. */
function spokePrometheus({ name, args, trust, k8sOpts }: SpokeParts) {
  const { spec, spoke, pki } = args;
  const restricted = { name: MONITORING_NAMESPACE, podSecurity: "restricted" } as const;
  const prometheus = new AppScope(name, "monitoring", PROMETHEUS_SERVICE, restricted, k8sOpts);
  const tls = prometheus.tlsSecret("tls", {
    "tls.crt": trust.prometheusServer.certPem,
    "tls.key": trust.prometheusServer.keyPem,
    // The estate root CA: it issued the hub's client certificate, the followers' and our own.
    "ca.crt": pki.caCertPem,
    // Enterprise: the follower's certificate comes from the Leader, which this CA verifies.
    ...(spec.conjur.edition === "enterprise"
      ? { "follower-ca.crt": leaderCaPem(spec.conjur.leader, pki.caCertPem) }
      : {}),
    // Its own API requires a client certificate, so its self-scrape presents one issued for that alone.
    "client.crt": trust.prometheusSelfClient.certPem,
    "client.key": trust.prometheusSelfClient.keyPem,
  });
  const { prometheusYaml, rulesYaml, webYaml } = spokePrometheusFiles(spec, spoke);
  const config = prometheus.configMap("config", {
    [PROMETHEUS_PATHS.configFile]: prometheusYaml,
    [PROMETHEUS_PATHS.rulesFile]: rulesYaml,
  });
  // File paths only: the key and certificates are in the Secret.
  const web = prometheus.configMap("web", { [PROMETHEUS_PATHS.webConfigFile]: webYaml });
  const serviceAccount = prometheus.serviceAccount(true);
  // Discovery lists pods (followers in conjur-system, annotated pods anywhere); nothing else.
  prometheus.grantRead("prometheus", SPOKE_PROMETHEUS_CLUSTER_ROLE, ["pods"], serviceAccount);

  const storage = SPOKE_PROMETHEUS_STORAGE;
  const data = { emptyDir: { sizeLimit: storage.volume } };
  new k8s.apps.v1.Deployment(
    `${name}-prometheus`,
    {
      metadata: prometheus.meta(),
      spec: {
        replicas: 1,
        // One TSDB per pod in an emptyDir: never two pods at once.
        strategy: { type: "Recreate" },
        selector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
        template: {
          metadata: prometheus.podMetadata([prometheusYaml, rulesYaml, webYaml], true),
          spec: prometheusPodSpec({
            image: spec.images.prometheus,
            serviceAccount,
            storage,
            resources: SPOKE_PROMETHEUS_RESOURCES,
            mtls: true,
            mounts: [
              ...configMounts(PROMETHEUS_PATHS, config, tls, web),
              { name: "data", path: PROMETHEUS_PATHS.data, source: data },
            ],
          }),
        },
      },
    },
    prometheus.opts,
  );
  const loadBalancer = spoke.monitoring.exposure === "LoadBalancer";
  const hubSources = spec.hub.egressCidrs;
  prometheus.service({
    type: spoke.monitoring.exposure,
    // Local keeps the hub's source address visible to the NetworkPolicy.
    ...(loadBalancer ? { externalTrafficPolicy: "Local" } : {}),
    // The cloud firewall admits the hub only, when its addresses are known.
    ...(loadBalancer && hubSources.length ? { loadBalancerSourceRanges: [...hubSources] } : {}),
    selector: selectorLabels(PROMETHEUS_SERVICE),
    ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web", protocol: "TCP" }],
  });

  prometheus.isolate(
    // The hub (from outside, through the LoadBalancer or your route) and in-cluster proxies: only
    // the TLS port, and the web config refuses any client without an estate certificate.
    [
      {
        from: [...ipBlocks(hubSources.length ? hubSources : ANY_ADDRESS), { namespaceSelector: {} }],
        ports: tcpPorts(PROMETHEUS_PORT),
      },
    ],
    [
      // The follower (Enterprise): the only pods of conjur-system, on the port they listen on.
      ...(spec.conjur.edition === "enterprise"
        ? [
            {
              to: [{ namespaceSelector: namespaceSelectorFor(CONJUR_NAMESPACE) }],
              ports: tcpPorts(followerPodPort(spec)),
            },
          ]
        : []),
      // Pods that opt in with prometheus.io/scrape, in any namespace and on the port they name:
      // a NetworkPolicy cannot select by annotation, so this admits every pod of this cluster.
      { to: [{ namespaceSelector: {} }] },
      dnsEgressRule(),
      kubeApiEgressRule(),
    ],
  );
}

/** Logs: the Fluent Bit DaemonSet, forwarding the node's container logs to the hub's log sink. */
function spokeLogForwarder({ name, args, trust, k8sOpts }: SpokeParts) {
  const { spec, spoke, pki } = args;
  // Documented exemption (docs/observability.md, policy/exemptions.ts): Fluent Bit reads the
  // node's log files through hostPath, which only the privileged profile admits.
  const privileged = {
    name: LOGGING_NAMESPACE,
    podSecurity: "privileged",
    annotations: {
      "hubspoke.io/pod-security-exemption":
        "fluent-bit reads host log files through hostPath; see docs/observability.md",
    },
  } as const;
  const forwarder = new AppScope(name, "logging", FLUENT_BIT_NAME, privileged, k8sOpts);
  // Verifies the hub sink's certificate, which the root CA issued.
  const tlsData = tlsSecretData(trust.logForwarderClient, pki.caCertPem);
  const tls = forwarder.tlsSecret("tls", tlsData);
  const sharedKeyEnv = forwarder.sharedKeyEnv(args.forwardSharedKey);
  const forwarderConf = logForwarderFile(spec, spoke);
  const config = forwarder.configMap("config", { [FLUENT_BIT_PATHS.configFile]: forwarderConf });
  const serviceAccount = forwarder.serviceAccount(true);
  // The kubernetes filter reads pod and namespace metadata; nothing else.
  forwarder.grantRead("fluent-bit", FLUENT_BIT_CLUSTER_ROLE, ["namespaces", "pods"], serviceAccount);

  const { hostLogs, forwarderState } = FLUENT_BIT_PATHS;
  const mounts: Mount[] = [
    ...configMounts(FLUENT_BIT_PATHS, config, tls),
    {
      name: "host-logs",
      path: hostLogs,
      readOnly: true,
      source: { hostPath: { path: hostLogs, type: "Directory" } },
    },
    // Tail offsets and the filesystem buffer survive pod restarts and upgrades.
    {
      name: "state",
      path: forwarderState,
      source: { hostPath: { path: forwarderState, type: "DirectoryOrCreate" } },
    },
  ];
  // Root only to read the node's root-owned log files (0640) and write its buffer on the node:
  // no capability, no escalation, no host namespaces, read-only root filesystem.
  const rootSeccomp = { type: "RuntimeDefault" };
  new k8s.apps.v1.DaemonSet(
    `${name}-fluent-bit`,
    {
      metadata: forwarder.meta(),
      spec: {
        selector: { matchLabels: selectorLabels(FLUENT_BIT_NAME) },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          // The spoke Prometheus scrapes its buffer and retry metrics (annotated-pods job).
          metadata: forwarder.podMetadata([forwarderConf], true, {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(FLUENT_BIT_HTTP_PORT),
            "prometheus.io/path": FLUENT_BIT_METRICS_PATH,
          }),
          // Unready while the hub is unreachable: harmless, a DaemonSet serves no traffic.
          spec: fluentBitPodSpec({
            serviceAccount,
            automountServiceAccountToken: true,
            podSecurityContext: {
              runAsUser: 0,
              runAsGroup: 0,
              runAsNonRoot: false,
              seccompProfile: rootSeccomp,
            },
            // Logs of workloads on tainted nodes are logs too.
            placement: { tolerations: [{ operator: "Exists", effect: "NoSchedule" }] },
            image: spec.images.fluentBit,
            env: [sharedKeyEnv],
            readinessDelaySeconds: 10,
            resources: FLUENT_BIT_RESOURCES,
            securityContext: {
              allowPrivilegeEscalation: false,
              privileged: false,
              readOnlyRootFilesystem: true,
              runAsNonRoot: false,
              runAsUser: 0,
              capabilities: { drop: ["ALL"] },
              seccompProfile: rootSeccomp,
            },
            mounts,
          }),
        },
      },
    },
    forwarder.opts,
  );

  const sinkCidrs = spec.hub.logSinkCidrs.length ? spec.hub.logSinkCidrs : ANY_ADDRESS;
  forwarder.isolate(
    [{ from: [appPods(MONITORING_NAMESPACE, PROMETHEUS_SERVICE)], ports: tcpPorts(FLUENT_BIT_HTTP_PORT) }],
    [{ to: ipBlocks(sinkCidrs), ports: tcpPorts(LOG_FORWARD_PORT) }, dnsEgressRule(), kubeApiEgressRule()],
  );
}
