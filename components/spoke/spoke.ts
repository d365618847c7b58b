// ConjurSpoke: one converted workload cluster, shaped by the Conjur edition (docs/architecture.md,
// "Conjur topology"). Every spoke gives Conjur what it needs to check the cluster's service-account
// tokens (authn-jwt/<spoke>) and gives its onboarded tenants a connection ConfigMap. Enterprise spokes
// also run a follower that seeds and replicates from the Leader (followers.ts); Open Source spokes
// have none: their applications authenticate to the hub directly.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { FollowerSpec, LeaderSpec, SpokeSpec, StackSpec } from "../../stacks/spec";
import { conjurClientEndpoint, leaderCaPem } from "../../stacks/spec";
import { Tenant, TenantConjurAccess } from "../tenancy";
import { conjurEgressRule } from "../tenancy/isolation";
import { JwtKeySource } from "../conjur/authn-jwt";
import {
  apiServerJwksUri,
  eksJwksUri,
  KUBEADM_ISSUER,
  needsIssuerDiscoveryBinding,
  spokeJwtKeySource,
} from "../conjur/cluster-jwt";
import { conjurConnectData } from "../conjur/connect";
import { esoFollowerIngress } from "../eso/documents";
import { authenticatorClusterRole, managedNamespace, networkPolicyFactory } from "../namespace";
import {
  defaultDenySpec,
  dnsEgressRule,
  ipBlocks,
  kubeApiEgressRule,
  namespaceSelectorFor,
  tcpPorts,
} from "../kube";
import {
  CONJUR_NAMESPACE,
  FOLLOWER_DEPLOYMENT,
  FOLLOWER_SERVICE,
  FOLLOWER_SERVICE_ACCOUNT,
  HTTPS_PORT,
  LABEL_NAMESPACE_NAME,
  MONITORING_NAMESPACE,
  selectorLabels,
  workloadLabels,
} from "../naming";
import {
  applianceFollowerPodSpec,
  conjurFollowerSpec,
  FOLLOWER_CONFIG,
  FOLLOWER_POD_HTTPS_PORT,
  followerConfigYaml,
  LEADER_PORTS,
} from "./followers";

/** What the program knows about the spoke's cluster connection. */
export interface SpokeClusterInfo {
  /** API server URL (from the spec, or discovered for EKS). */
  readonly apiServer?: pulumi.Input<string>;
  /** EKS: the cluster's OIDC issuer. */
  readonly oidcIssuer?: pulumi.Input<string>;
}

export interface ConjurSpokeArgs {
  /** The validated stack spec (account, images, hub, edition). */
  readonly spec: StackSpec;
  /** This spoke, as the spec declares it (converted). */
  readonly spoke: SpokeSpec;
  /** Provider of the spoke's cluster. */
  readonly provider: k8s.Provider;
  readonly cluster: SpokeClusterInfo;
  /** The estate root CA (public): it signs the hub's certificate and an in-hub Leader's. */
  readonly caCertPem: pulumi.Input<string>;
}

/** What the Conjur server needs to configure authn-jwt/<spoke> (public values). */
export interface SpokeJwtAuthenticator {
  readonly id: string;
  readonly keys: JwtKeySource;
  readonly issuer: pulumi.Input<string>;
  /** With keys jwks-uri. */
  readonly jwksUri?: pulumi.Input<string>;
  /** With keys public-keys: the JWKS document. */
  readonly publicKeys?: string;
  /** With a jwks-uri served under the cluster's own CA. */
  readonly caCert?: pulumi.Input<string>;
}

/** The follower's ingress peers: tenants onboarded to Conjur, by the immutable namespace name label. */
export function onboardedTenantPeers(spoke: SpokeSpec) {
  const names = spoke.tenants.filter((t) => t.stage.onboarding.conjur).map((t) => t.name);
  if (names.length === 0) return [];
  return [
    {
      namespaceSelector: { matchExpressions: [{ key: LABEL_NAMESPACE_NAME, operator: "In", values: names }] },
    },
  ];
}

