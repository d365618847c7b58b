// The Conjur Open Source primary in the hub cluster (docs/architecture.md, "The hub"), as named parts:
// its secrets, identities, database, the server with its TLS front, the account bootstrap and the
// NetworkPolicies. `openSourcePrimary` reads as that list and returns what the policy load needs.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { StackSpec } from "../../stacks/spec";
import type { EstatePki } from "../pki";
import { authenticatorClusterRole, networkPolicyFactory } from "../namespace";
import {
  dnsEgressRule,
  emptyDirVolume,
  ipBlocks,
  JOB_RESOURCES,
  kubeApiEgressRule,
  namespaceSelectorFor,
  podEgressRule,
  preferredAntiAffinity,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tcpPorts,
  tlsSecretData,
} from "../kube";
import {
  CONJUR_HTTP_PORT,
  CONJUR_NAMESPACE,
  HTTPS_PORT,
  MONITORING_NAMESPACE,
  NGINX_TLS_PORT,
  POSTGRES_PORT,
  POSTGRES_SERVICE,
  PRIMARY_EXTERNAL_SERVICE,
  PRIMARY_SERVICE,
  selectorLabels,
  workloadLabels,
} from "../naming";
import {
  buildBootstrapScript,
  buildNginxConfig,
  contentHash,
  NGINX_HEALTH_PATH,
  NGINX_TLS_DIR,
} from "./documents";
import type { HubContext, ServerAccess } from "./context";
import type { ConjurSecrets } from "./secrets";

const CONJUR_UID = 1000;
const POSTGRES_UID = 999;
const NGINX_UID = 101;
const POSTGRES_USER = "conjur";
const POSTGRES_DB = "conjur";
const CONJUR_TLS_CA_PATH = "/etc/conjur/db-ca/ca.crt";

export interface OpenSourcePrimaryArgs {
  readonly spec: StackSpec;
  readonly pki: EstatePki;
  readonly secrets: ConjurSecrets;
  /** The CONJUR_AUTHENTICATORS value. */
  readonly authenticators: string;
}

/** The Secrets the primary, Postgres and the Jobs read; the only place generated secrets live. */
function primarySecrets(ctx: HubContext, pki: EstatePki, secrets: ConjurSecrets) {
  const { name, meta, nsOpts } = ctx;
  const ns = CONJUR_NAMESPACE;
  // ---- Secrets (the only place generated secrets live in the cluster) ----
  const dataKeySecret = new k8s.core.v1.Secret(
    `${name}-data-key`,
    { metadata: meta("conjur-data-key", "conjur"), type: "Opaque", stringData: { key: secrets.dataKey } },
    nsOpts,
  );
  const adminSecret = new k8s.core.v1.Secret(
    `${name}-admin`,
    {
      metadata: meta("conjur-admin", "conjur"),
      type: "Opaque",
      stringData: { password: secrets.adminPassword },
    },
    nsOpts,
  );
  const databaseUrl = pulumi.interpolate`postgres://${POSTGRES_USER}:${secrets.postgresPassword}@${POSTGRES_SERVICE}.${ns}.svc:${POSTGRES_PORT}/${POSTGRES_DB}?sslmode=verify-full&sslrootcert=${CONJUR_TLS_CA_PATH}`;
  const databaseSecret = new k8s.core.v1.Secret(
    `${name}-database`,
    {
      metadata: meta("conjur-database", "postgres"),
      type: "Opaque",
      stringData: { url: pulumi.secret(databaseUrl), password: secrets.postgresPassword },
    },
    nsOpts,
  );
  const tlsSecret = (resourceName: string, objectName: string, cert: typeof pki.primaryServer) =>
    new k8s.core.v1.Secret(
      resourceName,
      {
        metadata: meta(objectName, "tls"),
        type: "kubernetes.io/tls",
        stringData: tlsSecretData(cert, cert.caCertPem),
      },
      nsOpts,
    );
  const primaryTls = tlsSecret(`${name}-primary-tls`, "conjur-primary-tls", pki.primaryServer);
  const postgresTls = tlsSecret(`${name}-postgres-tls`, "conjur-postgres-tls", pki.postgresServer);

  return { dataKeySecret, adminSecret, databaseSecret, primaryTls, postgresTls };
}
type PrimarySecrets = ReturnType<typeof primarySecrets>;

