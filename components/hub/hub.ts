// ConjurHub: the Conjur side of the management cluster, per edition (docs/architecture.md, "Conjur
// topology"). Open Source: the primary with its Postgres, TLS front, Services, the account bootstrap
// and NetworkPolicies. Enterprise: the Leader runs outside Kubernetes; the hub holds what the stack
// needs to manage it (its CA, the admin credential). Both: the policy load (policy-load.ts).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { conjurServerInHub, LeaderSpec, StackSpec } from "../../stacks/spec";
import { requireSecretConfig } from "../../stacks/load";
import { EstatePki } from "../pki";
import { conjurAuthenticators, enabledAuthenticators } from "../conjur/ids";
import { authnJwtName, JwtKeySource } from "../conjur/authn-jwt";
import { jwtServerUrl } from "../conjur/cluster-jwt";
import { buildEstatePolicy, renderPolicy } from "../conjur/policy";
import type { SpokeJwtAuthenticator } from "../spoke/spoke";
import { managedNamespace, networkPolicyFactory, ObjectMeta } from "../namespace";
import {
  authenticatorRbacRules,
  defaultDenySpec,
  dnsEgressRule,
  emptyDirVolume,
  ipBlocks,
  JOB_RESOURCES,
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
  CONJUR_HTTP_PORT,
  CONJUR_NAMESPACE,
  HTTPS_PORT,
  HUB_AUTHENTICATOR_ID,
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
import { conjurPolicyLoad, PolicyLoadArgs } from "./policy-load";
import { ConjurSecrets } from "./secrets";

export interface ConjurHubArgs {
  /** The validated stack spec. */
  readonly spec: StackSpec;
  /** Provider of the hub cluster. */
  readonly provider: k8s.Provider;
  /** The estate's certificates. */
  readonly pki: EstatePki;
  /** Open Source only: the data key and passwords the stack generates. */
  readonly secrets?: ConjurSecrets;
  /** One authn-jwt authenticator per converted spoke. */
  readonly spokeJwt: readonly SpokeJwtAuthenticator[];
}

/** Where the policy-load Job finds the Conjur server, and what it waits for. */
type ServerAccess = Pick<
  PolicyLoadArgs,
  | "serverUrl"
  | "serverCaVolume"
  | "adminSecretName"
  | "serverPeers"
  | "serverPort"
  | "dependsOn"
  | "extraScripts"
  | "enable"
>;

type Meta = (objectName: string, component: string) => ObjectMeta;

const CONJUR_UID = 1000;
const POSTGRES_UID = 999;
const NGINX_UID = 101;
const POSTGRES_USER = "conjur";
const POSTGRES_DB = "conjur";
const CONJUR_TLS_CA_PATH = "/etc/conjur/db-ca/ca.crt";

export class ConjurHub extends pulumi.ComponentResource {
  /** The URL spokes' tokens and followers reach: the hub's primary (oss) or the Leader. */
  public readonly url: pulumi.Output<string>;
  /** Authenticators the estate's Conjur server enables. */
  public readonly authenticators: pulumi.Output<string>;
  /** The policy loaded into root. */
  public readonly policy: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  /** The primary's Service (oss only: with Enterprise no Conjur server runs in the hub). */
  public readonly primaryServiceName?: pulumi.Output<string>;

  constructor(name: string, args: ConjurHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:hub:ConjurHub", name, {}, opts);
    const { spec } = args;
    const k8sOpts = { parent: this, provider: args.provider };
    const converted = spec.spokes.filter((s) => s.converted);
    const inHub = conjurServerInHub(spec);
    const jwtIds = converted.map((s) => s.name);
    const enabled = enabledAuthenticators(inHub ? [HUB_AUTHENTICATOR_ID] : [], jwtIds);
    const policyText = renderPolicy(
      buildEstatePolicy({
        edition: spec.conjur.edition,
        hubAuthenticator: inHub,
        spokes: converted.map((s) => ({
          name: s.name,
          tenants: s.tenants,
          jwtKeys: this.keysOf(args, s.name),
        })),
      }),
    );

    const {
      resource: namespace,
      opts: nsOpts,
      meta,
    } = managedNamespace(`${name}-namespace`, { name: CONJUR_NAMESPACE, podSecurity: "restricted" }, k8sOpts);
    new k8s.core.v1.ServiceAccount(
      `${name}-jobs-sa`,
      { metadata: meta("conjur-jobs", "identity"), automountServiceAccountToken: false },
      nsOpts,
    );
    const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
    netpol("default-deny", "default-deny", defaultDenySpec());
    const conjur = spec.conjur;
    const server =
      conjur.edition === "oss"
        ? this.openSourcePrimary(name, args, conjurAuthenticators(enabled), meta, nsOpts)
        : this.externalLeader(name, conjur.leader, meta, nsOpts, jwtIds);
    conjurPolicyLoad(
      name,
      {
        account: spec.conjurAccount,
        curlImage: spec.images.curl,
        policyText,
        ...server,
        // The hub's own (oss), and in enterprise each spoke's: its follower serves authn-k8s/<spoke>
        // with the CA the Leader holds and replicates to it.
        authnK8s: [
          ...(inHub ? [HUB_AUTHENTICATOR_ID] : []),
          ...(conjur.edition === "enterprise" ? jwtIds : []),
        ].map((id) => ({ id, ca: args.pki.authenticatorCa(id) })),
        authnJwt: args.spokeJwt,
        audience: jwtServerUrl(spec),
      },
      meta,
      { ...nsOpts, dependsOn: [namespace] },
    );

    this.url = pulumi.output(jwtServerUrl(spec));
    this.authenticators = pulumi.output(conjurAuthenticators(enabled));
    this.policy = pulumi.output(policyText);
    this.namespace = namespace.metadata.name;
    if (inHub) this.primaryServiceName = pulumi.output(PRIMARY_SERVICE);
    this.registerOutputs({ url: this.url, authenticators: this.authenticators, policy: this.policy });
  }

  private keysOf(args: ConjurHubArgs, spoke: string): JwtKeySource {
    const keys = args.spokeJwt.find((j) => j.id === spoke)?.keys;
    if (!keys) throw new Error(`internal: no authn-jwt key source for spoke ${spoke}`);
    return keys;
  }

  /**
   * Conjur Enterprise: the Leader runs outside Kubernetes. The hub keeps its CA (public) and the admin
   * password (from the secret config key) for the policy-load Job, which also enables each spoke's
   * authn-jwt authenticator on the Leader (the appliance takes its allow-list from its own
   * configuration or database, not from a pod's environment). Every spoke's own authn-k8s
   * authenticator is enabled on its follower (followers.ts), where it belongs.
   */
  private externalLeader(
    name: string,
    leader: LeaderSpec,
    meta: Meta,
    nsOpts: pulumi.CustomResourceOptions,
    jwtIds: readonly string[],
  ): ServerAccess {
    const admin = new k8s.core.v1.Secret(
      `${name}-admin`,
      {
        metadata: meta("conjur-admin", "conjur"),
        type: "Opaque",
        stringData: { password: requireSecretConfig(leader.adminPasswordSecret) },
      },
      nsOpts,
    );
    const ca = new k8s.core.v1.ConfigMap(
      `${name}-leader-ca`,
      { metadata: meta("conjur-leader-ca", "conjur"), data: { "ca.crt": leader.caCertificate } },
      nsOpts,
    );
    return {
      serverUrl: leader.url,
      serverCaVolume: { name: "ca", configMap: { name: ca.metadata.name } },
      adminSecretName: admin.metadata.name,
      serverPeers: ipBlocks(leader.cidrs.length ? leader.cidrs : ["0.0.0.0/0"]),
      serverPort: HTTPS_PORT,
      dependsOn: [],
      enable: jwtIds.map(authnJwtName),
    };
  }

  /** Conjur Open Source: secrets, TLS, Postgres, the primary and the account bootstrap. */
  private openSourcePrimary(
    name: string,
    args: ConjurHubArgs,
    authenticatorsValue: string,
    meta: Meta,
    nsOpts: pulumi.CustomResourceOptions,
  ): ServerAccess {
    const { spec, pki } = args;
    const secrets = args.secrets;
    if (!secrets) throw new Error("internal: the Open Source hub needs its generated secrets");
    const hub = spec.hub;
    const k8sOpts = { parent: this, provider: args.provider };
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

    const nginxConfigText = buildNginxConfig([hub.podCidr]);
    const nginxConfig = new k8s.core.v1.ConfigMap(
      `${name}-nginx`,
      { metadata: meta("conjur-nginx", "conjur"), data: { "nginx.conf": nginxConfigText } },
      nsOpts,
    );

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

    // ---- The Conjur primary ----
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

    // ---- The account bootstrap, once per account/image (the policy load waits for it) ----
    const bootstrapJob = new k8s.batch.v1.Job(
      `${name}-bootstrap`,
      {
        metadata: meta(
          `conjur-bootstrap-${contentHash(spec.conjurAccount, spec.images.conjur)}`,
          "bootstrap",
        ),
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
    this.primaryNetworkPolicies(name, args, meta, nsOpts);
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
      enable: [],
    };
  }

  /** The primary's, Postgres' and the bootstrap Job's NetworkPolicies (deny by default, per flow). */
  private primaryNetworkPolicies(
    name: string,
    args: ConjurHubArgs,
    meta: Meta,
    nsOpts: pulumi.CustomResourceOptions,
  ): void {
    const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
    const spokeSources = args.spec.spokes.filter((s) => s.converted).flatMap((s) => s.egressCidrs);
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
        {
          to: [{ podSelector: { matchLabels: selectorLabels(POSTGRES_SERVICE) } }],
          ports: tcpPorts(POSTGRES_PORT),
        },
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
      egress: [
        {
          to: [{ podSelector: { matchLabels: selectorLabels(POSTGRES_SERVICE) } }],
          ports: tcpPorts(POSTGRES_PORT),
        },
        dnsEgressRule(),
      ],
    });
  }
}