/** The Leader's addresses for the follower's egress (any address when unknown; ports still limited). */
function leaderCidrs(leader: LeaderSpec): readonly string[] {
  return leader.cidrs.length ? leader.cidrs : ["0.0.0.0/0"];
}

type K8sOpts = { parent: pulumi.Resource; provider: k8s.Provider };

export class ConjurSpoke extends pulumi.ComponentResource {
  /** The Conjur URL this spoke's applications use: the local follower, or the hub. */
  public readonly conjurUrl: pulumi.Output<string>;
  /** Enterprise: the follower's unauthenticated health endpoint (in-cluster). */
  public readonly followerHealthUrl?: pulumi.Output<string>;
  /** How Conjur checks this cluster's service-account tokens. */
  public readonly jwt: SpokeJwtAuthenticator;

  constructor(name: string, args: ConjurSpokeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:spoke:ConjurSpoke", name, {}, opts);
    const { spec, spoke } = args;
    const k8sOpts: K8sOpts = { parent: this, provider: args.provider };

    this.jwt = this.tokenIssuer(name, args, k8sOpts);
    const conjur = spec.conjur;
    const access =
      conjur.edition === "enterprise"
        ? this.follower(name, args, conjur.leader, conjur.follower, k8sOpts)
        : this.hubAccess(name, args, k8sOpts);
    const tenants = spoke.tenants.map(
      (tenant) =>
        new Tenant(
          `${name}-tenant-${tenant.name}`,
          { tenant, provider: args.provider, conjur: access },
          { parent: this },
        ),
    );

    this.conjurUrl = pulumi.output(conjurClientEndpoint(spec, spoke).url);
    if (conjur.edition === "enterprise") this.followerHealthUrl = this.conjurUrl.apply((u) => `${u}/health`);
    this.registerOutputs({ conjurUrl: this.conjurUrl, tenants: tenants.map((t) => t.namespace) });
  }

