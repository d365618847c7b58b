// The Kubernetes parts hub and spoke observability share: one app per namespace (Prometheus in
// `monitoring`, the log sink or the forwarder in `logging`) with its Secrets, ConfigMaps,
// ServiceAccount, read-only RBAC and NetworkPolicies; the whole Prometheus server of either side,
// and the Fluent Bit pod template of the sink and of the forwarders.
// Every object of an app is named after it: `<app>-<suffix>`, resources `<prefix>-<app>-<suffix>`.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { managedNamespace, networkPolicyFactory, type ManagedNamespaceArgs } from "../namespace";
import {
  defaultDenySpec,
  namespaceSelectorFor,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from "../kube";
import { MONITORING_NAMESPACE, PROMETHEUS_SERVICE, selectorLabels, workloadLabels } from "../naming";
import type { Resources } from "../../stacks/defaults";
import type { StackSpec } from "../../stacks/spec";
import { FLUENT_BIT_HTTP_PORT, PROMETHEUS_PORT } from "./model";
import {
  CALLS_KUBE_API,
  CONFIG_HASH_ANNOTATION,
  configHash,
  FLUENT_BIT_HEALTH_PATH,
  FLUENT_BIT_PATHS,
  fluentBitCommand,
  FORWARD_SHARED_KEY_ENV,
  PROMETHEUS_PATHS,
  PROMETHEUS_UID,
  prometheusArgs,
} from "./workloads";

type Input<T> = pulumi.Input<T>;
type EnvVar = k8s.types.input.core.v1.EnvVar;
type NetworkPolicyRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule &
  k8s.types.input.networking.v1.NetworkPolicyEgressRule;

/** What hub and spoke observability both take (each adds its own certificates). */
export interface ObservabilityArgs {
  /** The validated stack spec. */
  readonly spec: StackSpec;
  /** Provider of the cluster the component deploys to. */
  readonly provider: k8s.Provider;
  /** The forward protocol's shared key (secret): the hub's log sink and every forwarder hold it. */
  readonly forwardSharedKey: pulumi.Input<string>;
}

/** What each step of a component gets: its name prefix, its arguments, the options of its objects. */
export type Step<Args> = {
  readonly name: string;
  readonly args: Args;
  readonly k8sOpts: pulumi.CustomResourceOptions;
};

/**
 * Peers whose addresses the spec does not know (the spokes' Prometheus, the search cluster, the hub
 * without `hub.egressCidrs`): any address, always on one port, where TLS and certificates decide.
 */
export const ANYWHERE = ["0.0.0.0/0"];

/** One workload and its objects in the namespace the stack creates for it. */
export class AppScope {
  readonly opts: pulumi.CustomResourceOptions;
  /** Metadata of any object in the namespace. */
  readonly namespaceMeta: ReturnType<typeof managedNamespace>["meta"];

  /** `area` names the namespace's resources (`<prefix>-<area>-namespace`, `<prefix>-<area>-netpol-*`). */
  constructor(
    readonly prefix: string,
    readonly area: string,
    readonly app: string,
    readonly namespace: ManagedNamespaceArgs,
    readonly k8sOpts: pulumi.CustomResourceOptions,
  ) {
    const ns = managedNamespace(`${prefix}-${area}-namespace`, namespace, k8sOpts);
    this.opts = ns.opts;
    this.namespaceMeta = ns.meta;
  }

  /** Metadata of the app's object `<app>-<suffix>` (the app's own name without a suffix). */
  meta(suffix?: string) {
    return this.namespaceMeta(suffix === undefined ? this.app : `${this.app}-${suffix}`, this.app);
  }

  /** The Secret `<app>-<suffix>` (a `kubernetes.io/tls` one: a certificate, its key, and the CA of its peers). */
  secret(suffix: string, type: string, stringData: Record<string, Input<string>>): k8s.core.v1.Secret {
    const args = { metadata: this.meta(suffix), type, stringData };
    return new k8s.core.v1.Secret(`${this.prefix}-${this.app}-${suffix}`, args, this.opts);
  }

  /** The ConfigMap `<app>-<suffix>` holding generated files. */
  configMap(suffix: string, data: Record<string, string>): k8s.core.v1.ConfigMap {
    const args = { metadata: this.meta(suffix), data };
    return new k8s.core.v1.ConfigMap(`${this.prefix}-${this.app}-${suffix}`, args, this.opts);
  }

  serviceAccount(automount: boolean): k8s.core.v1.ServiceAccount {
    const args = { metadata: this.meta(), automountServiceAccountToken: automount };
    return new k8s.core.v1.ServiceAccount(`${this.prefix}-${this.app}-sa`, args, this.opts);
  }

  /**
   * A Role in `namespace` (a ClusterRole without) and its binding, resources `<prefix>-<resource>-role`
   * and `-binding`: the ServiceAccount may get, list and watch these core resources, nothing else.
   */
  grantRead(
    resource: string,
    roleName: string,
    resources: string[],
    sa: k8s.core.v1.ServiceAccount,
    namespace?: Input<string>,
  ) {
    const metadata = {
      name: roleName,
      ...(namespace !== undefined ? { namespace } : {}),
      labels: workloadLabels(roleName, "rbac"),
    };
    const rules = [{ apiGroups: [""], resources, verbs: ["get", "list", "watch"] }];
    const namespaced = namespace !== undefined;
    const roleResource = `${this.prefix}-${resource}-role`;
    const role = namespaced
      ? new k8s.rbac.v1.Role(roleResource, { metadata, rules }, this.k8sOpts)
      : new k8s.rbac.v1.ClusterRole(roleResource, { metadata, rules }, this.k8sOpts);
    const binding = {
      metadata,
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: namespaced ? "Role" : "ClusterRole",
        name: role.metadata.name,
      },
      subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: this.namespace.name }],
    };
    const bindingResource = `${this.prefix}-${resource}-binding`;
    if (namespaced) new k8s.rbac.v1.RoleBinding(bindingResource, binding, this.k8sOpts);
    else new k8s.rbac.v1.ClusterRoleBinding(bindingResource, binding, this.k8sOpts);
  }

  /** The Service `<app>`, selecting the app's pods. */
  service(spec: k8s.types.input.core.v1.ServiceSpec): k8s.core.v1.Service {
    const args = { metadata: this.meta(), spec };
    return new k8s.core.v1.Service(`${this.prefix}-${this.app}-service`, args, this.opts);
  }

  /**
   * Labels and annotations of the app's pods: a change of the generated files rolls them (neither
   * Prometheus nor Fluent Bit reloads its config by itself).
   */
  podMetadata(files: string[], callsKubeApi: boolean, annotations: Record<string, string> = {}) {
    return {
      labels: workloadLabels(this.app, this.app),
      annotations: {
        ...(callsKubeApi ? CALLS_KUBE_API : {}),
        [CONFIG_HASH_ANNOTATION]: configHash(...files),
        ...annotations,
      },
    };
  }

  /** The namespace's default deny, and the one policy that admits the app's own traffic. */
  isolate(ingress: NetworkPolicyRule[], egress: NetworkPolicyRule[]): void {
    const policy = networkPolicyFactory(`${this.prefix}-${this.area}-netpol`, this.namespaceMeta, this.opts);
    policy("default-deny", "default-deny", defaultDenySpec());
    const podSelector = { matchLabels: selectorLabels(this.app) };
    policy(this.app, this.app, { podSelector, policyTypes: ["Ingress", "Egress"], ingress, egress });
  }
}