/** ServiceAccounts, and the RBAC authn-k8s/hub needs to check the hub's pods. */
function primaryIdentities(ctx: HubContext) {
  const { name, meta, nsOpts, clusterOpts: k8sOpts } = ctx;
  const ns = CONJUR_NAMESPACE;
  // ---- ServiceAccounts and the hub authenticator's RBAC ----
  const serviceAccount = (resourceName: string, objectName: string, automount: boolean) =>
    new k8s.core.v1.ServiceAccount(
      resourceName,
      { metadata: meta(objectName, "identity"), automountServiceAccountToken: automount },
      nsOpts,
    );
  // The primary calls the hub's API for authn-k8s/hub, so only its token is mounted.
  const primarySa = serviceAccount(`${name}-primary-sa`, PRIMARY_SERVICE, true);
  const postgresSa = serviceAccount(`${name}-postgres-sa`, POSTGRES_SERVICE, false);
  const authenticatorRole = authenticatorClusterRole(`${name}-authenticator-role`, k8sOpts);
  new k8s.rbac.v1.RoleBinding(
    `${name}-authenticator-binding`,
    {
      metadata: meta("conjur-authenticator", "rbac"),
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: authenticatorRole.metadata.name,
      },
      subjects: [{ kind: "ServiceAccount", name: PRIMARY_SERVICE, namespace: ns }],
    },
    nsOpts,
  );

  return { primarySa, postgresSa };
}

/** Postgres with TLS and a persistent claim. */
function postgresDatabase(
  ctx: HubContext,
  spec: StackSpec,
  secrets: PrimarySecrets,
  serviceAccount: k8s.core.v1.ServiceAccount,
): void {
  const { name, meta, nsOpts } = ctx;
  const hub = spec.hub;
  const { databaseSecret, postgresTls } = secrets;
  const postgresSa = serviceAccount;
  // ---- Postgres ----
  const postgresLabels = workloadLabels(POSTGRES_SERVICE, "database");
  new k8s.core.v1.Service(
    `${name}-postgres-service`,
    {
      metadata: meta(POSTGRES_SERVICE, "database"),
      spec: {
        type: "ClusterIP",
        selector: selectorLabels(POSTGRES_SERVICE),
        ports: [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres" }],
      },
    },
    nsOpts,
  );
  const pgReady = {
    exec: {
      command: ["pg_isready", "--host", "127.0.0.1", "--username", POSTGRES_USER, "--dbname", POSTGRES_DB],
    },
  };
  new k8s.apps.v1.StatefulSet(
    `${name}-postgres`,
    {
      metadata: meta(POSTGRES_SERVICE, "database"),
      spec: {
        serviceName: POSTGRES_SERVICE,
        replicas: 1,
        selector: { matchLabels: selectorLabels(POSTGRES_SERVICE) },
        template: {
          metadata: { labels: postgresLabels },
          spec: {
            serviceAccountName: postgresSa.metadata.name,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(POSTGRES_UID, POSTGRES_UID),
            containers: [
              {
                name: "postgres",
                image: spec.images.postgres,
                args: [
                  "-c",
                  "ssl=on",
                  "-c",
                  "ssl_cert_file=/etc/postgres-tls/tls.crt",
                  "-c",
                  "ssl_key_file=/etc/postgres-tls/tls.key",
                  "-c",
                  "ssl_min_protocol_version=TLSv1.2",
                ],
                env: [
                  { name: "POSTGRES_USER", value: POSTGRES_USER },
                  { name: "POSTGRES_DB", value: POSTGRES_DB },
                  { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                  {
                    name: "POSTGRES_PASSWORD",
                    valueFrom: { secretKeyRef: { name: databaseSecret.metadata.name, key: "password" } },
                  },
                ],
                ports: [{ name: "postgres", containerPort: POSTGRES_PORT }],
                readinessProbe: { ...pgReady, periodSeconds: 10, timeoutSeconds: 5 },
                livenessProbe: {
                  ...pgReady,
                  initialDelaySeconds: 30,
                  periodSeconds: 20,
                  timeoutSeconds: 5,
                },
                resources: resourceRequirements(hub.resources.postgres),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: "data", mountPath: "/var/lib/postgresql/data" },
                  { name: "run", mountPath: "/var/run/postgresql" },
                  { name: "tmp", mountPath: "/tmp" },
                  { name: "tls", mountPath: "/etc/postgres-tls", readOnly: true },
                ],
              },
            ],
            volumes: [
              emptyDirVolume("run"),
              emptyDirVolume("tmp", { sizeLimit: "256Mi" }),
              // Postgres accepts a root-owned key readable by its group (0640), which fsGroup gives it.
              { name: "tls", secret: { secretName: postgresTls.metadata.name, defaultMode: 0o640 } },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data", labels: postgresLabels },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(hub.postgres.storageClass ? { storageClassName: hub.postgres.storageClass } : {}),
              resources: { requests: { storage: hub.postgres.storageSize } },
            },
          },
        ],
      },
    },
    // The claim template is immutable once the StatefulSet exists; a size change is an operator task.
    { ...nsOpts, ignoreChanges: ["spec.volumeClaimTemplates"] },
  );
}

