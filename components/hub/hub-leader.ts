// The resource shell of a Conjur Enterprise Leader in the hub cluster (conjur.leader.placement: hub),
// as named steps: its secrets and PKI, its identities, the appliance StatefulSet with its Services,
// the configuration Job and the NetworkPolicies. Pure parts (names, pod, script): leader-documents.ts.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type { HubLeaderSpec, StackSpec } from "../../stacks/spec";
import { EstatePki, IssuedCertificate } from "../pki";
import { networkPolicyFactory } from "../namespace";
import {
  dnsEgressRule,
  emptyDirVolume,
  ipBlocks,
  JOB_RESOURCES,
  kubeApiEgressRule,
  preferredAntiAffinity,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tcpPorts,
} from "../kube";
import { CONJUR_NAMESPACE, HTTPS_PORT, selectorLabels, workloadLabels } from "../naming";
import { contentHash } from "./documents";
import {
  buildLeaderConfigureScript,
  configureScratchVolume,
  followerCertificateNames,
  LEADER_CONFIGURE,
  LEADER_EXTERNAL_SERVICE,
  LEADER_NODES_SERVICE,
  LEADER_PKI_FILES,
  LEADER_SERVED_PORTS,
  LEADER_SERVICE,
  LEADER_STATEFULSET,
  leaderDnsNames,
  leaderPodNames,
  leaderPodsLeaderFirst,
  leaderPodSpec,
} from "./leader-documents";
import type { HubContext, ServerAccess } from "./context";
import { CALLS_KUBE_API_ANNOTATION } from "../../policy/pod-security";

/** The non-root uid the configuration Job runs kubectl as (the image's own user is root). */
const KUBECTL_UID = 65532;
const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
/** The objects holding the generated admin password and the estate CA the policy load trusts. */
const HUB_LEADER_OBJECTS = { adminSecret: "conjur-admin", caConfigMap: "conjur-leader-ca" } as const;

export interface HubLeaderArgs {
  readonly spec: StackSpec;
  readonly leader: HubLeaderSpec;
  readonly pki: EstatePki;
  /** The appliance image (the cross-field rules require it for this placement). */
  readonly image: string;
}

/** The admin password (generated, kept) and the PKI the configuration Job imports. */
function leaderSecrets(ctx: HubContext, args: HubLeaderArgs) {
  const { name, meta, nsOpts } = ctx;
  const { spec, leader, pki } = args;
  const keep = { protect: spec.protectIrreplaceable };
  // evoke's rules for the admin password match Conjur's: 12-128 characters, two upper, two lower,
  // one digit, one special. Kept: the Leader is configured with it once.
  const password = new random.RandomPassword(
    `${name}-leader-admin-password`,
    { length: 32, minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2, overrideSpecial: "-_.~" },
    { parent: ctx.clusterOpts.parent, ...keep },
  );
  const admin = new k8s.core.v1.Secret(
    `${name}-admin`,
    {
      metadata: meta(HUB_LEADER_OBJECTS.adminSecret, "conjur"),
      type: "Opaque",
      stringData: { password: password.result },
    },
    { ...nsOpts, ...keep },
  );
  const validity = {
    validityHours: spec.certificates.validityHours,
    earlyRenewalHours: spec.certificates.earlyRenewalHours,
  };
  const issue = (role: string, dnsNames: string[]) =>
    new IssuedCertificate(
      `${name}-${role}-tls`,
      { ca: pki.rootCa, commonName: dnsNames[0] ?? role, dnsNames, use: "server", validity },
      { parent: ctx.clusterOpts.parent },
    );
  const leaderCert = issue("leader", leaderDnsNames(leader));
  const followerCert = issue(
    "leader-follower",
    followerCertificateNames(spec.spokes.filter((s) => s.converted)),
  );
  const f = LEADER_PKI_FILES;
  const pkiSecret = new k8s.core.v1.Secret(
    `${name}-leader-pki`,
    {
      metadata: meta("conjur-leader-pki", "conjur"),
      type: "Opaque",
      stringData: {
        [f.ca]: pki.caCertPem,
        [f.leaderCert]: leaderCert.certPem,
        [f.leaderKey]: leaderCert.keyPem,
        [f.followerCert]: followerCert.certPem,
        [f.followerKey]: followerCert.keyPem,
      },
    },
    nsOpts,
  );
  const ca = new k8s.core.v1.ConfigMap(
    `${name}-leader-ca`,
    { metadata: meta(HUB_LEADER_OBJECTS.caConfigMap, "conjur"), data: { "ca.crt": pki.caCertPem } },
    nsOpts,
  );
  return { admin, pkiSecret, ca, publicCerts: [pki.caCertPem, leaderCert.certPem, followerCert.certPem] };
}

