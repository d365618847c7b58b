// ConjurHub: the Conjur primary on the management cluster, with its Postgres, TLS front, Services,
// the account bootstrap and policy-load Jobs, RBAC for its own authenticator and NetworkPolicies.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { StackSpec } from "../../stacks/spec";
import { EstatePki } from "../pki";
import {
  authenticatorIds,
  authenticatorVariableId,
  CA_VARIABLES,
  CLUSTER_ACCESS_VARIABLES,
  conjurAuthenticators,
  primaryUrl,
} from "../conjur/ids";
import { buildEstatePolicy, renderPolicy } from "../conjur/policy";
import { esoAuthenticators } from "../eso/policy";
import { managedNamespace, networkPolicyFactory } from "../namespace";
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
  buildPolicyLoadScript,
  contentHash,
  JOB_PATHS,
  NGINX_HEALTH_PATH,
  NGINX_TLS_DIR,
  VariableFromFile,
} from "./documents";
import { ConjurSecrets } from "./secrets";

/** What the hub needs from a converted spoke so its Conjur can check that cluster's pods. */
export interface SpokeClusterAccess {
  /** The spoke's authenticator id (its name). */
  readonly id: string;
  /** API server URL of the spoke cluster. */
  readonly apiUrl: pulumi.Input<string>;
  /** PEM CA of the spoke cluster's API server. */
  readonly caCert: pulumi.Input<string>;
  /** Long-lived token of the spoke's authenticator ServiceAccount (secret). */
  readonly serviceAccountToken: pulumi.Input<string>;
}

export interface ConjurHubArgs {
  /** The validated stack spec. */
  readonly spec: StackSpec;
  /** Provider of the hub cluster. */
  readonly provider: k8s.Provider;
  /** The estate's certificates. */
  readonly pki: EstatePki;
  /** Data key and passwords. */
  readonly secrets: ConjurSecrets;
  /** One entry per converted spoke. */
  readonly spokeAccess: readonly SpokeClusterAccess[];
}

const CONJUR_UID = 1000;
const POSTGRES_UID = 999;
const NGINX_UID = 101;
const CURL_UID = 100;
const POSTGRES_USER = "conjur";
const POSTGRES_DB = "conjur";
const CONJUR_TLS_CA_PATH = "/etc/conjur/db-ca/ca.crt";

export class ConjurHub extends pulumi.ComponentResource {
  /** The primary's URL as spokes reach it. */
  public readonly url: pulumi.Output<string>;
  /** In-cluster URL of the primary (through nginx, TLS). */
  public readonly internalUrl: pulumi.Output<string>;
  /** Authenticator ids enabled on the primary: `hub` and each converted spoke. */
  public readonly authenticatorIds: pulumi.Output<string[]>;
  /** The CONJUR_AUTHENTICATORS value set on the primary. */
  public readonly authenticators: pulumi.Output<string>;
  /** The policy loaded into root. */
  public readonly policy: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  public readonly primaryServiceName: pulumi.Output<string>;