/** What the server and the bootstrap Job share: the database env and the writable volumes. */
function conjurRuntime(spec: StackSpec, secrets: PrimarySecrets) {
  const { dataKeySecret, databaseSecret, postgresTls } = secrets;
  const secretEnv = (envName: string, secret: k8s.core.v1.Secret, key: string) => ({
    name: envName,
    valueFrom: { secretKeyRef: { name: secret.metadata.name, key } },
  });
  const conjurDbEnv = [
    { name: "CONJUR_ACCOUNT", value: spec.conjurAccount },
    secretEnv("CONJUR_DATA_KEY", dataKeySecret, "key"),
    secretEnv("DATABASE_URL", databaseSecret, "url"),
  ];
  const conjurWritableMounts = [
    { name: "tmp", mountPath: "/tmp" },
    { name: "conjur-tmp", mountPath: "/opt/conjur-server/tmp" },
    { name: "conjur-log", mountPath: "/opt/conjur-server/log" },
    { name: "db-ca", mountPath: "/etc/conjur/db-ca", readOnly: true },
  ];
  const conjurWritableVolumes = [
    emptyDirVolume("tmp", { sizeLimit: "256Mi" }),
    emptyDirVolume("conjur-tmp", { sizeLimit: "256Mi" }),
    emptyDirVolume("conjur-log", { sizeLimit: "256Mi" }),
    {
      name: "db-ca",
      secret: { secretName: postgresTls.metadata.name, items: [{ key: "ca.crt", path: "ca.crt" }] },
    },
  ];
  return { conjurDbEnv, conjurWritableMounts, conjurWritableVolumes };
}
type ConjurRuntime = ReturnType<typeof conjurRuntime>;