export function secretEnv(name: string, secret: k8s.core.v1.Secret, key: string): EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret.metadata.name, key } } };
}

/** NetworkPolicy peer: the pods of one app in one namespace. */
export function appPods(namespace: string, app: string) {
  return {
    namespaceSelector: namespaceSelectorFor(namespace),
    podSelector: { matchLabels: selectorLabels(app) },
  };
}

/** A volume and where the container mounts it (`source` omitted: a claim template provides it). */
export interface Mount {
  readonly name: string;
  readonly path: string;
  readonly readOnly?: boolean;
  readonly source?: Omit<k8s.types.input.core.v1.Volume, "name">;
}

function volumeMounts(mounts: readonly Mount[]) {
  return mounts.map((m) => ({ name: m.name, mountPath: m.path, ...(m.readOnly ? { readOnly: true } : {}) }));
}

function podVolumes(mounts: readonly Mount[]) {
  return mounts.flatMap((m) => (m.source !== undefined ? [{ name: m.name, ...m.source }] : []));
}

/** The config ConfigMap (a spoke Prometheus' web config next to it) and the TLS Secret, read-only. */
function configMounts(
  dirs: { configDir: string; tlsDir: string; webDir?: string },
  config: k8s.core.v1.ConfigMap,
  tls: k8s.core.v1.Secret,
  web?: k8s.core.v1.ConfigMap,
): Mount[] {
  const mount = (name: string, path: string, source: Mount["source"]) => ({
    name,
    path,
    readOnly: true,
    source,
  });
  const fromConfigMap = (configMap: k8s.core.v1.ConfigMap) => ({
    configMap: { name: configMap.metadata.name },
  });
  return [
    mount("config", dirs.configDir, fromConfigMap(config)),
    ...(web && dirs.webDir ? [mount("web", dirs.webDir, fromConfigMap(web))] : []),
    mount("tls", dirs.tlsDir, { secret: { secretName: tls.metadata.name } }),
  ];
}

