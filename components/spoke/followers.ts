// Pure builders for a spoke's Conjur Enterprise follower, in the two forms CyberArk ships:
//
// - kind `kubernetes`: the Kubernetes Follower. CyberArk's operator (a prerequisite on the spoke, like
//   Argo CD on the hub) turns a `ConjurFollower` (conjur.cyberark.com/v1) into a Deployment of
//   non-root containers (configurator, conjur, nginx, postgres, syslog-ng, info, failover-rebaser), a
//   Service and a ServiceAccount named by `resourceNames`. Field names follow the operator's CRD
//   (vendored as test/fixtures/crds/conjurfollowers.conjur.cyberark.com.yaml; the tests validate
//   against it) and CyberArk's docs (docs.cyberark.com ... k8s-k8sfollower-ovw.htm: "each service
//   container runs as an unprivileged (non-root) user").
// - kind `appliance`: the appliance image fed by the seed fetcher, exactly as CyberArk's
//   kubernetes-conjur-deploy `kubernetes/conjur-follower.yaml` and the JWT variant of the field
//   manifest (joetanx/conjur-k8s `manifests/appliance-follower.yaml`) run it: init container
//   `authenticator` with writable /tmp, /run/conjur and /etc/conjur/ssl, the follower started by
//   `/tmp/seedfile/start-follower.sh` (which runs `evoke unpack seed` and `evoke configure follower`),
//   as root with AUDIT_WRITE (kubernetes-conjur-deploy `conjur-cluster.yaml`, its OpenShift SCC).
//
// Both authenticate to the Leader with authn-jwt/<spoke> and a projected service-account token whose
// audience is the Leader's URL, and both serve authn-k8s/<spoke> (and authn-jwt/<spoke>) to the
// cluster's applications. Evidence and the choice of default: docs/architecture.md, "Conjur topology".
import * as YAML from "yaml";
import type { KubernetesFollowerImages, LeaderSpec, SpokeSpec, StackSpec } from "../../stacks/spec";
import { authenticatorName, seedFileUrl } from "../conjur/ids";
import { authnJwtName } from "../conjur/authn-jwt";
import { AUTHENTICATOR_CONTAINER } from "../conjur/ids";
import { emptyDirVolume, resourceRequirements } from "../kube";
import { FOLLOWER_DEPLOYMENT, FOLLOWER_SERVICE, FOLLOWER_SERVICE_ACCOUNT } from "../naming";

/** ConfigMap keys the followers read: the Leader's CA, and the Kubernetes Follower's conjur.yml. */
export const FOLLOWER_CONFIG = {
  connectConfigMap: "conjur-connect",
  caKey: "conjur-ca.pem",
  configConfigMap: "conjur-follower-config",
  configKey: "conjur.yml",
} as const;

export { FOLLOWER_POD_HTTPS_PORT } from "../naming";

/**
 * What a follower reaches on the Leader: 443 (API, seed service), 5432 (PostgreSQL streaming
 * replication) and 1999 (audit forwarding over syslog): kubernetes-conjur-deploy
 * `kubernetes/conjur-cluster-service.yaml`, and CyberArk's certificate architecture page
 * ("Standbys and Followers: Replicating data from the Leader", "Followers: Forwarding audit records").
 */
export const LEADER_PORTS = { https: 443, postgres: 5432, audit: 1999, ldaps: 636 } as const;

export const SEEDFILE_DIR = "/tmp/seedfile";
/** Where the projected service-account token for authn-jwt is mounted (the field manifest's path). */
export const JWT_TOKEN_DIR = "/var/run/secrets/tokens";
export const JWT_TOKEN_FILE = "jwt";

/** Authenticators a follower serves: in-cluster authn-k8s for its applications, and authn-jwt. */
export function followerAuthenticators(spoke: string): string[] {
  return ["authn", authenticatorName(spoke), authnJwtName(spoke)];
}

/** The Kubernetes Follower's conjur.yml: without it only `authn` is enabled on the follower. */
export function followerConfigYaml(spoke: string): string {
  return YAML.stringify({ authenticators: followerAuthenticators(spoke) });
}

