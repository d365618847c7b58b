// The shape of the stack config (`hubspoke:*` keys) as the user writes it: every field typed,
// unknown keys rejected, values checked one by one. Defaults and cross-field rules live in spec.ts.
import { z } from "zod";
import {
  cidrsOverlap,
  DNS_LABEL,
  DNS_LABEL_MAX,
  imagePinProblem,
  isAwsRegion,
  imageTagVersion,
  isCertificateHostname,
  LABEL_VALUE,
  looksLikeAwsRegion,
  nearestAwsRegions,
  isLabelKey,
  isLabelValue,
  isPortName,
  parseDurationSeconds,
  parseIpv4Cidr,
  quantityDimensionProblem,
} from "./validators";
import { parseCronSchedule } from "./cron";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

const dnsLabel = z
  .string()
  .max(DNS_LABEL_MAX, `at most ${DNS_LABEL_MAX} characters`)
  .regex(DNS_LABEL, "not a DNS label (lower-case letters, digits and '-', starting and ending alphanumeric)");

/** Names that end up inside other names (`<spoke>-follower`, Job names with a hash) get less room. */
const shortName = dnsLabel.max(30, "at most 30 characters (it prefixes generated object names)");

const hostname = z.string().refine(isCertificateHostname, "not a valid DNS hostname");

const cidr = z
  .string()
  .refine((v) => parseIpv4Cidr(v) !== undefined, "not an IPv4 CIDR (a.b.c.d/n, host bits zero)");