/**
 * The appliance pods: a StatefulSet (pod 0 the Leader, then the Standbys) with one volume each, a
 * headless Service for their names, the Leader Service (pod 0 only) and, for the spokes, a
 * LoadBalancer open to their addresses only. Template changes never restart a pod on their own
 * (OnDelete): a new container has no database (docs/operations.md, "Upgrading the in-hub Leader").
 */
function leaderWorkload(ctx: HubContext, args: HubLeaderArgs) {
  const { name, meta, nsOpts } = ctx;
  const { spec, leader } = args;
  const keep = { protect: spec.protectIrreplaceable };
  const labels = workloadLabels(LEADER_STATEFULSET, "leader");
  const selector = selectorLabels(LEADER_STATEFULSET);
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    `${name}-leader-sa`,
    { metadata: meta(LEADER_STATEFULSET, "leader"), automountServiceAccountToken: false },
    nsOpts,
  );
  const ports = LEADER_SERVED_PORTS.map((port) => ({ name: `tcp-${port}`, port, targetPort: port }));
  new k8s.core.v1.Service(
    `${name}-leader-nodes`,
    {
      metadata: meta(LEADER_NODES_SERVICE, "leader"),
      spec: { clusterIP: "None", publishNotReadyAddresses: true, selector, ports },
    },
    nsOpts,
  );
  const statefulSet = new k8s.apps.v1.StatefulSet(
    `${name}-leader`,
    {
      metadata: { ...meta(LEADER_STATEFULSET, "leader"), labels },
      spec: {
        serviceName: LEADER_NODES_SERVICE,
        replicas: 1 + leader.standbys,
        podManagementPolicy: "Parallel",
        updateStrategy: { type: "OnDelete" },
        persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          // The Leader and its Standbys on different nodes where the cluster has them.
          spec: {
            ...leaderPodSpec(leader, args.image, LEADER_STATEFULSET),
            affinity: preferredAntiAffinity(selector),
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "state", labels },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(leader.storage.class ? { storageClassName: leader.storage.class } : {}),
              resources: { requests: { storage: leader.storage.size } },
            },
          },
        ],
      },
    },
    // The claim template is immutable once the StatefulSet exists; a size change is an operator task.
    { ...nsOpts, ...keep, dependsOn: [serviceAccount], ignoreChanges: ["spec.volumeClaimTemplates"] },
  );
  // No voluntary eviction (a node drain) may take an appliance pod: it would come back empty.
  new k8s.policy.v1.PodDisruptionBudget(
    `${name}-leader-pdb`,
    {
      metadata: meta(LEADER_STATEFULSET, "leader"),
      spec: { maxUnavailable: 0, selector: { matchLabels: selector } },
    },
    nsOpts,
  );
  const leaderPod = { [POD_NAME_LABEL]: leaderPodsLeaderFirst(leader)[0] ?? `${LEADER_STATEFULSET}-0` };
  new k8s.core.v1.Service(
    `${name}-leader-service`,
    { metadata: meta(LEADER_SERVICE, "leader"), spec: { type: "ClusterIP", selector: leaderPod, ports } },
    nsOpts,
  );
  const spokeSources = [...new Set(spec.spokes.flatMap((s) => s.egressCidrs))];
  if (spokeSources.length > 0) {
    new k8s.core.v1.Service(
      `${name}-leader-external`,
      {
        metadata: meta(LEADER_EXTERNAL_SERVICE, "leader"),
        spec: {
          type: "LoadBalancer",
          selector: leaderPod,
          ports,
          loadBalancerSourceRanges: spokeSources,
          externalTrafficPolicy: "Local",
        },
      },
      nsOpts,
    );
  }
  return { statefulSet, spokeSources };
}

