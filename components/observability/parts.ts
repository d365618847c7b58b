// The Kubernetes parts hub and spoke observability share: one app per namespace (Prometheus in
// `monitoring`, the log sink or the forwarder in `logging`) with its Secrets, ConfigMaps,
// ServiceAccount, read-only RBAC and NetworkPolicies, and the Prometheus and Fluent Bit pod specs.
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
import { selectorLabels, workloadLabels } from "../naming";
import type { Resources } from "../../stacks/defaults";
import { FLUENT_BIT_HTTP_PORT, PROMETHEUS_PORT } from "./model";
import {
  CALLS_KUBE_API,
  CONFIG_HASH_ANNOTATION,
  configHash,
  FLUENT_BIT_HEALTH_PATH,
  fluentBitCommand,
  FORWARD_SHARED_KEY_ENV,
  PROMETHEUS_UID,
  prometheusArgs,
} from "./workloads";

type Input<T> = pulumi.Input<T>;
type EnvVar = k8s.types.input.core.v1.EnvVar;
type NetworkPolicyRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule &
  k8s.types.input.networking.v1.NetworkPolicyEgressRule;

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

  /** The Secret `<app>-<suffix>`. */
  secret(suffix: string, type: string, stringData: Record<string, Input<string>>): k8s.core.v1.Secret {
    const resourceName = `${this.prefix}-${this.app}-${suffix}`;
    return new k8s.core.v1.Secret(resourceName, { metadata: this.meta(suffix), type, stringData }, this.opts);
  }

  /** The `kubernetes.io/tls` Secret `<app>-<suffix>`: a certificate, its key, and the CA of its peers. */
  tlsSecret(suffix: string, stringData: Record<string, Input<string>>): k8s.core.v1.Secret {
    return this.secret(suffix, "kubernetes.io/tls", stringData);
  }

  /** The forward protocol's shared key in a Secret, and the env var that hands it to Fluent Bit. */
  sharedKeyEnv(sharedKey: Input<string>): EnvVar {
    const secret = this.secret("shared-key", "Opaque", { "shared-key": pulumi.secret(sharedKey) });
    return secretEnv(FORWARD_SHARED_KEY_ENV, secret, "shared-key");
  }

  /** The ConfigMap `<app>-<suffix>` holding generated files. */
  configMap(suffix: string, data: Record<string, string>): k8s.core.v1.ConfigMap {
    const resourceName = `${this.prefix}-${this.app}-${suffix}`;
    return new k8s.core.v1.ConfigMap(resourceName, { metadata: this.meta(suffix), data }, this.opts);
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
    return new k8s.core.v1.Service(
      `${this.prefix}-${this.app}-service`,
      { metadata: this.meta(), spec },
      this.opts,
    );
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

export function fromConfigMap(configMap: k8s.core.v1.ConfigMap) {
  return { configMap: { name: configMap.metadata.name } };
}

export function fromSecret(secret: k8s.core.v1.Secret) {
  return { secret: { secretName: secret.metadata.name } };
}

function volumeMounts(mounts: readonly Mount[]) {
  return mounts.map((m) => ({ name: m.name, mountPath: m.path, ...(m.readOnly ? { readOnly: true } : {}) }));
}

function podVolumes(mounts: readonly Mount[]) {
  return mounts.flatMap((m) => (m.source !== undefined ? [{ name: m.name, ...m.source }] : []));
}

export interface PrometheusPod {
  readonly image: string;
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly storage: { retentionTime: string; retentionSize: string };
  readonly resources: Resources;
  /** Serve the API through the mTLS web config, probed on the socket (kubelet has no certificate). */
  readonly mtls: boolean;
  readonly mounts: readonly Mount[];
}

/** The Prometheus pod of hub and spoke; the spoke's API demands a client certificate. */
export function prometheusPodSpec(pod: PrometheusPod) {
  // kubelet probes cannot present a client certificate: behind mTLS they check the listening
  // socket, and /-/ready and /-/healthy are for clients with a certificate (operations.md).
  const check = (path: string) =>
    pod.mtls ? { tcpSocket: { port: "web" } } : { httpGet: { path, port: "web" } };
  return {
    serviceAccountName: pod.serviceAccount.metadata.name,
    automountServiceAccountToken: true,
    securityContext: restrictedPodSecurityContext(PROMETHEUS_UID, PROMETHEUS_UID),
    containers: [
      {
        name: "prometheus",
        image: pod.image,
        args: prometheusArgs({ ...pod.storage, webConfig: pod.mtls }),
        ports: [{ name: "web", containerPort: PROMETHEUS_PORT, protocol: "TCP" }],
        readinessProbe: { ...check("/-/ready"), initialDelaySeconds: 5, periodSeconds: 10 },
        livenessProbe: {
          ...check("/-/healthy"),
          initialDelaySeconds: 30,
          periodSeconds: 20,
          failureThreshold: 6,
        },
        resources: resourceRequirements(pod.resources),
        securityContext: restrictedContainerSecurityContext(),
        volumeMounts: volumeMounts(pod.mounts),
      },
    ],
    volumes: podVolumes(pod.mounts),
  };
}

/** The config ConfigMap (a spoke Prometheus' web config next to it) and the TLS Secret, read-only. */
export function configMounts(
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
  return [
    mount("config", dirs.configDir, fromConfigMap(config)),
    ...(web && dirs.webDir ? [mount("web", dirs.webDir, fromConfigMap(web))] : []),
    mount("tls", dirs.tlsDir, fromSecret(tls)),
  ];
}

export interface FluentBitPod {
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly automountServiceAccountToken: boolean;
  readonly podSecurityContext: object;
  /** Where the pods may run: spread over nodes, or onto tainted nodes too. */
  readonly placement: { affinity: object } | { tolerations: object[] };
  readonly image: string;
  readonly env: EnvVar[];
  /** Ports besides the HTTP server's (health and metrics). */
  readonly ports?: Array<{ name: string; containerPort: number; protocol: string }>;
  readonly readinessDelaySeconds: number;
  readonly resources: Resources;
  readonly securityContext: object;
  readonly mounts: readonly Mount[];
}

/** The Fluent Bit pod of the log sink and of the forwarders: the image's binary with our config file. */
export function fluentBitPodSpec(c: FluentBitPod) {
  const { command, args } = fluentBitCommand();
  const container = {
    name: "fluent-bit",
    image: c.image,
    command,
    args,
    env: c.env,
    ports: [...(c.ports ?? []), { name: "http", containerPort: FLUENT_BIT_HTTP_PORT, protocol: "TCP" }],
    // Health turns 500 while an output keeps failing: the pod leaves readiness, but liveness only
    // asks whether the HTTP server answers, or an unreachable destination would restart it in a loop.
    readinessProbe: {
      httpGet: { path: FLUENT_BIT_HEALTH_PATH, port: "http" },
      initialDelaySeconds: c.readinessDelaySeconds,
      periodSeconds: 15,
    },
    livenessProbe: {
      httpGet: { path: "/", port: "http" },
      initialDelaySeconds: 10,
      periodSeconds: 20,
      failureThreshold: 6,
    },
    resources: resourceRequirements(c.resources),
    securityContext: c.securityContext,
    volumeMounts: volumeMounts(c.mounts),
  };
  return {
    serviceAccountName: c.serviceAccount.metadata.name,
    automountServiceAccountToken: c.automountServiceAccountToken,
    securityContext: c.podSecurityContext,
    ...c.placement,
    containers: [container],
    volumes: podVolumes(c.mounts),
  };
}