/** A Kubernetes quantity of one dimension: CPU in cores, memory and storage in bytes; never zero. */
const quantityOf = (dimension: "cpu" | "memory" | "storage") =>
  z.string().superRefine((value, ctx) => {
    const problem = quantityDimensionProblem(value, dimension);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
const cpu = quantityOf("cpu");
const memory = quantityOf("memory");
const storage = quantityOf("storage");

/** Where metrics and logs say a cluster runs: a label value; an AWS-looking one must be a real region. */
const region = z.string().superRefine((value, ctx) => {
  if (!LABEL_VALUE.test(value)) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not usable as a metrics label: letters, digits, ".", "_" or "-", at most 63`,
    });
  } else if (looksLikeAwsRegion(value) && !isAwsRegion(value)) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not an AWS region (did you mean ${nearestAwsRegions(value).join(" or ")}?)`,
    });
  }
});
const awsRegion = z.string().superRefine((value, ctx) => {
  if (!isAwsRegion(value)) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not an AWS region (did you mean ${nearestAwsRegions(value).join(" or ")}?)`,
    });
  }
});

const ipv4 = z.string().refine((v) => parseIpv4Cidr(`${v}/32`) !== undefined, "not an IPv4 address");

const image = z.string().superRefine((value, ctx) => {
  const problem = imagePinProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `image ${problem}` });
});

/**
 * The generated Fluent Bit configs are YAML with inline parsers, which Fluent Bit reads from 3.2 on
 * (docs/observability.md); a tag naming an older release is refused. 3.2 up to 5.0 starts without
 * requiring client certificates at the log sink (the sink's config says so).
 */
const fluentBitImage = image.superRefine((value, ctx) => {
  const version = imageTagVersion(value);
  if (version !== undefined && (version.major < 3 || (version.major === 3 && version.minor < 2))) {
    ctx.addIssue({
      code: "custom",
      message: `Fluent Bit ${version.major}.${version.minor} cannot read the generated YAML configuration: use 3.2 or later (5.x to require client certificates)`,
    });
  }
});

const duration = z.string().superRefine((value, ctx) => {
  const seconds = parseDurationSeconds(value);
  if (value.startsWith("-"))
    ctx.addIssue({ code: "custom", message: `"${value}" is negative: give a positive duration` });
  else if (seconds === undefined)
    ctx.addIssue({ code: "custom", message: `"${value}" is not a duration (for example 30s, 1m, 1h30m)` });
  else if (seconds === 0)
    ctx.addIssue({ code: "custom", message: `"${value}" is zero: give a positive duration` });
});

const positiveInt = z.number().int("must be a whole number").min(1, "must be at least 1");

export const resourcesSchema = z.strictObject({
  /** CPU request, a Kubernetes quantity. */
  cpuRequest: cpu.optional(),
  memoryRequest: memory.optional(),
  cpuLimit: cpu.optional(),
  memoryLimit: memory.optional(),
});

export const imagesSchema = z.strictObject({
  conjur: image.optional(),
  nginx: image.optional(),
  postgres: image.optional(),
  /** Conjur Enterprise appliance (licensed, from CyberArk): an in-hub Leader and appliance followers. */
  appliance: image.optional(),
  /** kubectl with a POSIX shell: the in-hub Leader's configuration Job runs `evoke` through `kubectl exec`. */
  kubectl: image.optional(),
  seedFetcher: image.optional(),
  curl: image.optional(),
  prometheus: image.optional(),
  fluentBit: fluentBitImage.optional(),
  awsCli: image.optional(),
  kubeStateMetrics: image.optional(),
});
export type ImageKey = keyof z.infer<typeof imagesSchema>;

/** How the program reaches one cluster's API: exactly one of context, kubeconfigSecret or eks. */
export const clusterSchema = z
  .strictObject({
    /** A context of the kubeconfig file in $KUBECONFIG (or ~/.kube/config). */
    context: z.string().min(1).optional(),
    /** Name of a secret config key (`pulumi config set --secret <key> "$(cat kubeconfig)"`). */
    kubeconfigSecret: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "not a config key name (letters, digits, '_' and '-')")
      .optional(),
    /** An EKS cluster, reached with `aws eks get-token`. */
    eks: z
      .strictObject({
        name: z.string().min(1),
        region: awsRegion,
        roleArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, "not an IAM role ARN")
          .optional(),
        profile: z.string().min(1).optional(),
      })
      .optional(),
    /** The API server URL the hub's Conjur uses to check this cluster's pods (EKS: discovered). */
    apiServer: z.url({ protocol: /^https$/, error: "not an https:// URL" }).optional(),
  })
  .superRefine((c, ctx) => {
    const given = (["context", "kubeconfigSecret", "eks"] as const).filter((k) => c[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `give exactly one of context, kubeconfigSecret or eks (found ${given.length ? given.join(", ") : "none"})`,
      });
    }
  });

export const applicationSchema = z.strictObject({
  /** Application name, unique in its tenant; names its Conjur host and variables. */
  name: shortName,
  /** The Kubernetes ServiceAccount the application runs as (authn-k8s checks it). */
  serviceAccount: dnsLabel,
  /** Restrict authentication further to one Deployment or StatefulSet. */
  workload: z.strictObject({ kind: z.enum(["deployment", "stateful-set"]), name: dnsLabel }).optional(),
  /** Secret variable names; each is readable by this application's host only. */
  secrets: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "not a variable name")).default([]),
});

// ---- tenant onboarding stages ----

/** Pod Security levels, plus `keep`: the stack does not set that mode's label at all. */
export const POD_SECURITY_SETTINGS = ["privileged", "baseline", "restricted", "keep"] as const;
const podSecuritySetting = z.enum(POD_SECURITY_SETTINGS);

export const NETWORK_MODES = ["off", "observe", "enforce"] as const;

/** What the preflight reports; `acknowledge` entries name one of these. */
export const FINDING_CATEGORIES = [
  "pod-security",
  "network",
  "quota",
  "name-collision",
  "label-conflict",
] as const;

const labelKey = z
  .string()
  .refine(
    isLabelKey,
    "not a label key (optional DNS-subdomain prefix and '/', then a name of at most 63 characters)",
  );
const labelValue = z
  .string()
  .refine(isLabelValue, "not a label value (at most 63 characters: letters, digits, '-', '_', '.')");
const podSelector = z.record(labelKey, labelValue);

/**
 * A port as NetworkPolicy takes it: a number, or `{ port, protocol, endPort }` (a name for a named
 * port). A bare number is read as `{ port: <number> }`, so an error names the field that is wrong.
 */
export const networkPortSchema = z.preprocess(
  (value) => (typeof value === "number" || typeof value === "string" ? { port: value } : value),
  z
    .strictObject({
      port: z.union([
        z.number().int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535"),
        z
          .string()
          .refine(isPortName, "not a port number or port name (IANA service name, at most 15 characters)"),
      ]),
      protocol: z.enum(["TCP", "UDP", "SCTP"]).optional(),
      /** Last port of a range starting at `port` (numeric port only). */
      endPort: z.number().int().min(1, "must be 1-65535").max(65535, "must be 1-65535").optional(),
    })
    .superRefine((p, ctx) => {
      if (p.endPort === undefined) return;
      if (typeof p.port !== "number")
        ctx.addIssue({ code: "custom", path: ["endPort"], message: "needs a numeric port" });
      else if (p.endPort < p.port)
        ctx.addIssue({ code: "custom", path: ["endPort"], message: `must be at least port (${p.port})` });
    }),
);
const ports = z.array(networkPortSchema).min(1, "list at least one port, or leave ports out for all ports");

/** Pods of a named namespace (optionally narrowed by labels), on some ports. */
const namespacePeer = z.strictObject({
  namespace: dnsLabel,
  podSelector: podSelector.optional(),
  ports: ports.optional(),
});

const cidrPeer = z
  .strictObject({
    cidr,
    /** Addresses inside `cidr` that stay blocked. */
    except: z.array(cidr).optional(),
    ports: ports.optional(),
  })
  .superRefine((peer, ctx) => {
    const outer = parseIpv4Cidr(peer.cidr);
    (peer.except ?? []).forEach((inner, i) => {
      const parsed = parseIpv4Cidr(inner);
      if (outer && parsed && !(parsed.prefix > outer.prefix && cidrsOverlap(outer, parsed)))
        ctx.addIssue({
          code: "custom",
          path: ["except", i],
          message: `must be a smaller block inside ${peer.cidr}`,
        });
    });
  });

/** Callers: pods of a named namespace, or (outside the cluster) an address block. Exactly one of the two. */
const ingressPeer = z
  .strictObject({
    namespace: dnsLabel.optional(),
    podSelector: podSelector.optional(),
    cidr: cidr.optional(),
    except: z.array(cidr).optional(),
    ports: ports.optional(),
  })
  .superRefine((peer, ctx) => {
    if ((peer.namespace === undefined) === (peer.cidr === undefined))
      ctx.addIssue({
        code: "custom",
        message:
          "names no namespace: give `namespace` (with an optional podSelector) for callers in the cluster, or `cidr` for callers outside it",
      });
    if (peer.cidr !== undefined && peer.podSelector !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["podSelector"],
        message: "applies to a namespace, not to a cidr",
      });
    if (peer.namespace !== undefined && peer.except !== undefined)
      ctx.addIssue({ code: "custom", path: ["except"], message: "applies to a cidr, not to a namespace" });
  });

export const podSecurityConfigSchema = z.strictObject({
  /** Level the API server enforces at pod creation (`keep`: the namespace's own label is left alone). */
  enforce: podSecuritySetting.optional(),
  /** Level recorded in the audit log for pods that violate it. */
  audit: podSecuritySetting.optional(),
  /** Level returned as warnings to clients (kubectl, CI) creating violating objects. */
  warn: podSecuritySetting.optional(),
  /** Pod Security Standards version, pinned (`v1.33`) or `latest`. */
  version: z
    .string()
    .regex(/^(v1\.\d{1,2}|latest)$/, "not a Pod Security version (v1.<minor> or latest)")
    .optional(),
});

export const networkConfigSchema = z.strictObject({
  /** off: no policies; observe: none either, the preflight reports what enforce would cut; enforce: deny plus allow-lists. */
  mode: z.enum(NETWORK_MODES).optional(),
  /** Callers admitted into the tenant (added to the spoke's tenantDefaults list). */
  ingressFrom: z.array(ingressPeer).optional(),
  egressTo: z
    .strictObject({
      /** Address blocks outside the cluster (databases, SaaS NAT ranges), optionally per port. */
      cidrs: z
        .array(z.preprocess((value) => (typeof value === "string" ? { cidr: value } : value), cidrPeer))
        .optional(),
      /** Services in other namespaces. */
      namespaces: z.array(namespacePeer).optional(),
      /** The Kubernetes API server (443 and 6443): `true` for any address, or its addresses. */
      kubeApi: z.union([z.boolean(), z.strictObject({ cidrs: z.array(cidr).min(1) })]).optional(),
      /** CoreDNS in kube-system is always allowed; NodeLocal DNSCache listens on a link-local address. */
      dns: z.strictObject({ nodeLocal: ipv4.optional() }).optional(),
      /** The service-mesh control plane (Istio: istiod in istio-system on 15012). */
      meshControlPlane: z
        .strictObject({ namespace: dnsLabel, podSelector: podSelector.optional(), ports: ports.optional() })
        .optional(),
    })
    .optional(),
});

/** Per-tenant settings a spoke's `tenantDefaults` may preset. */
const stageSettings = {
  /** Conjur onboarding: the authenticator's RoleBinding, the applications' host identities, follower access. */
  onboarding: z.strictObject({ conjur: z.boolean().optional() }).optional(),
  podSecurity: podSecurityConfigSchema.optional(),
  network: networkConfigSchema.optional(),
};

export const tenantDefaultsSchema = z.strictObject(stageSettings);

export const acknowledgementSchema = z.strictObject({
  category: z.enum(FINDING_CATEGORIES),
  /** Kind of the object the finding names (Deployment, CronJob, Namespace, ...); omitted = any. */
  kind: z.string().min(1).optional(),
  /** Name of the object the finding names; omitted = any. */
  name: z.string().min(1).optional(),
  /** Why the finding is accepted: kept in the preflight report. */
  reason: z.string().min(1, "say why the finding is accepted"),
});

export const tenantSchema = z.strictObject({
  /** The tenant's namespace name. */
  name: dnsLabel,
  /** The namespace exists on the cluster already: adopt it, never create or delete it. */
  existing: z.boolean().default(true),
  /** How an existing namespace is adopted: `patch` (add our labels only) or `import` (take ownership); only with `existing: true`. */
  adopt: z.enum(["patch", "import"]).default("patch"),
  ...stageSettings,
  quota: z
    .strictObject({
      requestsCpu: cpu.optional(),
      requestsMemory: memory.optional(),
      limitsCpu: cpu.optional(),
      limitsMemory: memory.optional(),
      pods: positiveInt.optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      defaultCpu: cpu.optional(),
      defaultMemory: memory.optional(),
      defaultRequestCpu: cpu.optional(),
      defaultRequestMemory: memory.optional(),
    })
    .optional(),
  applications: z.array(applicationSchema).default([]),
  /** Preflight findings this tenant accepts (an `enforce` stage refuses any other). */
  acknowledge: z.array(acknowledgementSchema).default([]),
  /**
   * External Secrets Operator: a SecretStore per application service account and an ExternalSecret per
   * declared secret (`true`, or settings for this tenant). See docs/configuration.md.
   */
  externalSecrets: z
    .union([z.boolean(), z.strictObject({ refreshInterval: duration.optional() })])
    .default(false),
});

const iamRoleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, "not an IAM role ARN");

/** How Argo CD on the hub reaches an EKS spoke: `awsAuthConfig` with this role (docs/gitops.md). */
export const spokeArgoCdSchema = z.strictObject({
  /** IAM role Argo CD's management role assumes for this cluster; it gets an EKS access entry here. */
  roleArn: iamRoleArn.optional(),
});

export const spokeSchema = z.strictObject({
  /** Spoke name: names its authenticator (`authn-k8s/<name>`), certificates and objects. */
  name: shortName,
  /** Key of `clusters` this spoke runs on. */
  cluster: z.string().min(1),
  region,
  /** Pod CIDR of the spoke cluster; must not overlap any other cluster's. */
  podCidr: cidr,
  /** Source addresses the hub sees for this spoke's traffic (default: the pod CIDR). */
  egressCidrs: z.array(cidr).min(1).optional(),
  /** Conversion wave: the spoke is converted once `conversion.phase` reaches it. */
  phase: positiveInt,
  follower: z
    .strictObject({
      replicas: positiveInt.optional(),
      resources: resourcesSchema.optional(),
      /** Extra DNS names the follower is reached at (put in its certificate). */
      externalHostnames: z.array(hostname).default([]),
    })
    .default({ externalHostnames: [] }),
  /**
   * How Conjur checks this cluster's service-account tokens (authn-jwt/<spoke>). Defaults: on EKS the
   * cluster's OIDC issuer and its `/keys`; otherwise `https://kubernetes.default.svc.cluster.local`
   * and the API server's `/openid/v1/jwks` (trusted through the cluster CA).
   */
  jwt: z
    .strictObject({
      /** `iss` of the cluster's service-account tokens (`kubectl get --raw /.well-known/openid-configuration`). */
      issuer: z.string().min(1).optional(),
      /** Where Conjur fetches the token-signing keys (https). */
      jwksUri: z.url({ protocol: /^https$/, error: "not an https:// URL" }).optional(),
      /** The keys themselves, a JWKS document (`kubectl get --raw /openid/v1/jwks`), when Conjur cannot reach them. */
      publicKeys: z.string().min(1).optional(),
    })
    .optional(),
  /** Onboarding settings every tenant of this spoke starts from (a tenant's own value wins; lists add up). */
  tenantDefaults: tenantDefaultsSchema.optional(),
  tenants: z.array(tenantSchema).default([]),
  /** Argo CD registration of this spoke (with gitops.argocd.enabled). */
  argocd: spokeArgoCdSchema.optional(),
  monitoring: z
    .strictObject({
      /** How the hub reaches this spoke's Prometheus: a LoadBalancer Service, or ClusterIP behind your own route. */
      exposure: z.enum(["LoadBalancer", "ClusterIP"]).optional(),
      /** DNS name the hub federates from (default `prometheus-<spoke>.<domain of hub.advertisedHostname>`). */
      hostname: hostname.optional(),
    })
    .optional(),
});