/**
 * The configuration Job: its own ServiceAccount, allowed only to read and exec into the appliance
 * pods; the script from leader-documents.ts. Named after a hash of the script and the certificates,
 * so a new spoke's names or a renewed certificate run it again (and it imports only what changed).
 */
function leaderConfigureJob(
  ctx: HubContext,
  args: HubLeaderArgs,
  secrets: ReturnType<typeof leaderSecrets>,
  statefulSet: k8s.apps.v1.StatefulSet,
) {
  const { name, meta, nsOpts } = ctx;
  const { spec, leader } = args;
  const pods = leaderPodNames(leader);
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    `${name}-leader-configure-sa`,
    { metadata: meta(LEADER_CONFIGURE, "leader"), automountServiceAccountToken: false },
    nsOpts,
  );
  const role = new k8s.rbac.v1.Role(
    `${name}-leader-configure-role`,
    {
      metadata: meta(LEADER_CONFIGURE, "leader"),
      rules: [
        { apiGroups: [""], resources: ["pods"], resourceNames: pods, verbs: ["get"] },
        // kubectl exec: create (SPDY) and get (WebSocket upgrade), on these pods only.
        { apiGroups: [""], resources: ["pods/exec"], resourceNames: pods, verbs: ["create", "get"] },
      ],
    },
    nsOpts,
  );
  const binding = new k8s.rbac.v1.RoleBinding(
    `${name}-leader-configure-binding`,
    {
      metadata: meta(LEADER_CONFIGURE, "leader"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: CONJUR_NAMESPACE }],
    },
    nsOpts,
  );
  const script = buildLeaderConfigureScript({
    account: spec.conjurAccount,
    hostname: leader.hostname.replace(/:\d+$/, ""),
    altNames: leaderDnsNames(leader).slice(1),
    pods: leaderPodsLeaderFirst(leader),
    passwordFile: "/secrets/admin/password",
    pkiDir: "/secrets/pki",
    scratchDir: "/scratch",
  });
  const scriptMap = new k8s.core.v1.ConfigMap(
    `${name}-leader-configure`,
    { metadata: meta(LEADER_CONFIGURE, "leader"), data: { "configure.sh": script } },
    nsOpts,
  );
  const jobName = pulumi
    .all(secrets.publicCerts)
    .apply((certs) => `${LEADER_CONFIGURE}-${contentHash(script, ...certs)}`);
  return new k8s.batch.v1.Job(
    `${name}-leader-configure-job`,
    {
      metadata: { ...meta(LEADER_CONFIGURE, "leader"), name: jobName },
      spec: {
        backoffLimit: 2,
        template: {
          metadata: {
            labels: workloadLabels(LEADER_CONFIGURE, "leader"),
            annotations: { [CALLS_KUBE_API_ANNOTATION]: "true" },
          },
          spec: {
            restartPolicy: "Never",
            serviceAccountName: serviceAccount.metadata.name,
            // kubectl exec calls the API server with this token.
            automountServiceAccountToken: true,
            securityContext: restrictedPodSecurityContext(KUBECTL_UID),
            containers: [
              {
                name: "configure",
                image: spec.images.kubectl,
                command: ["/bin/sh", "/scripts/configure.sh"],
                env: [{ name: "HOME", value: "/scratch" }],
                resources: resourceRequirements(JOB_RESOURCES),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: "scripts", mountPath: "/scripts", readOnly: true },
                  { name: "admin", mountPath: "/secrets/admin", readOnly: true },
                  { name: "pki", mountPath: "/secrets/pki", readOnly: true },
                  { name: "scratch", mountPath: "/scratch" },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "scripts", configMap: { name: scriptMap.metadata.name } },
              { name: "admin", secret: { secretName: secrets.admin.metadata.name } },
              { name: "pki", secret: { secretName: secrets.pkiSecret.metadata.name } },
              configureScratchVolume(),
              emptyDirVolume("tmp"),
            ],
          },
        },
      },
    },
    { ...nsOpts, dependsOn: [statefulSet, binding] },
  );
}

