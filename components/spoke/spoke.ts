// ConjurSpoke: one converted workload cluster. A Conjur follower fed by seed fetch from the hub's
// primary, the authenticator's RBAC, the tenants the cluster hosts, a dedicated identity for the
// hub's Conjur to check this cluster's pods, and NetworkPolicies around it all.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { SpokeSpec, StackSpec } from "../../stacks/spec";
import type { SpokeTrust } from "../pki";
import type { SpokeClusterAccess } from "../hub";
import { Tenant } from "../tenancy";
import { AUTHENTICATOR_CONTAINER, followerLogin, primaryUrl, seedFileUrl } from "../conjur/ids";
import { managedNamespace, networkPolicyFactory } from "../namespace";
import {
  authenticatorRbacRules,
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
  FOLLOWER_DEPLOYMENT,
  FOLLOWER_HTTPS_PORT,
  FOLLOWER_SERVICE,
  FOLLOWER_SERVICE_ACCOUNT,
  HTTPS_PORT,
  LABEL_NAMESPACE_NAME,
  MONITORING_NAMESPACE,
  selectorLabels,
  serviceDnsNames,
  workloadLabels,
} from "../naming";

export interface ConjurSpokeArgs {
  /** The validated stack spec (account, images, hub). */
  readonly spec: StackSpec;
  /** This spoke, as the spec declares it (converted). */
  readonly spoke: SpokeSpec;
  /** Provider of the spoke's cluster. */
  readonly provider: k8s.Provider;
  /** This spoke's certificates. */
  readonly trust: SpokeTrust;
  /** The estate root CA (public): trusted for the primary's certificate. */
  readonly caCertPem: pulumi.Input<string>;
  /** The Conjur data key (secret): followers hold the same value as the primary. */
  readonly dataKey: pulumi.Input<string>;
  /** The spoke cluster's API URL as the hub reaches it. */
  readonly apiServer: pulumi.Input<string>;
}

export const SEEDFILE_DIR = "/tmp/seedfile";
export const FOLLOWER_LDAPS_PORT = 636;
export const HUB_ACCESS_SERVICE_ACCOUNT = "conjur-hub-authenticator";
/** Runs as a non-root uid; the appliance image must support it (see docs/conversion.md). */
const FOLLOWER_UID = 1000;
const SEED_FETCHER_UID = 1000;

/** The seed-fetch init container's environment, exactly as cyberark/dap-seedfetcher reads it. */
export function seedFetchEnv(
  spec: StackSpec,
  spoke: SpokeSpec,
  configMapName: string,
): k8s.types.input.core.v1.EnvVar[] {
  const fromField = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return [
    { name: "CONJUR_SEED_FILE_URL", value: seedFileUrl(spec.hub.advertisedHostname, spec.conjurAccount) },
    { name: "SEEDFILE_DIR", value: SEEDFILE_DIR },
    { name: "FOLLOWER_HOSTNAME", value: FOLLOWER_SERVICE },
    { name: "AUTHENTICATOR_ID", value: spoke.name },
    { name: "CONJUR_ACCOUNT", value: spec.conjurAccount },
    {
      name: "CONJUR_SSL_CERTIFICATE",
      valueFrom: { configMapKeyRef: { name: configMapName, key: "conjur-ca.pem" } },
    },
    { name: "CONJUR_AUTHN_LOGIN", value: followerLogin(spoke.name) },
    fromField("MY_POD_NAME", "metadata.name"),
    fromField("MY_POD_NAMESPACE", "metadata.namespace"),
    fromField("MY_POD_IP", "status.podIP"),
  ];
}

/** The follower's ingress peers for tenants onboarded to Conjur, selected by the immutable namespace name label. */
export function onboardedTenantPeers(spoke: SpokeSpec) {
  const names = spoke.tenants.filter((t) => t.stage.onboarding.conjur).map((t) => t.name);
  if (names.length === 0) return [];
  return [
    {
      namespaceSelector: { matchExpressions: [{ key: LABEL_NAMESPACE_NAME, operator: "In", values: names }] },
    },
  ];
}