export const hubSchema = z.strictObject({
  /** Key of `clusters` the hub runs on. */
  cluster: z.string().min(1),
  region,
  podCidr: cidr,
  /** DNS names of the primary; all go into its certificate. */
  hostnames: z.array(hostname).min(1, "at least one hostname"),
  /** The name spokes use to reach the primary (default: the first hostname); must be covered by hostnames. */
  advertisedHostname: hostname.optional(),
  serviceType: z.enum(["LoadBalancer", "ClusterIP"]).optional(),
  /** DNS name spokes send logs to (default `conjur-logs.<domain of advertisedHostname>`). */
  logSinkHostname: hostname.optional(),
  /** Limit who may reach the LoadBalancer (cloud firewall), in addition to the NetworkPolicy. */
  loadBalancerSourceRanges: z.array(cidr).optional(),
  /** Addresses the primary's LoadBalancer has, for spokes' egress policies (default: any address, port 443). */
  primaryCidrs: z.array(cidr).optional(),
  /** Addresses the log sink's LoadBalancer has, for the spokes' forwarder egress (default: any, forward port). */
  logSinkCidrs: z.array(cidr).optional(),
  /** Addresses the hub's traffic leaves from (NAT): spokes admit federation scrapes from these only. */
  egressCidrs: z.array(cidr).optional(),
  replicas: positiveInt.optional(),
  logLevel: z.enum(["debug", "info", "warn", "error"]).optional(),
  resources: z
    .strictObject({
      conjur: resourcesSchema.optional(),
      nginx: resourcesSchema.optional(),
      postgres: resourcesSchema.optional(),
    })
    .optional(),
  postgres: z
    .strictObject({
      storageSize: storage.optional(),
      storageClass: dnsLabel.optional(),
    })
    .optional(),
  logSink: z
    .strictObject({
      kind: z.enum(["stdout", "elasticsearch", "opensearch"]),
      host: hostname.optional(),
      port: z.number().int().min(1).max(65535).optional(),
      /** Index name as Elasticsearch/OpenSearch accept it (lower case). */
      index: z
        .string()
        .regex(/^[a-z0-9][a-z0-9._-]*$/, "not an index name (lower-case letters, digits, '.', '_', '-')")
        .optional(),
      /** Secret config key holding `user:password` for the destination. */
      credentialsSecret: z.string().min(1).optional(),
    })
    .optional(),
});