  /**
   * The token issuer and where its keys are. Off EKS, without keys in config, Conjur fetches the
   * API server's JWKS anonymously: Kubernetes serves the discovery endpoints to authenticated users
   * only by default, so the stack binds `system:service-account-issuer-discovery` (the keys are
   * public; kubernetes.io "Service account issuer discovery").
   */
  private tokenIssuer(name: string, args: ConjurSpokeArgs, opts: K8sOpts): SpokeJwtAuthenticator {
    const { spoke, cluster } = args;
    const onEks = cluster.oidcIssuer !== undefined;
    const keys = spokeJwtKeySource(spoke, onEks);
    const issuer = spoke.jwt.issuer ?? cluster.oidcIssuer ?? KUBEADM_ISSUER;
    if (keys.kind === "public-keys")
      return { id: spoke.name, keys, issuer, publicKeys: spoke.jwt.publicKeys };
    if (needsIssuerDiscoveryBinding(spoke, onEks)) {
      new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-issuer-discovery`,
        {
          metadata: {
            name: "hubspoke-service-account-issuer-discovery",
            labels: workloadLabels("conjur-authn-jwt", "rbac"),
          },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: "system:service-account-issuer-discovery",
          },
          subjects: [
            { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:unauthenticated" },
          ],
        },
        opts,
      );
      const clusterCa = k8s.core.v1.ConfigMap.get(
        `${name}-cluster-ca-read`,
        "kube-system/kube-root-ca.crt",
        opts,
      );
      return {
        id: spoke.name,
        keys,
        issuer,
        jwksUri: pulumi.output(cluster.apiServer ?? "").apply(apiServerJwksUri),
        caCert: clusterCa.data.apply((d) => d?.["ca.crt"] ?? ""),
      };
    }
    const jwksUri = spoke.jwt.jwksUri ?? pulumi.output(issuer).apply(eksJwksUri);
    return { id: spoke.name, keys, issuer, jwksUri };
  }

  /**
   * Open Source: no follower; applications reach the hub's Conjur with authn-jwt. The stack's
   * namespace still exists, empty but for the cluster's audit policy (ClusterAudit), denying all traffic.
   */
  private hubAccess(name: string, args: ConjurSpokeArgs, k8sOpts: K8sOpts): TenantConjurAccess {
    const { opts: nsOpts, meta } = managedNamespace(
      `${name}-namespace`,
      { name: CONJUR_NAMESPACE, podSecurity: "restricted" },
      k8sOpts,
    );
    networkPolicyFactory(`${name}-netpol`, meta, nsOpts)("default-deny", "default-deny", defaultDenySpec());
    return {
      connect: conjurConnectData(args.spec, args.spoke, args.caCertPem),
      egress: conjurEgressRule(args.spec),
    };
  }

  /** Enterprise: the follower, its namespace, RBAC and NetworkPolicies. */
  private follower(
    name: string,
    args: ConjurSpokeArgs,
    leader: LeaderSpec,
    follower: FollowerSpec,
    k8sOpts: K8sOpts,
  ): TenantConjurAccess {
    const { spec, spoke } = args;
    // Followers serve the certificate the Leader issued them: its CA is what tenants trust.
    const leaderCa = leaderCaPem(leader, args.caCertPem);
    const {
      resource: namespace,
      opts: nsOpts,
      meta,
    } = managedNamespace(
      `${name}-namespace`,
      // The appliance runs as root with AUDIT_WRITE: baseline is the strictest level it can meet.
      { name: CONJUR_NAMESPACE, podSecurity: follower.kind === "appliance" ? "baseline" : "restricted" },
      k8sOpts,
    );
    const connect = new k8s.core.v1.ConfigMap(
      `${name}-connect`,
      {
        metadata: meta(FOLLOWER_CONFIG.connectConfigMap, "follower"),
        data: { [FOLLOWER_CONFIG.caKey]: leaderCa, CONJUR_ACCOUNT: spec.conjurAccount },
      },
      nsOpts,
    );
    // The follower serves authn-k8s/<spoke> for this cluster's pods: read and exec rights, bound per tenant.
    const authenticatorRole = authenticatorClusterRole(`${name}-authenticator-role`, k8sOpts);
    const workloadOpts = { ...nsOpts, dependsOn: [namespace, connect] };
    if (follower.kind === "kubernetes") {
      this.kubernetesFollower(name, args, leader, follower, meta, nsOpts, workloadOpts);
    } else {
      this.applianceFollower(name, args, leader, meta, nsOpts, workloadOpts);
    }
    const esoIngress = esoFollowerIngress(
      spec.externalSecrets,
      spoke,
      FOLLOWER_POD_HTTPS_PORT[follower.kind],
    );
    this.followerNetworkPolicies(name, spoke, leader, follower, esoIngress, meta, nsOpts);
    return {
      connect: conjurConnectData(spec, spoke, leaderCa),
      egress: conjurEgressRule(spec),
      authenticator: { role: authenticatorRole.metadata.name, serviceAccount: FOLLOWER_SERVICE_ACCOUNT },
    };
  }

  /** The Kubernetes Follower: its conjur.yml and the ConjurFollower the operator reconciles. */
  private kubernetesFollower(
    name: string,
    args: ConjurSpokeArgs,
    leader: LeaderSpec,
    follower: Extract<FollowerSpec, { kind: "kubernetes" }>,
    meta: (objectName: string, component: string) => k8s.types.input.meta.v1.ObjectMeta,
    nsOpts: pulumi.CustomResourceOptions,
    workloadOpts: pulumi.CustomResourceOptions,
  ): void {
    const config = new k8s.core.v1.ConfigMap(
      `${name}-follower-config`,
      {
        metadata: meta(FOLLOWER_CONFIG.configConfigMap, "follower"),
        data: { [FOLLOWER_CONFIG.configKey]: followerConfigYaml(args.spoke.name) },
      },
      nsOpts,
    );
    new k8s.apiextensions.CustomResource(
      `${name}-follower`,
      {
        apiVersion: "conjur.cyberark.com/v1",
        kind: "ConjurFollower",
        metadata: meta(FOLLOWER_DEPLOYMENT, "follower"),
        spec: conjurFollowerSpec(args.spec, args.spoke, leader, follower.images, CONJUR_NAMESPACE),
      },
      { ...workloadOpts, dependsOn: [...(workloadOpts.dependsOn as pulumi.Resource[]), config] },
    );
  }

  /** The appliance follower: ServiceAccount, Deployment, PodDisruptionBudget and Service. */
  private applianceFollower(
    name: string,
    args: ConjurSpokeArgs,
    leader: LeaderSpec,
    meta: (objectName: string, component: string) => k8s.types.input.meta.v1.ObjectMeta,
    nsOpts: pulumi.CustomResourceOptions,
    workloadOpts: pulumi.CustomResourceOptions,
  ): void {
    const { spec, spoke } = args;
    const image = spec.images.appliance;
    if (image === undefined) throw new Error("internal: appliance follower without images.appliance");
    new k8s.core.v1.ServiceAccount(
      `${name}-follower-sa`,
      { metadata: meta(FOLLOWER_SERVICE_ACCOUNT, "follower"), automountServiceAccountToken: true },
      nsOpts,
    );
    const selector = selectorLabels(FOLLOWER_DEPLOYMENT);
    new k8s.apps.v1.Deployment(
      `${name}-follower`,
      {
        metadata: meta(FOLLOWER_DEPLOYMENT, "follower"),
        spec: {
          replicas: spoke.follower.replicas,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels: workloadLabels(FOLLOWER_DEPLOYMENT, "follower"),
              annotations: { "hubspoke.io/calls-kube-api": "true" },
            },
            spec: applianceFollowerPodSpec(spec, spoke, leader, image),
          },
        },
      },
      workloadOpts,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-follower-pdb`,
      {
        metadata: meta(FOLLOWER_DEPLOYMENT, "follower"),
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
      },
      nsOpts,
    );
    new k8s.core.v1.Service(
      `${name}-follower-service`,
      {
        metadata: meta(FOLLOWER_SERVICE, "follower"),
        spec: {
          type: "ClusterIP",
          selector,
          ports: [
            { name: "https", port: HTTPS_PORT, targetPort: "https", protocol: "TCP" },
            { name: "ldaps", port: LEADER_PORTS.ldaps, targetPort: "ldaps", protocol: "TCP" },
          ],
        },
      },
      nsOpts,
    );
  }

