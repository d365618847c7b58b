// SpokeObservability: what one converted spoke contributes to the estate's monitoring. A small
// Prometheus in `monitoring` (followers and annotated pods, recording rules, mTLS-only API the hub
// federates from) and a Fluent Bit DaemonSet in `logging` forwarding the node's container logs to
// the hub's log sink over mTLS, buffered on the node while the hub is away.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { leaderCaPem, type SpokeSpec } from "../../stacks/spec";
import type { SpokePki, SpokeTrust } from "../pki";
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
  SPOKE_PROMETHEUS_RESOURCES,
  SPOKE_PROMETHEUS_STORAGE,
  spokePrometheusFiles,
} from "./workloads";
import {
  ANYWHERE,
  AppScope,
  appPods,
  fluentBitPodTemplate,
  prometheusServer,
  type ObservabilityArgs,
  type Step,
} from "./parts";

/** The spec (images, monitoring settings, the hub's log sink name), the spoke's provider, and: */
export interface SpokeObservabilityArgs extends ObservabilityArgs {
  /** This spoke, as the spec declares it (converted). */
  readonly spoke: SpokeSpec;
  /** The estate's certificates: this spoke's Prometheus server and Fluent Bit client, the root CA. */
  readonly pki: SpokePki;
}

/** Names of the objects this component creates; the policy pack's Fluent Bit exemption matches FLUENT_BIT_NAME. */
export const FLUENT_BIT_NAME = "fluent-bit";
export const SPOKE_PROMETHEUS_CLUSTER_ROLE = "hubspoke-prometheus";
export const FLUENT_BIT_CLUSTER_ROLE = "hubspoke-fluent-bit";

type SpokeParts = Step<SpokeObservabilityArgs> & { readonly trust: SpokeTrust };

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
  const enterprise = spec.conjur.edition === "enterprise";
  const loadBalancer = spoke.monitoring.exposure === "LoadBalancer";
  const hubSources = spec.hub.egressCidrs;
  const tls = {
    "tls.crt": trust.prometheusServer.certPem,
    "tls.key": trust.prometheusServer.keyPem,
    // The estate root CA: it issued the hub's client certificate, the followers' and our own.
    "ca.crt": pki.caCertPem,
    // Enterprise: the follower's certificate comes from the Leader, which this CA verifies.
    ...(enterprise ? { "follower-ca.crt": leaderCaPem(spec.conjur.leader, pki.caCertPem) } : {}),
    // Its own API requires a client certificate, so its self-scrape presents one issued for that alone.
    "client.crt": trust.prometheusSelfClient.certPem,
    "client.key": trust.prometheusSelfClient.keyPem,
  };
  prometheusServer(name, k8sOpts, {
    image: spec.images.prometheus,
    tls: ["tls", tls],
    files: spokePrometheusFiles(spec, spoke),
    // Discovery lists pods (followers in conjur-system, annotated pods anywhere); nothing else.
    discovery: [{ resource: "prometheus", role: SPOKE_PROMETHEUS_CLUSTER_ROLE, resources: ["pods"] }],
    workload: "Deployment",
    storage: SPOKE_PROMETHEUS_STORAGE,
    resources: SPOKE_PROMETHEUS_RESOURCES,
    service: {
      type: spoke.monitoring.exposure,
      // Local keeps the hub's source address visible to the NetworkPolicy.
      ...(loadBalancer ? { externalTrafficPolicy: "Local" } : {}),
      // The cloud firewall admits the hub only, when its addresses are known.
      ...(loadBalancer && hubSources.length ? { loadBalancerSourceRanges: [...hubSources] } : {}),
    },
    // The hub (from outside, through the LoadBalancer or your route) and in-cluster proxies: only
    // the TLS port, and the web config refuses any client without an estate certificate.
    ingress: [
      {
        // Without `hub.egressCidrs`, any source may connect: the client certificate decides.
        from: [...ipBlocks(hubSources.length ? hubSources : ANYWHERE), { namespaceSelector: {} }],
        ports: tcpPorts(PROMETHEUS_PORT),
      },
    ],
    egress: [
      // The follower (Enterprise): the only pods of conjur-system, on the port they listen on.
      ...(enterprise
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
  });
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
  const { hostLogs, forwarderState } = FLUENT_BIT_PATHS;
  // Root only to read the node's root-owned log files (0640) and write its buffer on the node:
  // no capability, no escalation, no host namespaces, read-only root filesystem.
  const rootSeccomp = { type: "RuntimeDefault" };
  // Unready while the hub is unreachable: harmless, a DaemonSet serves no traffic.
  const template = fluentBitPodTemplate(forwarder, {
    image: spec.images.fluentBit,
    // Verifies the hub sink's certificate, which the root CA issued.
    tls: tlsSecretData(trust.logForwarderClient, pki.caCertPem),
    sharedKey: args.forwardSharedKey,
    conf: logForwarderFile(spec, spoke),
    readRole: FLUENT_BIT_CLUSTER_ROLE,
    // The spoke Prometheus scrapes its buffer and retry metrics (annotated-pods job).
    annotations: {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(FLUENT_BIT_HTTP_PORT),
      "prometheus.io/path": FLUENT_BIT_METRICS_PATH,
    },
    podSecurityContext: { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, seccompProfile: rootSeccomp },
    // Logs of workloads on tainted nodes are logs too.
    placement: { tolerations: [{ operator: "Exists", effect: "NoSchedule" }] },
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
    mounts: [
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
    ],
  });
  const daemonSet = {
    selector: { matchLabels: selectorLabels(FLUENT_BIT_NAME) },
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
    template,
  };
  new k8s.apps.v1.DaemonSet(
    `${name}-fluent-bit`,
    { metadata: forwarder.meta(), spec: daemonSet },
    forwarder.opts,
  );

  const sinkCidrs = spec.hub.logSinkCidrs.length ? spec.hub.logSinkCidrs : ANYWHERE;
  forwarder.isolate(
    [{ from: [appPods(MONITORING_NAMESPACE, PROMETHEUS_SERVICE)], ports: tcpPorts(FLUENT_BIT_HTTP_PORT) }],
    [{ to: ipBlocks(sinkCidrs), ports: tcpPorts(LOG_FORWARD_PORT) }, dnsEgressRule(), kubeApiEgressRule()],
  );
}