export const certificatesSchema = z.strictObject({
  caValidityHours: positiveInt.optional(),
  validityHours: positiveInt.optional(),
  earlyRenewalHours: positiveInt.optional(),
});

export const monitoringSchema = z.strictObject({
  scrapeInterval: duration.optional(),
  federationInterval: duration.optional(),
  federationTimeout: duration.optional(),
  /** `match[]` selectors the hub federates (default: Conjur series, up, recording-rule aggregates). */
  federationMatch: z
    .array(z.string().refine((v) => v.trim() !== "", "empty selector"))
    .min(1, "at least one selector")
    .optional(),
  sampleLimit: positiveInt.optional(),
});

// ---- disaster recovery (docs/disaster-recovery.md) ----

/** A schedule the CronJob controller accepts (five fields, names, ranges, steps, @-macros). */
const cronSchedule = z.string().superRefine((value, ctx) => {
  const parsed = parseCronSchedule(value);
  if (!parsed.ok) ctx.addIssue({ code: "custom", message: `not a cron schedule: ${parsed.message}` });
});

/**
 * A bucket name S3 accepts for a new general purpose bucket (docs.aws.amazon.com/AmazonS3/latest/
 * userguide/bucketnamingrules.html); dots are refused too: they break TLS for virtual-hosted
 * requests, and the bucket policy refuses anything but TLS.
 */