/** The server (`conjurctl server`) behind its nginx TLS front, its Services and its disruption budget. */
function conjurServer(
  ctx: HubContext,
  spec: StackSpec,
  secrets: PrimarySecrets,
  serviceAccount: k8s.core.v1.ServiceAccount,
  runtime: ConjurRuntime,
  authenticatorsValue: string,
): void {
  const { name, meta, nsOpts } = ctx;
  const hub = spec.hub;
  const { primaryTls } = secrets;
  const primarySa = serviceAccount;
  const { conjurDbEnv, conjurWritableMounts, conjurWritableVolumes } = runtime;
  const nginxConfigText = buildNginxConfig([hub.podCidr]);
  const nginxConfig = new k8s.core.v1.ConfigMap(
    `${name}-nginx`,
    { metadata: meta("conjur-nginx", "conjur"), data: { "nginx.conf": nginxConfigText } },
    nsOpts,
  );

  const primaryLabels = workloadLabels(PRIMARY_SERVICE, "primary");
  const primaryPort = { name: "https", port: HTTPS_PORT, targetPort: "https", protocol: "TCP" };
  new k8s.core.v1.Service(
    `${name}-primary-service`,
    {
      metadata: meta(PRIMARY_SERVICE, "primary"),
      spec: { type: "ClusterIP", selector: selectorLabels(PRIMARY_SERVICE), ports: [primaryPort] },
    },
    nsOpts,
  );
  if (hub.serviceType === "LoadBalancer") {
    new k8s.core.v1.Service(
      `${name}-primary-external`,
      {
        metadata: meta(PRIMARY_EXTERNAL_SERVICE, "primary"),
        spec: {
          type: "LoadBalancer",
          // Local keeps the client's source address, so the NetworkPolicy can admit spoke CIDRs only.
          externalTrafficPolicy: "Local",
          selector: selectorLabels(PRIMARY_SERVICE),
          ports: [primaryPort],
          ...(hub.loadBalancerSourceRanges.length
            ? { loadBalancerSourceRanges: [...hub.loadBalancerSourceRanges] }
            : {}),
        },
      },
      nsOpts,
    );
  }
  new k8s.apps.v1.StatefulSet(
    `${name}-primary`,
    {
      metadata: meta(PRIMARY_SERVICE, "primary"),
      spec: {
        serviceName: PRIMARY_SERVICE,
        replicas: hub.replicas,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: selectorLabels(PRIMARY_SERVICE) },
        template: {
          metadata: {
            labels: primaryLabels,
            annotations: {
              "hubspoke.io/calls-kube-api": "true",
              // Restart the pods when the TLS front's config changes.
              "hubspoke.io/nginx-config-hash": contentHash(nginxConfigText),
            },
          },
          spec: {
            serviceAccountName: primarySa.metadata.name,
            automountServiceAccountToken: true,
            securityContext: restrictedPodSecurityContext(CONJUR_UID, CONJUR_UID),
            affinity: preferredAntiAffinity(selectorLabels(PRIMARY_SERVICE)),
            containers: [
              {
                name: "conjur",
                image: spec.images.conjur,
                args: ["server"],
                env: [
                  ...conjurDbEnv,
                  { name: "CONJUR_AUTHENTICATORS", value: authenticatorsValue },
                  { name: "CONJUR_LOG_LEVEL", value: hub.logLevel },
                  { name: "PORT", value: String(CONJUR_HTTP_PORT) },
                  { name: "CONJUR_TELEMETRY_ENABLED", value: "true" },
                  { name: "CONJUR_METRICS_DIR", value: "/tmp/prometheus" },
                ],
                ports: [{ name: "http", containerPort: CONJUR_HTTP_PORT }],
                readinessProbe: {
                  httpGet: { path: "/", port: "http" },
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                },
                livenessProbe: {
                  httpGet: { path: "/", port: "http" },
                  initialDelaySeconds: 60,
                  periodSeconds: 20,
                  timeoutSeconds: 5,
                },
                resources: resourceRequirements(hub.resources.conjur),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: conjurWritableMounts,
              },
              {
                name: "nginx",
                image: spec.images.nginx,
                ports: [{ name: "https", containerPort: NGINX_TLS_PORT }],
                readinessProbe: {
                  httpGet: { path: NGINX_HEALTH_PATH, port: "https", scheme: "HTTPS" },
                  periodSeconds: 10,
                },
                livenessProbe: {
                  httpGet: { path: NGINX_HEALTH_PATH, port: "https", scheme: "HTTPS" },
                  initialDelaySeconds: 10,
                  periodSeconds: 20,
                },
                resources: resourceRequirements(hub.resources.nginx),
                securityContext: {
                  ...restrictedContainerSecurityContext(),
                  runAsUser: NGINX_UID,
                  runAsGroup: NGINX_UID,
                },
                volumeMounts: [
                  {
                    name: "nginx-config",
                    mountPath: "/etc/nginx/nginx.conf",
                    subPath: "nginx.conf",
                    readOnly: true,
                  },
                  { name: "tls", mountPath: NGINX_TLS_DIR, readOnly: true },
                  { name: "nginx-tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              ...conjurWritableVolumes,
              { name: "nginx-config", configMap: { name: nginxConfig.metadata.name } },
              { name: "tls", secret: { secretName: primaryTls.metadata.name } },
              emptyDirVolume("nginx-tmp"),
            ],
          },
        },
      },
    },
    nsOpts,
  );
  if (hub.replicas > 1) {
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-primary-pdb`,
      {
        metadata: meta(PRIMARY_SERVICE, "primary"),
        spec: { minAvailable: 1, selector: { matchLabels: selectorLabels(PRIMARY_SERVICE) } },
      },
      nsOpts,
    );
  }
}

/** The account bootstrap, once per account and image (the policy load waits for it). */
function accountBootstrap(
  ctx: HubContext,
  spec: StackSpec,
  secrets: PrimarySecrets,
  runtime: ConjurRuntime,
): k8s.batch.v1.Job {
  const { name, meta, nsOpts } = ctx;
  const { adminSecret } = secrets;
  const { conjurDbEnv, conjurWritableMounts, conjurWritableVolumes } = runtime;
  return new k8s.batch.v1.Job(
    `${name}-bootstrap`,
    {
      metadata: meta(`conjur-bootstrap-${contentHash(spec.conjurAccount, spec.images.conjur)}`, "bootstrap"),
      spec: {
        backoffLimit: 6,
        template: {
          metadata: { labels: workloadLabels("conjur-bootstrap", "bootstrap") },
          spec: {
            restartPolicy: "OnFailure",
            serviceAccountName: "conjur-jobs",
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(CONJUR_UID),
            containers: [
              {
                name: "bootstrap",
                image: spec.images.conjur,
                command: ["/bin/sh", "/scripts/bootstrap.sh"],
                env: conjurDbEnv,
                resources: resourceRequirements(JOB_RESOURCES),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: "scripts", mountPath: "/scripts", readOnly: true },
                  { name: "admin", mountPath: "/secrets/admin", readOnly: true },
                  ...conjurWritableMounts,
                ],
              },
            ],
            // The scripts ConfigMap is the policy load's (conjur-policy), which carries bootstrap.sh.
            volumes: [
              { name: "scripts", configMap: { name: "conjur-policy" } },
              { name: "admin", secret: { secretName: adminSecret.metadata.name } },
              ...conjurWritableVolumes,
            ],
          },
        },
      },
    },
    { ...nsOpts, deleteBeforeReplace: true },
  );
}

/** The primary's, Postgres' and the bootstrap Job's NetworkPolicies (deny by default, per flow). */
function primaryNetworkPolicies(ctx: HubContext, spec: StackSpec): void {
  const { name, meta, nsOpts } = ctx;
  const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
  const spokeSources = spec.spokes.filter((s) => s.converted).flatMap((s) => s.egressCidrs);
  const jobSelector = (component: string) => ({
    podSelector: { matchLabels: selectorLabels(`conjur-${component}`) },
  });
  netpol("primary", "conjur-primary", {
    podSelector: { matchLabels: selectorLabels(PRIMARY_SERVICE) },
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      {
        // Spokes' applications (authn-jwt and secrets) and in-cluster clients, over TLS only.
        from: [
          ...ipBlocks(spokeSources),
          jobSelector("policy-load"),
          { namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE) },
        ],
        ports: tcpPorts(NGINX_TLS_PORT),
      },
    ],
    egress: [
      podEgressRule(POSTGRES_SERVICE, POSTGRES_PORT),
      dnsEgressRule(),
      // authn-k8s/hub reads pods from the hub's API server; authn-jwt fetches the spokes' JWKS (443).
      kubeApiEgressRule(),
    ],
  });
  netpol("postgres", POSTGRES_SERVICE, {
    podSelector: { matchLabels: selectorLabels(POSTGRES_SERVICE) },
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      {
        from: [{ podSelector: { matchLabels: selectorLabels(PRIMARY_SERVICE) } }, jobSelector("bootstrap")],
        ports: tcpPorts(POSTGRES_PORT),
      },
    ],
    egress: [],
  });
  netpol("bootstrap", "conjur-bootstrap", {
    podSelector: { matchLabels: selectorLabels("conjur-bootstrap") },
    policyTypes: ["Ingress", "Egress"],
    ingress: [],
    egress: [podEgressRule(POSTGRES_SERVICE, POSTGRES_PORT), dnsEgressRule()],
  });
}

/** Conjur Open Source in the hub: the named parts, then what the policy load needs to reach it. */
export function openSourcePrimary(ctx: HubContext, args: OpenSourcePrimaryArgs): ServerAccess {
  const { spec, pki } = args;
  const secrets = primarySecrets(ctx, pki, args.secrets);
  const identities = primaryIdentities(ctx);
  postgresDatabase(ctx, spec, secrets, identities.postgresSa);
  const runtime = conjurRuntime(spec, secrets);
  conjurServer(ctx, spec, secrets, identities.primarySa, runtime, args.authenticators);
  const bootstrapJob = accountBootstrap(ctx, spec, secrets, runtime);
  primaryNetworkPolicies(ctx, spec);
  const { primaryTls, adminSecret } = secrets;
  const ns = CONJUR_NAMESPACE;
  return {
    serverUrl: `https://${PRIMARY_SERVICE}.${ns}.svc`,
    serverCaVolume: {
      name: "ca",
      secret: { secretName: primaryTls.metadata.name, items: [{ key: "ca.crt", path: "ca.crt" }] },
    },
    adminSecretName: adminSecret.metadata.name,
    serverPeers: [{ podSelector: { matchLabels: selectorLabels(PRIMARY_SERVICE) } }],
    serverPort: NGINX_TLS_PORT,
    dependsOn: [bootstrapJob],
    extraScripts: { "bootstrap.sh": buildBootstrapScript() },
    enableThroughApi: false,
  };
}