  constructor(name: string, args: ConjurHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:hub:ConjurHub", name, {}, opts);
    const { spec, pki, secrets } = args;
    const hub = spec.hub;
    const k8sOpts = { parent: this, provider: args.provider };
    const ns = CONJUR_NAMESPACE;
    const converted = spec.spokes.filter((s) => s.converted);
    const ids = authenticatorIds(converted.map((s) => s.name));
    const authenticatorsValue = [conjurAuthenticators(ids), ...esoAuthenticators(converted)].join(",");
    const policyText = renderPolicy(
      buildEstatePolicy({
        spokes: converted.map((s) => ({ name: s.name, tenants: s.tenants })),
      }),
    );

    const {
      resource: namespace,
      opts: nsOpts,
      meta,
    } = managedNamespace(`${name}-namespace`, { name: ns, podSecurity: "restricted" }, k8sOpts);

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
    const tlsSecret = (
      resourceName: string,
      objectName: string,
      cert: {
        certPem: pulumi.Output<string>;
        keyPem: pulumi.Output<string>;
        caCertPem: pulumi.Output<string>;
      },
    ) =>
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

    // Authenticator CAs and spoke cluster access, mounted only into the policy-load Job.
    const policyInputs: VariableFromFile[] = [];
    const policyVolumes: k8s.types.input.core.v1.Volume[] = [];
    const policyMounts: k8s.types.input.core.v1.VolumeMount[] = [];
    const publicInputs: pulumi.Output<string>[] = [];
    for (const id of ids) {
      const ca = pki.authenticatorCa(id);
      const secretName = `authn-${id}-ca`;
      new k8s.core.v1.Secret(
        `${name}-authn-${id}-ca`,
        {
          metadata: meta(secretName, "authenticator"),
          type: "Opaque",
          stringData: { "ca.crt": ca.certPem, "ca.key": ca.keyPem },
        },
        nsOpts,
      );
      const dir = `${JOB_PATHS.secretsRoot}/${secretName}`;
      policyVolumes.push({ name: secretName, secret: { secretName } });
      policyMounts.push({ name: secretName, mountPath: dir, readOnly: true });
      policyInputs.push(
        { variableId: authenticatorVariableId(id, CA_VARIABLES.cert), file: `${dir}/ca.crt` },
        { variableId: authenticatorVariableId(id, CA_VARIABLES.key), file: `${dir}/ca.key` },
      );
      publicInputs.push(ca.certPem);
    }
    for (const access of args.spokeAccess) {
      const secretName = `authn-${access.id}-cluster`;
      new k8s.core.v1.Secret(
        `${name}-authn-${access.id}-cluster`,
        {
          metadata: meta(secretName, "authenticator"),
          type: "Opaque",
          stringData: {
            "api-url": access.apiUrl,
            "ca.crt": access.caCert,
            token: pulumi.secret(access.serviceAccountToken),
          },
        },
        nsOpts,
      );
      const dir = `${JOB_PATHS.secretsRoot}/${secretName}`;
      policyVolumes.push({ name: secretName, secret: { secretName } });
      policyMounts.push({ name: secretName, mountPath: dir, readOnly: true });
      policyInputs.push(
        {
          variableId: authenticatorVariableId(access.id, CLUSTER_ACCESS_VARIABLES.apiUrl),
          file: `${dir}/api-url`,
        },
        {
          variableId: authenticatorVariableId(access.id, CLUSTER_ACCESS_VARIABLES.caCert),
          file: `${dir}/ca.crt`,
        },
        {
          variableId: authenticatorVariableId(access.id, CLUSTER_ACCESS_VARIABLES.serviceAccountToken),
          file: `${dir}/token`,
        },
      );
      publicInputs.push(pulumi.output(access.apiUrl), pulumi.output(access.caCert));
    }

    // ---- Config (nothing secret) ----
    const nginxConfigText = buildNginxConfig([hub.podCidr]);
    const nginxConfig = new k8s.core.v1.ConfigMap(
      `${name}-nginx`,
      { metadata: meta("conjur-nginx", "conjur"), data: { "nginx.conf": nginxConfigText } },
      nsOpts,
    );
    const internalUrl = `https://${PRIMARY_SERVICE}.${ns}.svc`;
    const policyLoadScript = buildPolicyLoadScript({
      primaryUrl: internalUrl,
      account: spec.conjurAccount,
      variables: policyInputs,
    });
    const policyConfig = new k8s.core.v1.ConfigMap(
      `${name}-policy`,
      {
        metadata: meta("conjur-policy", "policy"),
        data: {
          "policy.yml": policyText,
          "load.sh": policyLoadScript,
          "bootstrap.sh": buildBootstrapScript(),
        },
      },
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
    const jobsSa = serviceAccount(`${name}-jobs-sa`, "conjur-jobs", false);
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

    // ---- Jobs: bootstrap once per account/image, policy load whenever its inputs change ----
    const jobPod = (
      component: string,
      container: k8s.types.input.core.v1.Container,
      volumes: k8s.types.input.core.v1.Volume[],
      uid: number,
    ): k8s.types.input.core.v1.PodTemplateSpec => ({
      metadata: { labels: workloadLabels(`conjur-${component}`, component) },
      spec: {
        restartPolicy: "OnFailure",
        serviceAccountName: jobsSa.metadata.name,
        automountServiceAccountToken: false,
        securityContext: restrictedPodSecurityContext(uid),
        containers: [
          {
            ...container,
            resources: resourceRequirements(JOB_RESOURCES),
            securityContext: restrictedContainerSecurityContext(),
          },
        ],
        volumes,
      },
    });
    const scriptsVolume = { name: "scripts", configMap: { name: policyConfig.metadata.name } };
    const bootstrapJob = new k8s.batch.v1.Job(
      `${name}-bootstrap`,
      {
        metadata: meta(
          `conjur-bootstrap-${contentHash(spec.conjurAccount, spec.images.conjur)}`,
          "bootstrap",
        ),
        spec: {
          backoffLimit: 6,
          template: jobPod(
            "bootstrap",
            {
              name: "bootstrap",
              image: spec.images.conjur,
              command: ["/bin/sh", "/scripts/bootstrap.sh"],
              env: conjurDbEnv,
              volumeMounts: [
                { name: "scripts", mountPath: "/scripts", readOnly: true },
                { name: "admin", mountPath: "/secrets/admin", readOnly: true },
                ...conjurWritableMounts,
              ],
            },
            [
              scriptsVolume,
              { name: "admin", secret: { secretName: adminSecret.metadata.name } },
              ...conjurWritableVolumes,
            ],
            CONJUR_UID,
          ),
        },
      },
      { ...nsOpts, deleteBeforeReplace: true },
    );
    const policyJobName = pulumi
      .all(publicInputs)
      .apply((values) => `conjur-policy-load-${contentHash(policyText, policyLoadScript, ...values)}`);
    new k8s.batch.v1.Job(
      `${name}-policy-load`,
      {
        metadata: { ...meta("conjur-policy-load", "policy"), name: policyJobName },
        spec: {
          backoffLimit: 6,
          template: jobPod(
            "policy-load",
            {
              name: "policy-load",
              image: spec.images.curl,
              command: ["/bin/sh", "/policy/load.sh"],
              volumeMounts: [
                { name: "scripts", mountPath: "/policy", readOnly: true },
                { name: "admin", mountPath: "/secrets/admin", readOnly: true },
                { name: "ca", mountPath: "/etc/conjur/ca", readOnly: true },
                { name: "tmp", mountPath: JOB_PATHS.scratch },
                ...policyMounts,
              ],
            },
            [
              scriptsVolume,
              { name: "admin", secret: { secretName: adminSecret.metadata.name } },
              {
                name: "ca",
                secret: { secretName: primaryTls.metadata.name, items: [{ key: "ca.crt", path: "ca.crt" }] },
              },
              emptyDirVolume("tmp", { memory: true }),
              ...policyVolumes,
            ],
            CURL_UID,
          ),
        },
      },
      { ...nsOpts, dependsOn: [namespace, bootstrapJob] },
    );

    // ---- NetworkPolicies: deny by default, then each flow the hub needs ----
    const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
    const spokeSources = converted.flatMap((s) => s.egressCidrs);
    const jobSelector = (component: string) => ({
      podSelector: { matchLabels: selectorLabels(`conjur-${component}`) },
    });
    netpol("default-deny", "default-deny", defaultDenySpec());
    netpol("primary", "conjur-primary", {
      podSelector: { matchLabels: selectorLabels(PRIMARY_SERVICE) },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          // Spokes (followers' seed fetch, replication) and in-cluster clients over TLS only.
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
        // authn-k8s reads pods from the hub's and every spoke's API server.
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
    netpol("policy-load", "conjur-policy-load", {
      podSelector: { matchLabels: selectorLabels("conjur-policy-load") },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [
        {
          to: [{ podSelector: { matchLabels: selectorLabels(PRIMARY_SERVICE) } }],
          ports: tcpPorts(NGINX_TLS_PORT),
        },
        dnsEgressRule(),
      ],
    });

    this.url = pulumi.output(primaryUrl(hub.advertisedHostname));
    this.internalUrl = pulumi.output(internalUrl);
    this.authenticatorIds = pulumi.output(ids);
    this.authenticators = pulumi.output(authenticatorsValue);
    this.policy = pulumi.output(policyText);
    this.namespace = namespace.metadata.name;
    this.primaryServiceName = pulumi.output(PRIMARY_SERVICE);
    this.registerOutputs({
      url: this.url,
      authenticatorIds: this.authenticatorIds,
      authenticators: this.authenticators,
      policy: this.policy,
    });
  }
}