/** The DNS names the follower's certificate must carry: its Service names and any external ones. */
export function followerSeedNames(spoke: SpokeSpec, namespace: string): string[] {
  return [
    `${FOLLOWER_SERVICE}.${namespace}.svc.cluster.local`,
    `${FOLLOWER_SERVICE}.${namespace}.svc`,
    ...spoke.follower.externalHostnames,
  ];
}

/** A restricted-profile context for every container the operator runs (all run as non-root). */
const NON_ROOT_CONTAINER = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
};
const OPERATOR_CONTAINERS = [
  "configurator",
  "conjur",
  "failoverRebaser",
  "info",
  "nginx",
  "postgres",
  "syslogNg",
] as const;

/** The `spec` of the spoke's ConjurFollower. */
export function conjurFollowerSpec(
  spec: StackSpec,
  spoke: SpokeSpec,
  leader: LeaderSpec,
  images: KubernetesFollowerImages,
  namespace: string,
) {
  return {
    replicas: spoke.follower.replicas,
    resourceNames: {
      deployment: FOLLOWER_DEPLOYMENT,
      service: FOLLOWER_SERVICE,
      serviceAccount: FOLLOWER_SERVICE_ACCOUNT,
    },
    master: {
      hostname: leader.hostname,
      account: spec.conjurAccount,
      authentication: "authn-jwt",
      audience: leader.url,
      authenticatorID: spoke.name,
      caCertificateFrom: {
        configMapKeyRef: { name: FOLLOWER_CONFIG.connectConfigMap, key: FOLLOWER_CONFIG.caKey },
      },
    },
    configFileFrom: {
      configMapKeyRef: { name: FOLLOWER_CONFIG.configConfigMap, key: FOLLOWER_CONFIG.configKey },
    },
    imagePullPolicy: "IfNotPresent",
    images: { ...images },
    // The configurator asks the Leader for a seed (and certificate) covering these names.
    containerEnv: {
      configurator: [{ name: "FOLLOWER_SEED_NAMES", value: followerSeedNames(spoke, namespace).join(",") }],
    },
    containerResources: { conjur: resourceRequirements(spoke.follower.resources) },
    securityContext: {
      pod: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      ...Object.fromEntries(OPERATOR_CONTAINERS.map((c) => [c, NON_ROOT_CONTAINER])),
    },
  };
}

/** The seed fetcher's environment (authn-jwt mode), as the field manifest and k8s-deploy give it. */
export function seedFetchEnv(spec: StackSpec, spoke: SpokeSpec, leader: LeaderSpec) {
  const fromField = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return [
    { name: "CONJUR_SEED_FILE_URL", value: seedFileUrl(leader.hostname, spec.conjurAccount) },
    { name: "SEEDFILE_DIR", value: SEEDFILE_DIR },
    // "should be the same value as the service name" (kubernetes-conjur-deploy).
    { name: "FOLLOWER_HOSTNAME", value: FOLLOWER_SERVICE },
    { name: "AUTHENTICATOR", value: "authn-jwt" },
    { name: "AUTHENTICATOR_ID", value: spoke.name },
    { name: "JWT_TOKEN_PATH", value: `${JWT_TOKEN_DIR}/${JWT_TOKEN_FILE}` },
    { name: "CONJUR_ACCOUNT", value: spec.conjurAccount },
    {
      name: "CONJUR_SSL_CERTIFICATE",
      valueFrom: { configMapKeyRef: { name: FOLLOWER_CONFIG.connectConfigMap, key: FOLLOWER_CONFIG.caKey } },
    },
    fromField("MY_POD_NAME", "metadata.name"),
    fromField("MY_POD_NAMESPACE", "metadata.namespace"),
    fromField("MY_POD_IP", "status.podIP"),
  ];
}

/** The projected token the follower presents to the Leader: audience = the Leader's URL. */
export function jwtTokenVolume(audience: string) {
  return {
    name: "jwt-token",
    projected: {
      sources: [{ serviceAccountToken: { audience, path: JWT_TOKEN_FILE, expirationSeconds: 3600 } }],
    },
  };
}