export class ConjurSpoke extends pulumi.ComponentResource {
  /** Name of the follower Service (equal to FOLLOWER_HOSTNAME). */
  public readonly followerServiceName: pulumi.Output<string>;
  /** In-cluster HTTPS URL of the follower, for applications. */
  public readonly followerUrl: pulumi.Output<string>;
  /** The follower's unauthenticated health endpoint (in-cluster). */
  public readonly followerHealthUrl: pulumi.Output<string>;
  /** What the hub's Conjur needs to check this cluster's pods (token secret). */
  public readonly hubAccess: SpokeClusterAccess;

  constructor(name: string, args: ConjurSpokeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:spoke:ConjurSpoke", name, {}, opts);
    const { spec, spoke, trust } = args;
    const k8sOpts = { parent: this, provider: args.provider };
    const ns = CONJUR_NAMESPACE;

    const {
      resource: namespace,
      opts: nsOpts,
      meta,
    } = managedNamespace(`${name}-namespace`, { name: ns, podSecurity: "restricted" }, k8sOpts);

    // ---- What the follower needs to find and trust the primary (public) ----
    const connect = new k8s.core.v1.ConfigMap(
      `${name}-connect`,
      {
        metadata: meta("conjur-connect", "follower"),
        data: {
          CONJUR_APPLIANCE_URL: primaryUrl(spec.hub.advertisedHostname),
          CONJUR_ACCOUNT: spec.conjurAccount,
          AUTHENTICATOR_ID: spoke.name,
          CONJUR_SEED_FILE_URL: seedFileUrl(spec.hub.advertisedHostname, spec.conjurAccount),
          FOLLOWER_URL: `https://${serviceDnsNames(FOLLOWER_SERVICE, ns)[3]}`,
          "conjur-ca.pem": args.caCertPem,
        },
      },
      nsOpts,
    );
    new k8s.core.v1.Secret(
      `${name}-data-key`,
      {
        metadata: meta("conjur-data-key", "follower"),
        type: "Opaque",
        stringData: { key: pulumi.secret(args.dataKey) },
      },
      nsOpts,
    );
    const followerTls = new k8s.core.v1.Secret(
      `${name}-follower-tls`,
      {
        metadata: meta("conjur-follower-tls", "follower"),
        type: "kubernetes.io/tls",
        stringData: tlsSecretData(trust.followerServer, trust.followerServer.caCertPem),
      },
      nsOpts,
    );

    // ---- Identities and RBAC ----
    const authenticatorRole = new k8s.rbac.v1.ClusterRole(
      `${name}-authenticator-role`,
      {
        metadata: {
          name: "hubspoke-conjur-authenticator",
          labels: workloadLabels("conjur-authenticator", "rbac"),
        },
        rules: authenticatorRbacRules(),
      },
      k8sOpts,
    );
    // The follower runs authn-k8s for this cluster's applications, so it reads the local API.
    const followerSa = new k8s.core.v1.ServiceAccount(
      `${name}-follower-sa`,
      { metadata: meta(FOLLOWER_SERVICE_ACCOUNT, "follower"), automountServiceAccountToken: true },
      nsOpts,
    );
    // The primary authenticates the follower's seed fetch from the hub, with this identity's token.
    const hubSa = new k8s.core.v1.ServiceAccount(
      `${name}-hub-access-sa`,
      { metadata: meta(HUB_ACCESS_SERVICE_ACCOUNT, "hub-access"), automountServiceAccountToken: false },
      nsOpts,
    );
    const hubTokenSecret = new k8s.core.v1.Secret(
      `${name}-hub-access-token`,
      {
        metadata: {
          ...meta(`${HUB_ACCESS_SERVICE_ACCOUNT}-token`, "hub-access"),
          annotations: { "kubernetes.io/service-account.name": HUB_ACCESS_SERVICE_ACCOUNT },
        },
        // Kubernetes 1.24+ creates no token for a ServiceAccount; this type asks the controller for a long-lived one.
        type: "kubernetes.io/service-account-token",
      },
      { ...nsOpts, dependsOn: [namespace, hubSa] },
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-hub-access-binding`,
      {
        metadata: meta("conjur-hub-authenticator", "rbac"),
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: authenticatorRole.metadata.name,
        },
        subjects: [{ kind: "ServiceAccount", name: hubSa.metadata.name, namespace: ns }],
      },
      nsOpts,
    );
    // The controller fills the token after creation: read the Secret back to get it.
    const tokenRead = k8s.core.v1.Secret.get(
      `${name}-hub-access-token-read`,
      pulumi.interpolate`${ns}/${hubTokenSecret.metadata.name}`,
      {
        ...k8sOpts,
        dependsOn: [hubTokenSecret],
      },
    );
    const clusterCa = k8s.core.v1.ConfigMap.get(
      `${name}-cluster-ca-read`,
      "kube-system/kube-root-ca.crt",
      k8sOpts,
    );

    // ---- Tenants ----
    const tenants = spoke.tenants.map(
      (tenant) =>
        new Tenant(
          `${name}-tenant-${tenant.name}`,
          {
            tenant,
            provider: args.provider,
            authenticatorRole: authenticatorRole.metadata.name,
            followerServiceAccount: followerSa.metadata.name,
          },
          { parent: this },
        ),
    );

    // ---- The follower ----
    const followerLabels = workloadLabels(FOLLOWER_DEPLOYMENT, "follower");
    const healthProbe = { httpGet: { path: "/health", port: "https", scheme: "HTTPS" } };
    new k8s.apps.v1.Deployment(
      `${name}-follower`,
      {
        metadata: meta(FOLLOWER_DEPLOYMENT, "follower"),
        spec: {
          replicas: spoke.follower.replicas,
          selector: { matchLabels: selectorLabels(FOLLOWER_DEPLOYMENT) },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels: followerLabels, annotations: { "hubspoke.io/calls-kube-api": "true" } },
            spec: {
              serviceAccountName: followerSa.metadata.name,
              automountServiceAccountToken: true,
              securityContext: {
                ...restrictedPodSecurityContext(FOLLOWER_UID, FOLLOWER_UID),
                // A non-root follower with no capabilities binds 443 and 636 through this safe sysctl.
                sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
              },
              affinity: preferredAntiAffinity(selectorLabels(FOLLOWER_DEPLOYMENT)),
              initContainers: [
                {
                  // authn-k8s finds the authenticating container by this name (its default).
                  name: AUTHENTICATOR_CONTAINER,
                  image: spec.images.seedFetcher,
                  env: seedFetchEnv(spec, spoke, "conjur-connect"),
                  resources: resourceRequirements({
                    cpuRequest: "50m",
                    memoryRequest: "64Mi",
                    cpuLimit: "500m",
                    memoryLimit: "256Mi",
                  }),
                  securityContext: { ...restrictedContainerSecurityContext(), runAsUser: SEED_FETCHER_UID },
                  volumeMounts: [
                    { name: "seedfile", mountPath: SEEDFILE_DIR },
                    { name: "seed-tmp", mountPath: "/tmp/seed-work" },
                  ],
                },
              ],
              containers: [
                {
                  name: "conjur-follower",
                  image: spec.images.follower,
                  env: [
                    { name: "SEEDFILE_DIR", value: SEEDFILE_DIR },
                    { name: "CONJUR_AUTHENTICATORS", value: `authn-k8s/${spoke.name}` },
                    { name: "CONJUR_TELEMETRY_ENABLED", value: "true" },
                  ],
                  ports: [
                    { name: "https", containerPort: FOLLOWER_HTTPS_PORT },
                    { name: "ldaps", containerPort: FOLLOWER_LDAPS_PORT },
                  ],
                  readinessProbe: {
                    ...healthProbe,
                    initialDelaySeconds: 10,
                    periodSeconds: 10,
                    timeoutSeconds: 5,
                  },
                  livenessProbe: {
                    ...healthProbe,
                    initialDelaySeconds: 120,
                    periodSeconds: 20,
                    timeoutSeconds: 5,
                    failureThreshold: 6,
                  },
                  resources: resourceRequirements(spoke.follower.resources),
                  // The appliance unpacks the seed and writes its configuration under its own tree.
                  securityContext: restrictedContainerSecurityContext({ readOnlyRootFilesystem: false }),
                  volumeMounts: [
                    { name: "seedfile", mountPath: SEEDFILE_DIR },
                    { name: "follower-tls", mountPath: "/etc/conjur/tls", readOnly: true },
                  ],
                },
              ],
              volumes: [
                // The seed holds key material: keep it in memory, shared by the two containers only.
                emptyDirVolume("seedfile", { memory: true, sizeLimit: "32Mi" }),
                emptyDirVolume("seed-tmp", { memory: true, sizeLimit: "32Mi" }),
                { name: "follower-tls", secret: { secretName: followerTls.metadata.name } },
              ],
            },
          },
        },
      },
      { ...nsOpts, dependsOn: [namespace, connect] },
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-follower-pdb`,
      {
        metadata: meta(FOLLOWER_DEPLOYMENT, "follower"),
        // One pod at a time; with a single replica this still lets node drains proceed.
        spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(FOLLOWER_DEPLOYMENT) } },
      },
      nsOpts,
    );
    new k8s.core.v1.Service(
      `${name}-follower-service`,
      {
        metadata: meta(FOLLOWER_SERVICE, "follower"),
        spec: {
          type: "ClusterIP",
          selector: selectorLabels(FOLLOWER_DEPLOYMENT),
          ports: [
            { name: "https", port: HTTPS_PORT, targetPort: "https", protocol: "TCP" },
            { name: "ldaps", port: FOLLOWER_LDAPS_PORT, targetPort: "ldaps", protocol: "TCP" },
          ],
        },
      },
      nsOpts,
    );

    // ---- NetworkPolicies ----
    const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
    netpol("default-deny", "default-deny", defaultDenySpec());
    const primaryTargets = spec.hub.primaryCidrs.length ? spec.hub.primaryCidrs : ["0.0.0.0/0"];
    netpol("follower", FOLLOWER_SERVICE, {
      podSelector: { matchLabels: selectorLabels(FOLLOWER_DEPLOYMENT) },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          // Applications in the tenants onboarded to Conjur, by namespace name (a label any namespace
          // editor could set would admit anyone), and the monitoring namespace for /metrics.
          from: [
            ...onboardedTenantPeers(spoke),
            { namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE) },
          ],
          ports: tcpPorts(FOLLOWER_HTTPS_PORT, FOLLOWER_LDAPS_PORT),
        },
      ],
      egress: [
        { to: ipBlocks(primaryTargets), ports: tcpPorts(HTTPS_PORT) },
        dnsEgressRule(),
        kubeApiEgressRule(),
      ],
    });

    const fqdn = serviceDnsNames(FOLLOWER_SERVICE, ns)[3];
    this.followerServiceName = pulumi.output(FOLLOWER_SERVICE);
    this.followerUrl = pulumi.output(`https://${fqdn}`);
    this.followerHealthUrl = pulumi.output(`https://${fqdn}/health`);
    this.hubAccess = {
      id: spoke.name,
      apiUrl: args.apiServer,
      caCert: clusterCa.data.apply((d) => d?.["ca.crt"] ?? ""),
      serviceAccountToken: pulumi.secret(
        tokenRead.data.apply((d) => Buffer.from(d?.["token"] ?? "", "base64").toString("utf8")),
      ),
    };
    this.registerOutputs({
      followerServiceName: this.followerServiceName,
      followerUrl: this.followerUrl,
      tenants: tenants.map((t) => t.namespace),
    });
  }
}