const BUCKET_RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const BUCKET_RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", "--x-s3", "--table-s3", ".mrap"];
const bucketName = z.string().superRefine((value, ctx) => {
  const problem =
    value.length < 3 || value.length > 63
      ? `is ${value.length} characters long; S3 bucket names have 3 to 63`
      : value.includes(".")
        ? "contains a dot: S3 allows it, but TLS to a dotted bucket name fails (use '-')"
        : !/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(value)
          ? "is not an S3 bucket name (lower-case letters, digits and '-', starting and ending with a letter or digit)"
          : BUCKET_RESERVED_PREFIXES.find((p) => value.startsWith(p))
            ? `starts with a prefix S3 reserves (${BUCKET_RESERVED_PREFIXES.join(", ")})`
            : BUCKET_RESERVED_SUFFIXES.find((p) => value.endsWith(p))
              ? `ends with a suffix S3 reserves (${BUCKET_RESERVED_SUFFIXES.join(", ")})`
              : undefined;
  if (problem) ctx.addIssue({ code: "custom", message: `"${value}" ${problem}` });
});

export const backupSchema = z.strictObject({
  /** S3 bucket the stack creates for the backups (globally unique). */
  bucket: bucketName,
  /** AWS region of the bucket and its KMS key (default: hub.region, when that is an AWS region). */
  region: awsRegion.optional(),
  /** Key prefix of the backup objects (default `conjur-hub/<environment>`). */
  prefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*$/, "not a key prefix (lower-case words joined by '/')")
    .optional(),
  /** When the backup CronJob runs (cron, UTC). */
  schedule: cronSchedule.optional(),
  /** Recovery point objective: the alert fires when the last successful backup is older. */
  rpo: duration.optional(),
  /** Days a backup object is kept before the lifecycle rule expires it. */
  retentionDays: positiveInt.optional(),
  /** S3 Object Lock default retention (prod default: COMPLIANCE for 30 days; a new bucket only). */
  objectLock: z.strictObject({ mode: z.enum(["GOVERNANCE", "COMPLIANCE"]), days: positiveInt }).optional(),
  /** Secret in conjur-system with an AWS shared credentials file under key `credentials` (hubs not on EKS). */
  credentialsSecret: dnsLabel.optional(),
  /** Also keep the data key, backup key and CA in an AWS Secrets Manager secret (default: prod). */
  escrow: z.boolean().optional(),
  /** Addresses of the S3/KMS/STS endpoints the backup may reach on 443 (default: any address). */
  endpointCidrs: z.array(cidr).min(1).optional(),
});