/** The appliance follower's pod spec (labels and the ServiceAccount are set by the component). */
export function applianceFollowerPodSpec(
  spec: StackSpec,
  spoke: SpokeSpec,
  leader: LeaderSpec,
  applianceImage: string,
) {
  const healthProbe = { httpGet: { path: "/health", port: "https", scheme: "HTTPS" } };
  return {
    serviceAccountName: FOLLOWER_SERVICE_ACCOUNT,
    // The follower serves authn-k8s/<spoke>: it reads pods of this cluster through its token.
    automountServiceAccountToken: true,
    initContainers: [
      {
        // authn-k8s finds the authenticating container by this name (its default); kept for parity.
        name: AUTHENTICATOR_CONTAINER,
        image: spec.images.seedFetcher,
        env: seedFetchEnv(spec, spoke, leader),
        resources: resourceRequirements({
          cpuRequest: "50m",
          memoryRequest: "64Mi",
          cpuLimit: "500m",
          memoryLimit: "256Mi",
        }),
        // The fetch script writes /tmp/master.crt, the access token to /run/conjur and copies
        // start-follower.sh into the seed directory: those are writable volumes, the rest read-only.
        // Its image's user is not published, so runAsNonRoot is not forced (policy/exemptions.ts).
        securityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
          readOnlyRootFilesystem: true,
          seccompProfile: { type: "RuntimeDefault" },
        },
        volumeMounts: [
          { name: "tmp", mountPath: "/tmp" },
          { name: "seedfile", mountPath: SEEDFILE_DIR },
          { name: "conjur-token", mountPath: "/run/conjur" },
          { name: "conjur-ssl", mountPath: "/etc/conjur/ssl" },
          { name: "jwt-token", mountPath: JWT_TOKEN_DIR, readOnly: true },
        ],
      },
    ],
    containers: [
      {
        name: "conjur-appliance",
        image: applianceImage,
        // Unpacks the seed (`evoke unpack seed`) and configures the follower (`evoke configure follower`).
        command: [`${SEEDFILE_DIR}/start-follower.sh`],
        env: [
          { name: "SEEDFILE_DIR", value: SEEDFILE_DIR },
          { name: "CONJUR_AUTHENTICATORS", value: followerAuthenticators(spoke.name).join(",") },
        ],
        ports: [
          { name: "https", containerPort: LEADER_PORTS.https },
          { name: "ldaps", containerPort: LEADER_PORTS.ldaps },
        ],
        readinessProbe: { ...healthProbe, initialDelaySeconds: 15, periodSeconds: 10, timeoutSeconds: 5 },
        livenessProbe: {
          ...healthProbe,
          initialDelaySeconds: 180,
          periodSeconds: 20,
          timeoutSeconds: 5,
          failureThreshold: 6,
        },
        resources: resourceRequirements(spoke.follower.resources),
        // The appliance runs its init system (my_init under keyctl), evoke and its services as root
        // and needs AUDIT_WRITE (on the baseline allow-list); policy/exemptions.ts declares why.
        securityContext: {
          runAsUser: 0,
          runAsNonRoot: false,
          allowPrivilegeEscalation: false,
          capabilities: { add: ["AUDIT_WRITE"] },
        },
        volumeMounts: [{ name: "seedfile", mountPath: SEEDFILE_DIR, readOnly: true }],
      },
    ],
    volumes: [
      // The seed holds the follower's keys: memory only, shared by the two containers.
      emptyDirVolume("seedfile", { memory: true, sizeLimit: "64Mi" }),
      emptyDirVolume("conjur-token", { memory: true, sizeLimit: "1Mi" }),
      emptyDirVolume("conjur-ssl", { memory: true, sizeLimit: "1Mi" }),
      emptyDirVolume("tmp", { sizeLimit: "64Mi" }),
      jwtTokenVolume(leader.url),
    ],
  };
}