/** What sets the hub's Prometheus apart from a spoke's. */
export interface PrometheusServerArgs {
  readonly image: string;
  /** Suffix and data of its TLS Secret: the hub's federation client, or a spoke's server. */
  readonly tls: readonly [suffix: string, data: Record<string, Input<string>>];
  /** Its files; a spoke's `webYaml` puts the API behind client certificates (mTLS). */
  readonly files: { readonly prometheusYaml: string; readonly rulesYaml: string; readonly webYaml?: string };
  /** What it may list to discover targets: each a Role (in `namespace`) or a ClusterRole and its binding. */
  readonly discovery: ReadonlyArray<{
    readonly resource: string;
    readonly role: string;
    readonly resources: string[];
    readonly namespace?: Input<string>;
  }>;
  /**
   * The hub keeps federated history in a StatefulSet's claim; a spoke keeps a week of raw data in a
   * Deployment's emptyDir.
   */
  readonly workload: "StatefulSet" | "Deployment";
  readonly storage: { retentionTime: string; retentionSize: string; volume: string };
  readonly resources: Resources;
  /** The Service's type and how it is exposed; the selector and the port are the same everywhere. */
  readonly service: k8s.types.input.core.v1.ServiceSpec;
  readonly ingress: NetworkPolicyRule[];
  readonly egress: NetworkPolicyRule[];
}

/**
 * The Prometheus of the hub or of a spoke, in `monitoring`: its TLS Secret and files, a
 * ServiceAccount that may list pods, the workload, its Service and its NetworkPolicies.
 */