export const failoverSchema = z.strictObject({
  /** Route53 hosted zone holding the Conjur hostname. */
  zoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{1,31}$/, "not a Route53 hosted zone id (Z followed by letters and digits)"),
  /** The name clients and spokes use (default hub.advertisedHostname); must be in the certificates. */
  hostname: hostname.optional(),
  /** DNS name of the primary hub's load balancer (the PRIMARY record's target, health-checked). */
  primaryTarget: hostname,
  /** The standby hub: another cluster, another region; the SECONDARY record points at it. */
  standby: z.strictObject({ target: hostname, region: awsRegion }).optional(),
  /** Path the health check requests over HTTPS (default `/`: Conjur's own status, not nginx's). */
  healthCheckPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._~\/-]*$/, "not a URL path")
    .optional(),
});

/** The External Secrets Operator on the spokes (a prerequisite, like Argo CD on the hub). */
export const externalSecretsSchema = z.strictObject({
  /** Namespace ESO's controller runs in on every spoke. */
  namespace: dnsLabel.default("external-secrets"),
  /** Labels of ESO's controller pods (the Helm chart's default), for the NetworkPolicy peer. */
  controllerLabels: podSelector.default({ "app.kubernetes.io/name": "external-secrets" }),
  /** How often each ExternalSecret re-reads Conjur (a tenant may override it). */
  refreshInterval: duration.default("1h"),
});