/** Who reaches the appliance pods, on which ports, and where they and the Job may go. */
function leaderNetworkPolicies(ctx: HubContext, spokeSources: readonly string[]) {
  const { name, meta, nsOpts } = ctx;
  const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
  const appliancePods = { podSelector: { matchLabels: selectorLabels(LEADER_STATEFULSET) } };
  const served = tcpPorts(...LEADER_SERVED_PORTS);
  netpol("leader", LEADER_STATEFULSET, {
    podSelector: appliancePods.podSelector,
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      // Followers: seeds and API (443), replication (5432), audit forwarding (1999).
      ...(spokeSources.length > 0 ? [{ from: ipBlocks(spokeSources), ports: served }] : []),
      // Standbys replicate from the Leader (and a promoted Standby serves the others).
      { from: [appliancePods], ports: served },
      // The policy load speaks the API.
      {
        from: [{ podSelector: { matchLabels: selectorLabels("conjur-policy-load") } }],
        ports: tcpPorts(HTTPS_PORT),
      },
    ],
    egress: [
      { to: [appliancePods], ports: served },
      dnsEgressRule(),
      // authn-jwt/<spoke> fetches each spoke's JWKS (its API server or OIDC issuer) over 443.
      kubeApiEgressRule(),
    ],
  });
  netpol("leader-configure", LEADER_CONFIGURE, {
    podSelector: { matchLabels: selectorLabels(LEADER_CONFIGURE) },
    policyTypes: ["Ingress", "Egress"],
    ingress: [],
    // kubectl exec goes through the API server, never to the pods themselves.
    egress: [kubeApiEgressRule(), dnsEgressRule()],
  });
}

/**
 * How a policy-load Job in the hub's conjur-system reaches the in-hub Leader, by the names of the
 * objects `hubLeader` creates (the admin Secret and the CA ConfigMap): in-cluster, under the estate CA.
 */
export function hubLeaderAccess(): ServerAccess {
  return {
    serverUrl: `https://${LEADER_SERVICE}.${CONJUR_NAMESPACE}.svc`,
    serverCaVolume: { name: "ca", configMap: { name: HUB_LEADER_OBJECTS.caConfigMap } },
    adminSecretName: HUB_LEADER_OBJECTS.adminSecret,
    serverPeers: [{ podSelector: { matchLabels: selectorLabels(LEADER_STATEFULSET) } }],
    serverPort: HTTPS_PORT,
    dependsOn: [],
    enableThroughApi: true,
  };
}

/**
 * Conjur Enterprise with its Leader in the hub cluster: the named parts, then what the policy load
 * needs to reach it, after the configuration Job.
 */
export function hubLeader(ctx: HubContext, args: HubLeaderArgs): ServerAccess {
  const secrets = leaderSecrets(ctx, args);
  const { statefulSet, spokeSources } = leaderWorkload(ctx, args);
  const configure = leaderConfigureJob(ctx, args, secrets, statefulSet);
  leaderNetworkPolicies(ctx, spokeSources);
  // The same names, through the objects' outputs: the Jobs wait for them.
  return {
    ...hubLeaderAccess(),
    serverCaVolume: { name: "ca", configMap: { name: secrets.ca.metadata.name } },
    adminSecretName: secrets.admin.metadata.name,
    dependsOn: [configure],
  };
}