export function prometheusServer(
  prefix: string,
  k8sOpts: pulumi.CustomResourceOptions,
  p: PrometheusServerArgs,
): AppScope {
  const restricted = { name: MONITORING_NAMESPACE, podSecurity: "restricted" } as const;
  const scope = new AppScope(prefix, "monitoring", PROMETHEUS_SERVICE, restricted, k8sOpts);
  const tls = scope.secret(p.tls[0], "kubernetes.io/tls", p.tls[1]);
  const { prometheusYaml, rulesYaml, webYaml } = p.files;
  const config = scope.configMap("config", {
    [PROMETHEUS_PATHS.configFile]: prometheusYaml,
    [PROMETHEUS_PATHS.rulesFile]: rulesYaml,
  });
  // File paths only: the key and certificates are in the Secret.
  const web =
    webYaml !== undefined ? scope.configMap("web", { [PROMETHEUS_PATHS.webConfigFile]: webYaml }) : undefined;
  const serviceAccount = scope.serviceAccount(true);
  for (const { resource, role, resources, namespace } of p.discovery) {
    scope.grantRead(resource, role, resources, serviceAccount, namespace);
  }
  const selector = () => selectorLabels(PROMETHEUS_SERVICE);
  const service = scope.service({
    ...p.service,
    selector: selector(),
    ports: [{ name: "web", port: PROMETHEUS_PORT, targetPort: "web", protocol: "TCP" }],
  });

  const persistent = p.workload === "StatefulSet";
  const data = persistent ? {} : { source: { emptyDir: { sizeLimit: p.storage.volume } } };
  const mounts = [
    ...configMounts(PROMETHEUS_PATHS, config, tls, web),
    { name: "data", path: PROMETHEUS_PATHS.data, ...data },
  ];
  const files = webYaml !== undefined ? [prometheusYaml, rulesYaml, webYaml] : [prometheusYaml, rulesYaml];
  const template = {
    metadata: scope.podMetadata(files, true),
    spec: prometheusPodSpec(p, serviceAccount, web !== undefined, mounts),
  };
  if (persistent) {
    const claim = {
      metadata: { name: "data", labels: workloadLabels(PROMETHEUS_SERVICE, "prometheus") },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: p.storage.volume } } },
    };
    const spec = {
      serviceName: service.metadata.name,
      replicas: 1,
      selector: { matchLabels: selector() },
      template,
      volumeClaimTemplates: [claim],
    };
    // The claim template is immutable once the StatefulSet exists; resizing is an operator task.
    const opts = { ...scope.opts, ignoreChanges: ["spec.volumeClaimTemplates"] };
    new k8s.apps.v1.StatefulSet(`${prefix}-prometheus`, { metadata: scope.meta(), spec }, opts);
  } else {
    // One TSDB per pod in an emptyDir: never two pods at once.
    const spec = {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: selector() },
      template,
    };
    new k8s.apps.v1.Deployment(`${prefix}-prometheus`, { metadata: scope.meta(), spec }, scope.opts);
  }
  scope.isolate(p.ingress, p.egress);
  return scope;
}

/** The Prometheus pod; behind mTLS, kubelet probes check the socket (they have no certificate). */
function prometheusPodSpec(
  p: PrometheusServerArgs,
  serviceAccount: k8s.core.v1.ServiceAccount,
  mtls: boolean,
  mounts: readonly Mount[],
) {
  // kubelet probes cannot present a client certificate: behind mTLS they check the listening
  // socket, and /-/ready and /-/healthy are for clients with a certificate (operations.md).
  const check = (path: string) =>
    mtls ? { tcpSocket: { port: "web" } } : { httpGet: { path, port: "web" } };
  return {
    serviceAccountName: serviceAccount.metadata.name,
    automountServiceAccountToken: true,
    securityContext: restrictedPodSecurityContext(PROMETHEUS_UID, PROMETHEUS_UID),
    containers: [
      {
        name: "prometheus",
        image: p.image,
        args: prometheusArgs({ ...p.storage, webConfig: mtls }),
        ports: [{ name: "web", containerPort: PROMETHEUS_PORT, protocol: "TCP" }],
        readinessProbe: { ...check("/-/ready"), initialDelaySeconds: 5, periodSeconds: 10 },
        livenessProbe: {
          ...check("/-/healthy"),
          initialDelaySeconds: 30,
          periodSeconds: 20,
          failureThreshold: 6,
        },
        resources: resourceRequirements(p.resources),
        securityContext: restrictedContainerSecurityContext(),
        volumeMounts: volumeMounts(mounts),
      },
    ],
    volumes: podVolumes(mounts),
  };
}