/** Registration of converted spokes with the Argo CD that runs on the hub (docs/gitops.md). */
export const argocdSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Namespace Argo CD runs in on the hub (a prerequisite: the stack does not install Argo CD). */
  namespace: dnsLabel.optional(),
  /** Where Argo CD may deploy on a spoke: its tenant namespaces (default) or every namespace but the protected ones. */
  access: z.enum(["tenants", "all-namespaces"]).default("tenants"),
  /** Git repository the ApplicationSet deploys from: one directory per spoke, `<path>/<spoke>`. */
  repoURL: z
    .string()
    .regex(/^(https:\/\/|ssh:\/\/|git@)[^\s]+$/, "not a Git repository URL (https://, ssh:// or git@)")
    .optional(),
  targetRevision: z.string().min(1).default("HEAD"),
  path: z
    .string()
    .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "not a relative directory path")
    .refine((v) => !v.split("/").includes(".."), "must stay inside the repository (no '..')")
    .default("spokes"),
});

export const gitopsSchema = z.strictObject({ argocd: argocdSchema.optional() });

const pem = z
  .string()
  .refine(
    (v) => /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(v),
    "not a PEM certificate",
  );

/** The Leader's https URL, as followers (and, external, the policy-load Job) reach it. */
const leaderUrl = z.url({ protocol: /^https$/, error: "not an https:// URL" });
/** The Leader's addresses, for the followers' egress policies (default: any address, on the Leader's ports only). */
const leaderCidrs = z.array(cidr).min(1).optional();

/**
 * The Conjur Enterprise Leader outside Kubernetes (CyberArk's recommended placement): the stack manages
 * its policy, authenticators and seeds through its API.
 */
export const externalLeaderSchema = z.strictObject({
  placement: z.literal("external"),
  url: leaderUrl,
  /** PEM of the CA that issued the Leader's certificate (public). */
  caCertificate: pem,
  /** Config key (set with --secret) holding the Leader's admin password: policy load and authenticators. */
  adminPasswordSecret: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "not a config key name (letters, digits, '_' and '-')"),
  cidrs: leaderCidrs,
});

/**
 * The Leader in the hub cluster (docs/architecture.md, "A Leader in the hub cluster"): the appliance
 * image in a StatefulSet, configured by the stack with `evoke`, under the estate PKI, with Standbys.
 */
export const hubLeaderSchema = z.strictObject({
  placement: z.literal("hub"),
  /** The external https URL followers use (its host goes into the Leader's certificate and `evoke configure leader -h`). */
  url: leaderUrl,
  /** Further DNS names the Leader's certificate must carry (a second load balancer name, say). */
  altNames: z.array(hostname).default([]),
  /** Standbys: further appliance pods configured with `evoke configure standby` (promoted by hand). */
  standbys: z
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(4, "at most 4")
    .default(0),
  /** The pod that is the Leader (0 until a Standby is promoted by hand: docs/operations.md). */
  activeNode: z.number().int("must be a whole number").min(0, "must be 0 or more").default(0),
  /** Persistent volume per appliance pod (configuration, keys, backups, seeds, logs). */
  storage: z.strictObject({ size: storage.optional(), class: dnsLabel.optional() }).default({}),
  resources: resourcesSchema.optional(),
  cidrs: leaderCidrs,
});

export const leaderSchema = z.discriminatedUnion("placement", [externalLeaderSchema, hubLeaderSchema], {
  error:
    'expected placement "external" (CyberArk\'s recommendation) or "hub" (the appliance in the hub cluster)',
});

export const CONJUR_EDITIONS = ["oss", "enterprise"] as const;
export const FOLLOWER_KINDS = ["kubernetes", "appliance"] as const;

