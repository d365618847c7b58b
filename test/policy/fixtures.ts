// Small, realistic Kubernetes objects as PlannedResources for the policy tests: each builder returns a
// compliant object, and a test mutates one field to make it fail.
import type { PlannedResource, StackContext } from "../../policy/types";

export const devContext: StackContext = { environment: "dev", protectIrreplaceable: false };
export const prodContext: StackContext = { environment: "prod", protectIrreplaceable: true };

export const HUB_PROVIDER = "urn:pulumi:dev::hubspoke::pulumi:providers:kubernetes::hub::3b1f8c2e-hub";
export const SPOKE_PROVIDER =
  "urn:pulumi:dev::hubspoke::pulumi:providers:kubernetes::spoke-east::9d2a41c7-east";

export function urnOf(type: string, name: string, stack = "dev"): string {
  return `urn:pulumi:${stack}::hubspoke::${type}::${name}`;
}

export function planned(
  type: string,
  name: string,
  props: Record<string, unknown>,
  overrides: Partial<PlannedResource> = {},
): PlannedResource {
  return {
    urn: urnOf(type, name),
    type,
    name,
    props,
    cluster: "hub",
    provider: HUB_PROVIDER,
    opts: {},
    ...overrides,
  };
}

export type ContainerFixture = {
  name: string;
  image: string;
  securityContext: Record<string, unknown>;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  env?: Array<{ name: string; value?: unknown; valueFrom?: unknown }>;
  ports?: Array<{ containerPort: number; hostPort?: number }>;
  args?: string[];
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
};

export type PodSpecFixture = {
  serviceAccountName: string;
  automountServiceAccountToken?: boolean;
  securityContext: Record<string, unknown>;
  initContainers: ContainerFixture[];
  containers: ContainerFixture[];
  volumes: Array<Record<string, unknown>>;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  restartPolicy?: string;
};

export type PodTemplateFixture = {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpecFixture;
};

export type WorkloadFixture = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: PodTemplateFixture;
  };
};

export function hardenedContainer(name: string, image: string): ContainerFixture {
  return {
    name,
    image,
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    livenessProbe: { httpGet: { path: "/health", port: 443, scheme: "HTTPS" }, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: "/health", port: 443, scheme: "HTTPS" }, periodSeconds: 5 },
    ports: [{ containerPort: 8443 }],
  };
}

/** A hardened pod: restricted-profile securityContext, requests/limits, probes, pinned images. */
export function hardenedPodTemplate(labels: Record<string, string>): PodTemplateFixture {
  const seedFetch = hardenedContainer("seed-fetch", "cyberark/dap-seedfetcher:0.6.5");
  delete seedFetch.livenessProbe;
  delete seedFetch.readinessProbe;
  return {
    metadata: { labels },
    spec: {
      serviceAccountName: "conjur-follower",
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        fsGroup: 10001,
        seccompProfile: { type: "RuntimeDefault" },
      },
      initContainers: [seedFetch],
      containers: [hardenedContainer("follower", "cyberark/conjur-appliance:13.5.0")],
      volumes: [
        { name: "seed", emptyDir: { medium: "Memory" } },
        { name: "conjur-ca", configMap: { name: "conjur-ca" } },
        { name: "follower-tls", secret: { secretName: "conjur-follower-tls" } },
      ],
    },
  };
}

export function followerWorkload(
  mutate: (workload: WorkloadFixture) => void = () => undefined,
): WorkloadFixture {
  const labels = { "app.kubernetes.io/name": "conjur-follower", "app.kubernetes.io/part-of": "hubspoke" };
  const workload: WorkloadFixture = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "conjur-follower", namespace: "conjur-system", labels },
    spec: { replicas: 2, selector: { matchLabels: labels }, template: hardenedPodTemplate(labels) },
  };
  mutate(workload);
  return workload;
}

/** The spoke's follower Deployment, hardened; `mutate` changes one thing to make a test fail. */
export function followerDeployment(mutate?: (workload: WorkloadFixture) => void): PlannedResource {
  return planned("kubernetes:apps/v1:Deployment", "spoke-east-follower", followerWorkload(mutate), {
    cluster: "spoke-east",
    provider: SPOKE_PROVIDER,
  });
}

/** Shortcuts into the follower pod for one-field mutations. */
export function followerPod(
  mutate: (pod: PodSpecFixture, follower: ContainerFixture, seedFetch: ContainerFixture) => void,
): PlannedResource {
  return followerDeployment((workload) => {
    const pod = workload.spec.template.spec;
    mutate(pod, pod.containers[0], pod.initContainers[0]);
  });
}

/** Fluent Bit as the observability area deploys it: root, hostPath log mounts, otherwise restricted. */
export function fluentBitDaemonSet(
  namespace = "hubspoke-logging",
  mutate?: (pod: PodSpecFixture) => void,
): PlannedResource {
  const labels = { "app.kubernetes.io/name": "fluent-bit" };
  const container = hardenedContainer("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.2.4");
  container.securityContext = {
    runAsNonRoot: false,
    runAsUser: 0,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  };
  container.volumeMounts = [
    { name: "varlog", mountPath: "/var/log", readOnly: true },
    { name: "state", mountPath: "/var/fluent-bit/state" },
  ];
  const pod: PodSpecFixture = {
    serviceAccountName: "fluent-bit",
    automountServiceAccountToken: true,
    securityContext: { seccompProfile: { type: "RuntimeDefault" } },
    initContainers: [],
    containers: [container],
    volumes: [
      { name: "varlog", hostPath: { path: "/var/log" } },
      { name: "state", hostPath: { path: "/var/fluent-bit/state", type: "DirectoryOrCreate" } },
      { name: "config", configMap: { name: "fluent-bit-config" } },
    ],
  };
  mutate?.(pod);
  return planned(
    "kubernetes:apps/v1:DaemonSet",
    `spoke-east-fluent-bit-${namespace}`,
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "fluent-bit", namespace, labels },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels, annotations: { "hubspoke.io/calls-kube-api": "true" } }, spec: pod },
      },
    },
    { cluster: "spoke-east", provider: SPOKE_PROVIDER },
  );
}

export function configMap(
  name: string,
  data: Record<string, unknown>,
  namespace = "conjur-system",
): PlannedResource {
  return planned("kubernetes:core/v1:ConfigMap", `hub-${name}`, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace },
    data,
  });
}

export function namespace(name: string, overrides: Partial<PlannedResource> = {}): PlannedResource {
  return planned(
    "kubernetes:core/v1:Namespace",
    `hub-ns-${name}`,
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "v1.30",
        },
      },
    },
    overrides,
  );
}

export function defaultDenyPolicy(
  namespaceName: string,
  spec?: Record<string, unknown>,
  overrides: Partial<PlannedResource> = {},
): PlannedResource {
  return planned(
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    `hub-${namespaceName}-default-deny`,
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny", namespace: namespaceName },
      spec: spec ?? { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    overrides,
  );
}

/** A Pulumi secret as the mock runtime serialises it into recorded inputs. */
export function wrappedSecret(value: unknown): Record<string, unknown> {
  return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}