/** What sets the hub's log sink apart from a spoke's forwarder. */
export interface FluentBitPodArgs {
  readonly image: string;
  /** Its certificate (the sink's server, a forwarder's client) and the CA its peers' chain to. */
  readonly tls: Record<string, Input<string>>;
  /** The forward protocol's shared key, which both ends hold. */
  readonly sharedKey: Input<string>;
  /** Env vars besides the shared key, filled from Secrets the function creates in the scope. */
  readonly env?: (scope: AppScope) => EnvVar[];
  /** The generated configuration file. */
  readonly conf: string;
  /** The ClusterRole its kubernetes filter reads pods and namespaces with (the forwarder only). */
  readonly readRole?: string;
  /** Pod annotations besides the config hash. */
  readonly annotations?: Record<string, string>;
  readonly podSecurityContext: object;
  /** Where the pods may run: spread over nodes, or onto tainted nodes too. */
  readonly placement: { affinity: object } | { tolerations: object[] };
  /** Ports besides the HTTP server's (health and metrics). */
  readonly ports?: Array<{ name: string; containerPort: number; protocol: string }>;
  readonly readinessDelaySeconds: number;
  readonly resources: Resources;
  readonly securityContext: object;
  /** Volumes besides the config and TLS files. */
  readonly mounts: readonly Mount[];
}

/**
 * Fluent Bit's TLS Secret, shared key, config and ServiceAccount (with read access when it calls
 * the Kubernetes API), and the pod template that runs the image's binary with that config.
 */
export function fluentBitPodTemplate(scope: AppScope, f: FluentBitPodArgs) {
  const tls = scope.secret("tls", "kubernetes.io/tls", f.tls);
  const sharedKey = scope.secret("shared-key", "Opaque", { "shared-key": pulumi.secret(f.sharedKey) });
  const env = [secretEnv(FORWARD_SHARED_KEY_ENV, sharedKey, "shared-key"), ...(f.env?.(scope) ?? [])];
  const config = scope.configMap("config", { [FLUENT_BIT_PATHS.configFile]: f.conf });
  const callsKubeApi = f.readRole !== undefined;
  const serviceAccount = scope.serviceAccount(callsKubeApi);
  // The kubernetes filter reads pod and namespace metadata; nothing else.
  if (f.readRole !== undefined)
    scope.grantRead(scope.app, f.readRole, ["namespaces", "pods"], serviceAccount);
  const mounts = [...configMounts(FLUENT_BIT_PATHS, config, tls), ...f.mounts];
  const { command, args } = fluentBitCommand();
  const container = {
    name: "fluent-bit",
    image: f.image,
    command,
    args,
    env,
    ports: [...(f.ports ?? []), { name: "http", containerPort: FLUENT_BIT_HTTP_PORT, protocol: "TCP" }],
    // Health turns 500 while an output keeps failing: the pod leaves readiness, but liveness only
    // asks whether the HTTP server answers, or an unreachable destination would restart it in a loop.
    readinessProbe: {
      httpGet: { path: FLUENT_BIT_HEALTH_PATH, port: "http" },
      initialDelaySeconds: f.readinessDelaySeconds,
      periodSeconds: 15,
    },
    livenessProbe: {
      httpGet: { path: "/", port: "http" },
      initialDelaySeconds: 10,
      periodSeconds: 20,
      failureThreshold: 6,
    },
    resources: resourceRequirements(f.resources),
    securityContext: f.securityContext,
    volumeMounts: volumeMounts(mounts),
  };
  const spec = {
    serviceAccountName: serviceAccount.metadata.name,
    automountServiceAccountToken: callsKubeApi,
    securityContext: f.podSecurityContext,
    ...f.placement,
    containers: [container],
    volumes: podVolumes(mounts),
  };
  return { metadata: scope.podMetadata([f.conf], callsKubeApi, f.annotations), spec };
}