export const conjurSchema = z.strictObject({
  /** oss: Conjur Open Source on the hub, no followers. enterprise: a Leader and a follower per spoke. */
  edition: z.enum(CONJUR_EDITIONS, { error: 'expected "oss" or "enterprise"' }).default("oss"),
  leader: leaderSchema.optional(),
  follower: z
    .strictObject({
      /** kubernetes: CyberArk's Kubernetes Follower (operator + ConjurFollower, non-root); appliance: the seed-fetched appliance. */
      kind: z.enum(FOLLOWER_KINDS, { error: 'expected "kubernetes" or "appliance"' }).optional(),
      /** Registry path and version of the Kubernetes Follower images (licensed, from CyberArk). */
      images: z
        .strictObject({
          registry: z
            .string()
            .regex(/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*$/, "not a registry path (host[:port]/path)"),
          version: z.string().regex(/^[0-9]+\.[0-9]+(\.[0-9]+)?$/, "not a version (for example 2.6.0)"),
        })
        .optional(),
    })
    .optional(),
});

/** How the estate is split across stacks (stacks/layout.ts, docs/sharding.md). */
export const layoutSchema = z.strictObject({
  /** single: one stack (default); hub: the hub stack of a sharded layout; shard: one shard of its spokes. */
  role: z
    .enum(["single", "hub", "shard"], { error: 'expected "single", "hub" or "shard"' })
    .default("single"),
  /** shard: the hub stack whose outputs it reads, as organization/project/stack. */
  hubStack: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/,
      "not a stack reference (organization/project/stack)",
    )
    .optional(),
  /** hub: the egress CIDRs of the shards' spokes, which the hub's log sink admits. */
  spokeCidrs: z.array(cidr).min(1).optional(),
});

/** Every `hubspoke:` key the program reads; any other key is an error (a typo must not pass). */
export const configSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  conjurAccount: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, "not a Conjur account name (letters, digits, '_' and '-')"),
  conjur: conjurSchema.default({ edition: "oss" }),
  clusters: z.record(dnsLabel, clusterSchema),
  hub: hubSchema,
  spokes: z.array(spokeSchema).default([]),
  conversion: z.strictObject({ phase: z.number().int().min(0, "must be 0 or more") }).default({ phase: 0 }),
  images: imagesSchema.default({}),
  certificates: certificatesSchema.default({}),
  monitoring: monitoringSchema.default({}),
  /** Scheduled, encrypted backups of the hub's Conjur database to S3 (off when absent). */
  backup: backupSchema.optional(),
  /** Route53 failover of the Conjur hostname to a standby hub (off when absent). */
  failover: failoverSchema.optional(),
  gitops: gitopsSchema.default({}),
  layout: layoutSchema.default({ role: "single" }),
  externalSecrets: externalSecretsSchema.default({
    namespace: "external-secrets",
    controllerLabels: { "app.kubernetes.io/name": "external-secrets" },
    refreshInterval: "1h",
  }),
  /** Protect the data key and CAs from deletion (default: true in prod). */
  protectIrreplaceable: z.boolean().optional(),
  /** Write manifests to this directory instead of applying them (secrets land on disk in clear). */
  renderYamlToDirectory: z.string().min(1).optional(),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ResourcesConfig = z.output<typeof resourcesSchema>;
export type TenantConfig = z.output<typeof tenantSchema>;
export type ApplicationConfig = z.output<typeof applicationSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type ConjurConfig = z.output<typeof conjurSchema>;
export type LeaderConfig = z.output<typeof leaderSchema>;
export type TenantDefaultsConfig = z.output<typeof tenantDefaultsSchema>;
export type NetworkConfig = z.output<typeof networkConfigSchema>;
export type NetworkPortConfig = z.output<typeof networkPortSchema>;
export type BackupConfig = z.output<typeof backupSchema>;
export type FailoverConfig = z.output<typeof failoverSchema>;
export type ExternalSecretsConfig = z.output<typeof externalSecretsSchema>;
export type ArgoCdConfig = z.output<typeof argocdSchema>;
export type LayoutConfig = z.output<typeof layoutSchema>;
export type AcknowledgementConfig = z.output<typeof acknowledgementSchema>;