  /**
   * Deny by default; the follower's pods (everything in conjur-system) admit onboarded tenants and
   * the stack's Prometheus on their HTTPS port, and reach the Leader on 443, 5432 and 1999, DNS and
   * this cluster's API (authn-k8s).
   */
  private followerNetworkPolicies(
    name: string,
    spoke: SpokeSpec,
    leader: LeaderSpec,
    follower: FollowerSpec,
    /** Extra ingress: External Secrets' controller when a tenant of the spoke uses it. */
    esoIngress: readonly k8s.types.input.networking.v1.NetworkPolicyIngressRule[],
    meta: (objectName: string, component: string) => k8s.types.input.meta.v1.ObjectMeta,
    nsOpts: pulumi.CustomResourceOptions,
  ): void {
    const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
    netpol("default-deny", "default-deny", defaultDenySpec());
    netpol("follower", FOLLOWER_SERVICE, {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            ...onboardedTenantPeers(spoke),
            { namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE) },
          ],
          ports: tcpPorts(FOLLOWER_POD_HTTPS_PORT[follower.kind]),
        },
        // Follower pods among themselves (replicas, and the operator's containers across pods).
        { from: [{ podSelector: {} }] },
        ...esoIngress,
      ],
      egress: [
        { to: [{ podSelector: {} }] },
        {
          to: ipBlocks(leaderCidrs(leader)),
          ports: tcpPorts(LEADER_PORTS.https, LEADER_PORTS.postgres, LEADER_PORTS.audit),
        },
        dnsEgressRule(),
        kubeApiEgressRule(),
      ],
    });
  }
}
