// Turns the raw `hubspoke:*` config into one validated, defaulted StackSpec. Every problem is
// reported with its key path, all at once; callers register no resource unless this succeeds.
import { z } from "zod";
import {
  BACKUP_DEFAULTS,
  DEFAULT_IMAGES,
  ENVIRONMENT_DEFAULTS,
  HUB_LEADER_DEFAULTS,
  MONITORING_DEFAULTS,
  PublicImageKey,
  Resources,
} from "./defaults";
import {
  ClusterConfig,
  ConjurConfig,
  configSchema,
  Environment,
  ParsedConfig,
  ResourcesConfig,
  TenantConfig,
} from "./schema";
import {
  certificateNameCovers,
  cidrsOverlap,
  isAwsRegion,
  Ipv4Cidr,
  parseDurationSeconds,
  parseIpv4Cidr,
} from "./validators";
import { CONJUR_NAMESPACE, HUB_AUTHENTICATOR_ID, RESERVED_NAMESPACES } from "./reserved";

/** The follower Service's in-cluster name on every enterprise spoke (its certificate covers it). */
export const FOLLOWER_SERVICE_FQDN = `conjur-follower.${CONJUR_NAMESPACE}.svc.cluster.local`;
import { referencedSecretKeys, secretValueErrors } from "./config-keys";
import { crossFieldRuleErrors } from "./rules";
import {
  ExternalSecretsSpec,
  externalSecretsRuleErrors,
  resolveTenantExternalSecrets,
  TenantExternalSecrets,
} from "./external-secrets";
import { ArgoCdCredentials, ArgoCdSpec, argocdCredentials, gitopsRuleErrors, resolveArgoCd } from "./gitops";
import { ConfigError, formatConfigError, formatPath } from "./errors";
import { LayoutSpec, layoutRuleErrors, resolveLayout } from "./layout";
import {
  Acknowledgement,
  legacyTenantKeyProblems,
  resolveAcknowledgements,
  resolveTenantStage,
  TenantStage,
} from "./tenancy";

export {
  ConfigValidationError,
  formatConfigError,
  formatPath,
  isConfigValidationError,
  type ConfigError,
} from "./errors";

export interface HubSpec {
  readonly cluster: string;
  readonly region: string;
  readonly podCidr: string;
  readonly hostnames: readonly string[];
  readonly advertisedHostname: string;
  readonly serviceType: "LoadBalancer" | "ClusterIP";
  readonly logSinkHostname: string;
  readonly loadBalancerSourceRanges: readonly string[];
  readonly primaryCidrs: readonly string[];
  readonly logSinkCidrs: readonly string[];
  readonly egressCidrs: readonly string[];
  readonly replicas: number;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly resources: { readonly conjur: Resources; readonly nginx: Resources; readonly postgres: Resources };
  readonly postgres: { readonly storageSize: string; readonly storageClass?: string };
  readonly logSink: LogSinkSpec;
}

export type LogSinkSpec =
  | { readonly kind: "stdout" }
  | {
      readonly kind: "elasticsearch" | "opensearch";
      readonly host: string;
      readonly port: number;
      readonly index: string;
      readonly credentialsSecret: string;
    };

/** What followers and the stack need of any Leader: where it is reached. */
interface LeaderEndpoint {
  /** https URL and host name of the Leader (or its load balancer), as followers reach it. */
  readonly url: string;
  readonly hostname: string;
  /** The Leader's addresses for egress policies; empty means any address (ports still limited). */
  readonly cidrs: readonly string[];
}

/** The Conjur Enterprise Leader, outside Kubernetes (CyberArk's recommended placement). */
export interface ExternalLeaderSpec extends LeaderEndpoint {
  readonly placement: "external";
  /** PEM of the CA that issued the Leader's certificate. */
  readonly caCertificate: string;
  /** Config key holding the admin password (secret). */
  readonly adminPasswordSecret: string;
}

/** The Leader in the hub cluster: the appliance, configured by the stack, under the estate CA. */
export interface HubLeaderSpec extends LeaderEndpoint {
  readonly placement: "hub";
  /** Further names the Leader's certificate carries. */
  readonly altNames: readonly string[];
  readonly standbys: number;
  /** Ordinal of the appliance pod that is the Leader (the others are Standbys). */
  readonly activeNode: number;
  readonly storage: { readonly size: string; readonly class?: string };
  readonly resources: Resources;
}

export type LeaderSpec = ExternalLeaderSpec | HubLeaderSpec;

/**
 * The CA that signs the Leader's certificate (and the certificates it gives followers): the one given
 * for an external Leader; the estate's root CA for a Leader in the hub (its PKI is imported with
 * `evoke ca import`).
 */
export function leaderCaPem<T>(leader: LeaderSpec, estateCaPem: T): string | T {
  return leader.placement === "external" ? leader.caCertificate : estateCaPem;
}

/** The Kubernetes Follower's container images, as CyberArk names them under one registry path. */
export const KUBERNETES_FOLLOWER_IMAGES = {
  conjur: "conjur-kubernetes-follower-conjur",
  info: "conjur-kubernetes-follower-info",
  nginx: "conjur-kubernetes-follower-nginx",
  postgres: "conjur-kubernetes-follower-postgres",
  configurator: "conjur-kubernetes-follower-configurator",
  syslogNg: "conjur-kubernetes-follower-syslog-ng",
  failoverRebaser: "conjur-kubernetes-follower-failover-rebaser",
} as const;
export type KubernetesFollowerImages = Readonly<Record<keyof typeof KUBERNETES_FOLLOWER_IMAGES, string>>;

export type FollowerSpec =
  { readonly kind: "kubernetes"; readonly images: KubernetesFollowerImages } | { readonly kind: "appliance" };

/** The Conjur topology (docs/architecture.md, "Conjur topology"). */
export type ConjurSpec =
  | { readonly edition: "oss" }
  | { readonly edition: "enterprise"; readonly leader: LeaderSpec; readonly follower: FollowerSpec };

/** How Conjur checks a spoke's service-account tokens; unset values are derived from the cluster. */
export interface SpokeJwtSpec {
  readonly issuer?: string;
  readonly jwksUri?: string;
  readonly publicKeys?: string;
}

export interface ApplicationSpec {
  readonly name: string;
  readonly serviceAccount: string;
  readonly workload?: { readonly kind: "deployment" | "stateful-set"; readonly name: string };
  readonly secrets: readonly string[];
}

export interface TenantSpec {
  readonly name: string;
  readonly existing: boolean;
  readonly adopt: "patch" | "import";
  readonly quota?: TenantConfig["quota"];
  readonly limits?: TenantConfig["limits"];
  readonly applications: readonly ApplicationSpec[];
  /** External Secrets Operator objects for the tenant's application secrets, or false. */
  readonly externalSecrets: TenantExternalSecrets;
  /** Onboarding and isolation, resolved from the tenant, its spoke's tenantDefaults and the built-ins. */
  readonly stage: TenantStage;
  /** Preflight findings the tenant accepts. */
  readonly acknowledge: readonly Acknowledgement[];
}

export interface SpokeSpec {
  readonly name: string;
  readonly cluster: string;
  readonly region: string;
  readonly podCidr: string;
  readonly egressCidrs: readonly string[];
  readonly phase: number;
  /** Whether `conversion.phase` has reached this spoke: only converted spokes get resources. */
  readonly converted: boolean;
  readonly follower: {
    readonly replicas: number;
    readonly resources: Resources;
    readonly externalHostnames: readonly string[];
  };
  readonly tenants: readonly TenantSpec[];
  readonly jwt: SpokeJwtSpec;
  readonly monitoring: { readonly exposure: "LoadBalancer" | "ClusterIP"; readonly hostname: string };
  /** How Argo CD on the hub authenticates to this spoke (used with gitops.argocd). */
  readonly argocd: ArgoCdCredentials;
}

/** Scheduled backups of the hub's Conjur database (docs/disaster-recovery.md). */
export interface BackupSpec {
  readonly bucket: string;
  readonly region: string;
  readonly prefix: string;
  readonly schedule: string;
  readonly rpo: string;
  readonly rpoSeconds: number;
  readonly retentionDays: number;
  readonly objectLock?: { readonly mode: "GOVERNANCE" | "COMPLIANCE"; readonly days: number };
  /** EKS Pod Identity for the hub's EKS cluster, or a Secret holding an AWS credentials file. */
  readonly credentials:
    | { readonly kind: "podIdentity"; readonly clusterName: string }
    | { readonly kind: "secret"; readonly secretName: string };
  readonly escrow: boolean;
  readonly endpointCidrs: readonly string[];
}

/** Route53 failover of the Conjur hostname from the hub to a standby hub. */
export interface FailoverSpec {
  readonly zoneId: string;
  readonly hostname: string;
  readonly primaryTarget: string;
  readonly standby: { readonly target: string; readonly region: string };
  readonly healthCheckPath: string;
}

export interface StackSpec {
  readonly environment: Environment;
  readonly conjurAccount: string;
  readonly conjur: ConjurSpec;
  readonly clusters: Readonly<Record<string, ClusterConfig>>;
  readonly hub: HubSpec;
  readonly spokes: readonly SpokeSpec[];
  readonly conversionPhase: number;
  readonly images: Readonly<Record<PublicImageKey, string>> & { readonly appliance?: string };
  readonly certificates: {
    readonly caValidityHours: number;
    readonly validityHours: number;
    readonly earlyRenewalHours: number;
  };
  readonly monitoring: {
    readonly scrapeInterval: string;
    readonly federationInterval: string;
    readonly federationTimeout: string;
    readonly federationMatch?: readonly string[];
    readonly sampleLimit: number;
  };
  readonly protectIrreplaceable: boolean;
  readonly renderYamlToDirectory?: string;
  readonly backup?: BackupSpec;
  readonly failover?: FailoverSpec;
  /** The External Secrets Operator on the spokes (used by tenants that opt in). */
  readonly externalSecrets: ExternalSecretsSpec;
  /** Argo CD registration of converted spokes; undefined when off. */
  readonly argocd?: ArgoCdSpec;
  /** One stack, or the hub or a shard of a sharded layout (docs/sharding.md). */
  readonly layout: LayoutSpec;
}

export type SpecResult = { ok: true; spec: StackSpec } | { ok: false; errors: ConfigError[] };

/** A value as an error message may show it: its type and a short rendering. */
function describeValue(value: unknown): string {
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  const text = JSON.stringify(value) ?? String(value);
  return `${type} ${text.length > 60 ? text.slice(0, 57) + "..." : text}`;
}

function issueMessage(issue: z.core.$ZodIssue, showValue: boolean): string {
  if (issue.code === "unrecognized_keys")
    return `unknown key${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return `required (expected ${issue.expected})`;
    return `expected ${issue.expected}, got ${showValue ? describeValue(issue.input) : "a secret value (not shown)"}`;
  }
  return issue.message;
}

export interface BuildOptions {
  /** Keys (without the namespace) whose values are secret (`secure:`), when known. */
  readonly secretKeys?: ReadonlySet<string>;
}

/**
 * Validates and defaults the config. `config` maps key names without the `hubspoke:` prefix to
 * their values (objects already parsed from JSON). Keys named by `clusters.*.kubeconfigSecret`
 * and `hub.logSink.credentialsSecret` are the secret values themselves and are checked for presence only.
 */
export function buildStackSpec(
  config: Readonly<Record<string, unknown>>,
  options: BuildOptions = {},
): SpecResult {
  const secretKeys = referencedSecretKeys(config);
  const secure = options.secretKeys ?? new Set<string>();
  const schemaInput: Record<string, unknown> = {};
  const errors: ConfigError[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (secretKeys.has(key)) continue;
    // A secure value where the program reads plain config would end up in plain resources.
    if (secure.has(key)) {
      errors.push({
        path: key,
        message: "is read as plain configuration: set it without --secret (the secret value is not shown)",
      });
      continue;
    }
    schemaInput[key] = value;
  }
  errors.push(...legacyTenantKeys(schemaInput), ...legacyImageKeys(schemaInput));
  if (options.secretKeys) errors.push(...secretValueErrors(config, options.secretKeys));
  const parsed = configSchema.safeParse(schemaInput, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // An unknown key is reported at the key itself, so the path names the typo.
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys)
          errors.push({ path: formatPath([...issue.path, key]), message: "unknown key" });
      } else {
        errors.push({ path: formatPath(issue.path), message: issueMessage(issue, true) });
      }
    }
  }
  errors.push(
    ...crossFieldErrors(config),
    ...crossFieldRuleErrors(config),
    ...gitopsRuleErrors(config),
    ...externalSecretsRuleErrors(config),
    ...layoutRuleErrors(config),
  );
  if (errors.length > 0 || !parsed.success) return { ok: false, errors: dedupe(errors) };
  return { ok: true, spec: applyDefaults(parsed.data) };
}

function dedupe(errors: ConfigError[]): ConfigError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = formatConfigError(e);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Reports keys of the old tenant format with what to write instead, and drops them from the
 * schema's input (a copy), so each is reported once, clearly.
 */
function legacyTenantKeys(input: Record<string, unknown>): ConfigError[] {
  const errors: ConfigError[] = [];
  if (!Array.isArray(input["spokes"])) return errors;
  input["spokes"] = input["spokes"].map((spoke: unknown, i) => {
    if (!isRecord(spoke) || !Array.isArray(spoke["tenants"])) return spoke;
    const tenants = spoke["tenants"].map((tenant: unknown, j) => {
      if (!isRecord(tenant)) return tenant;
      const problems = legacyTenantKeyProblems(tenant);
      if (problems.length === 0) return tenant;
      const copy = { ...tenant };
      for (const { key, message } of problems) {
        errors.push({ path: `spokes[${i}].tenants[${j}].${key}`, message });
        delete copy[key];
      }
      return copy;
    });
    return { ...spoke, tenants };
  });
  return errors;
}

/** `images.follower` became `images.appliance` (the same image serves the in-hub Leader). */
function legacyImageKeys(input: Record<string, unknown>): ConfigError[] {
  const images = input["images"];
  if (!isRecord(images) || images["follower"] === undefined) return [];
  const copy = { ...images };
  delete copy["follower"];
  input["images"] = copy;
  return [
    {
      path: "images.follower",
      message:
        "renamed to images.appliance (the Conjur Enterprise appliance image, for an in-hub Leader and appliance followers); followers exist only with conjur.edition: enterprise",
    },
  ];
}

// ---- cross-field rules, run on the raw input so they report alongside the schema's errors ----

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function crossFieldErrors(config: Readonly<Record<string, unknown>>): ConfigError[] {
  const errors: ConfigError[] = [];
  const err = (path: string, message: string) => errors.push({ path, message });
  const clusters = isRecord(config["clusters"]) ? config["clusters"] : {};
  const hub = isRecord(config["hub"]) ? config["hub"] : {};
  const spokes = arr(config["spokes"]);

  for (const [name, cluster] of Object.entries(clusters)) {
    const key = isRecord(cluster) ? str(cluster["kubeconfigSecret"]) : undefined;
    if (key && config[key] === undefined) {
      err(
        `clusters.${name}.kubeconfigSecret`,
        `config key "${key}" is not set (pulumi config set --secret ${key} ...)`,
      );
    }
  }

  // Every cluster is used by one role only: two spokes (or a spoke and the hub) on one cluster would
  // fight over the same conjur-system namespace.
  const clusterUse = new Map<string, string>();
  const useCluster = (path: string, value: unknown) => {
    const name = str(value);
    if (name === undefined) return;
    if (!(name in clusters)) {
      err(
        path,
        `cluster "${name}" is not defined under clusters (defined: ${Object.keys(clusters).join(", ") || "none"})`,
      );
      return;
    }
    const previous = clusterUse.get(name);
    if (previous) err(path, `cluster "${name}" is already used by ${previous}`);
    else clusterUse.set(name, path.replace(/\.cluster$/, ""));
  };
  useCluster("hub.cluster", hub["cluster"]);
  spokes.forEach((s, i) => {
    if (!isRecord(s)) return;
    useCluster(`spokes[${i}].cluster`, s["cluster"]);
    const cluster = clusters[str(s["cluster"]) ?? ""];
    const jwt = isRecord(s["jwt"]) ? s["jwt"] : {};
    const keysGiven = jwt["jwksUri"] !== undefined || jwt["publicKeys"] !== undefined;
    if (
      isRecord(cluster) &&
      cluster["eks"] === undefined &&
      cluster["apiServer"] === undefined &&
      !keysGiven
    ) {
      err(
        `clusters.${str(s["cluster"])}.apiServer`,
        `required for a spoke cluster not on EKS unless spokes[${i}].jwt gives jwksUri or publicKeys: Conjur fetches the cluster's token-signing keys from <apiServer>/openid/v1/jwks`,
      );
    }
    if (jwt["jwksUri"] !== undefined && jwt["publicKeys"] !== undefined) {
      err(
        `spokes[${i}].jwt`,
        "give jwksUri or publicKeys, not both (Conjur refuses an authenticator with both)",
      );
    }
    const keys = str(jwt["publicKeys"]);
    if (keys !== undefined && !isJwks(keys)) {
      err(
        `spokes[${i}].jwt.publicKeys`,
        'not a JWKS document: expected JSON {"keys": [...]} as `kubectl get --raw /openid/v1/jwks` prints it',
      );
    }
  });
  errors.push(...conjurErrors(config));

  // Unique names: spokes in the stack, tenants in a spoke, applications in a tenant.
  const firstIndex = new Map<string, number>();
  spokes.forEach((s, i) => {
    if (!isRecord(s)) return;
    const name = str(s["name"]);
    if (name === undefined) return;
    const first = firstIndex.get(name);
    if (first !== undefined)
      err(`spokes[${i}].name`, `duplicate spoke name "${name}" (also spokes[${first}])`);
    else firstIndex.set(name, i);
    if (name === HUB_AUTHENTICATOR_ID)
      err(`spokes[${i}].name`, `"${HUB_AUTHENTICATOR_ID}" is reserved for the hub's own authenticator`);
    const tenantIndex = new Map<string, number>();
    arr(s["tenants"]).forEach((t, j) => {
      const tenant = isRecord(t) ? str(t["name"]) : undefined;
      if (tenant === undefined) return;
      const path = `spokes[${i}].tenants[${j}].name`;
      const firstTenant = tenantIndex.get(tenant);
      if (firstTenant !== undefined) err(path, `duplicate tenant "${tenant}" (also tenants[${firstTenant}])`);
      else tenantIndex.set(tenant, j);
      if (RESERVED_NAMESPACES.includes(tenant))
        err(path, `"${tenant}" is a system or hubspoke namespace, not a tenant`);
      const defaults = isRecord(s["tenantDefaults"]) ? s["tenantDefaults"] : {};
      const onboarding = (v: unknown) => (isRecord(v) ? v["conjur"] : undefined);
      const conjur =
        onboarding(isRecord(t) ? t["onboarding"] : undefined) ?? onboarding(defaults["onboarding"]);
      if (conjur === false && arr(isRecord(t) ? t["applications"] : undefined).length > 0) {
        err(
          `spokes[${i}].tenants[${j}].applications`,
          "applications need Conjur onboarding (their host identities and the authenticator's RoleBinding): set onboarding.conjur: true, or list them once the tenant is onboarded",
        );
      }
      const appIndex = new Map<string, number>();
      arr(isRecord(t) ? t["applications"] : undefined).forEach((a, k) => {
        const app = isRecord(a) ? str(a["name"]) : undefined;
        if (app === undefined) return;
        const firstApp = appIndex.get(app);
        if (firstApp !== undefined) {
          err(
            `spokes[${i}].tenants[${j}].applications[${k}].name`,
            `duplicate application "${app}" (also applications[${firstApp}])`,
          );
        } else appIndex.set(app, k);
      });
    });
  });

  // Pod CIDRs must be disjoint: NetworkPolicies and routing tell clusters apart by address.
  const cidrs: { path: string; cidr: Ipv4Cidr; text: string }[] = [];
  const addCidr = (path: string, value: unknown) => {
    const text = str(value);
    const cidr = text ? parseIpv4Cidr(text) : undefined;
    if (!text || !cidr) return;
    const clash = cidrs.find((c) => cidrsOverlap(c.cidr, cidr));
    if (clash) err(path, `${text} overlaps ${clash.text} (${clash.path})`);
    cidrs.push({ path, cidr, text });
  };
  addCidr("hub.podCidr", hub["podCidr"]);
  spokes.forEach((s, i) => {
    if (isRecord(s)) addCidr(`spokes[${i}].podCidr`, s["podCidr"]);
  });

  // The advertised hostname is what spokes connect to: the primary's certificate must cover it.
  const hostnames = arr(hub["hostnames"])
    .map(str)
    .filter((h): h is string => h !== undefined);
  const advertised = str(hub["advertisedHostname"]);
  if (advertised && hostnames.length > 0 && !hostnames.some((h) => certificateNameCovers(h, advertised))) {
    err(
      "hub.advertisedHostname",
      `"${advertised}" is not covered by hub.hostnames (${hostnames.join(", ")}); spokes would fail TLS verification`,
    );
  }
  const advertisedDefault = hostnames[0];
  if (!advertised && advertisedDefault?.startsWith("*.")) {
    err(
      "hub.advertisedHostname",
      "required when the first hub hostname is a wildcard: spokes need a concrete name",
    );
  }

  const monitoring = isRecord(config["monitoring"]) ? config["monitoring"] : {};
  const intervalGiven = str(monitoring["federationInterval"]);
  const timeoutGiven = str(monitoring["federationTimeout"]);
  const interval = parseDurationSeconds(intervalGiven ?? MONITORING_DEFAULTS.federationInterval);
  const timeout = parseDurationSeconds(timeoutGiven ?? MONITORING_DEFAULTS.federationTimeout);
  if (interval !== undefined && timeout !== undefined && timeout > interval) {
    // Name the key the user set, not the default it collides with.
    if (timeoutGiven !== undefined)
      err(
        "monitoring.federationTimeout",
        `${timeoutGiven} must not exceed federationInterval (${interval}s)`,
      );
    else
      err(
        "monitoring.federationInterval",
        `${intervalGiven} is shorter than federationTimeout (${MONITORING_DEFAULTS.federationTimeout}, the default)`,
      );
  }

  const sink = isRecord(hub["logSink"]) ? hub["logSink"] : undefined;
  if (sink && (sink["kind"] === "elasticsearch" || sink["kind"] === "opensearch")) {
    if (sink["host"] === undefined) err("hub.logSink.host", `required for kind ${String(sink["kind"])}`);
    const key = str(sink["credentialsSecret"]);
    if (key === undefined) err("hub.logSink.credentialsSecret", `required for kind ${String(sink["kind"])}`);
    else if (config[key] === undefined)
      err("hub.logSink.credentialsSecret", `config key "${key}" is not set`);
  }
  return errors;
}

function isJwks(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) && Array.isArray(parsed["keys"]) && parsed["keys"].length > 0;
  } catch {
    return false;
  }
}

/** The Conjur topology's cross-field rules: what each edition, Leader placement and follower kind needs. */
function conjurErrors(config: Readonly<Record<string, unknown>>): ConfigError[] {
  const errors: ConfigError[] = [];
  const err = (path: string, message: string) => errors.push({ path, message });
  const conjur = isRecord(config["conjur"]) ? config["conjur"] : {};
  const images = isRecord(config["images"]) ? config["images"] : {};
  const edition = conjur["edition"] ?? "oss";
  if (edition !== "oss" && edition !== "enterprise") return errors; // the schema reports the value
  const leader = isRecord(conjur["leader"]) ? conjur["leader"] : undefined;
  const follower = isRecord(conjur["follower"]) ? conjur["follower"] : undefined;
  if (edition === "oss") {
    if (leader)
      err(
        "conjur.leader",
        "only for edition enterprise: Conjur Open Source has no Leader, followers or seeds",
      );
    if (follower)
      err("conjur.follower", "only for edition enterprise: with Conjur Open Source spokes have no follower");
    return errors;
  }
  // The stack backs up and fails over the Open Source hub it runs; an external Leader is outside the
  // estate and has its own (docs/disaster-recovery.md#rpo-and-rto-per-edition).
  if (config["backup"] !== undefined)
    err(
      "backup",
      "only for edition oss: with enterprise the Leader's database is the appliance's own (outside the hub, or inside its pods with placement hub), back it up with the Leader's own `evoke backup` and Standbys (docs/disaster-recovery.md)",
    );
  if (config["failover"] !== undefined)
    err(
      "failover",
      "only for edition oss: with enterprise the Leader fails over to its Standby by CyberArk's own procedure, and followers follow the Leader's name (docs/disaster-recovery.md)",
    );
  if (!leader) {
    err(
      "conjur.leader",
      "required for edition enterprise: the external Leader (placement: external, url, caCertificate, adminPasswordSecret) or one in the hub cluster (placement: hub, url)",
    );
  } else if (leader["placement"] === "hub") {
    errors.push(...hubLeaderErrors(config, leader, images));
  } else {
    const key = str(leader["adminPasswordSecret"]);
    if (key !== undefined && config[key] === undefined)
      err(
        "conjur.leader.adminPasswordSecret",
        `config key "${key}" is not set (pulumi config set --secret ${key} ...)`,
      );
  }
  const kind = follower?.["kind"] ?? "kubernetes";
  if (kind === "appliance" && images["appliance"] === undefined) {
    err(
      "images.appliance",
      "required for conjur.follower.kind appliance: the Conjur Enterprise appliance image from your registry",
    );
  }
  if (kind === "kubernetes" && follower?.["images"] === undefined) {
    err(
      "conjur.follower.images",
      "required for the Kubernetes Follower (conjur.follower.kind kubernetes, the default): registry and version of the follower images you pushed from CyberArk's download",
    );
  }
  return errors;
}

/** What a Leader in the hub cluster needs besides its own keys (the schema checks those). */
function hubLeaderErrors(
  config: Readonly<Record<string, unknown>>,
  leader: Record<string, unknown>,
  images: Record<string, unknown>,
): ConfigError[] {
  const errors: ConfigError[] = [];
  if (images["appliance"] === undefined)
    errors.push({
      path: "images.appliance",
      message:
        "required for conjur.leader.placement hub: the Conjur Enterprise appliance image from your registry runs the Leader",
    });
  const hub = isRecord(config["hub"]) ? config["hub"] : {};
  const url = str(leader["url"]);
  const host = url && URL.canParse(url) ? new URL(url).hostname : undefined;
  const clash = arr(hub["hostnames"])
    .map(str)
    .find((h) => h !== undefined && host !== undefined && certificateNameCovers(h, host));
  if (host && clash !== undefined)
    errors.push({
      path: "conjur.leader.url",
      message: `"${host}" is also a hub hostname (${clash}): the Leader needs a name of its own, its load balancer is not the hub's`,
    });
  const standbys = typeof leader["standbys"] === "number" ? leader["standbys"] : 0;
  const active = leader["activeNode"];
  if (typeof active === "number" && active > standbys)
    errors.push({
      path: "conjur.leader.activeNode",
      message: `${active} is not an appliance pod: with ${standbys} Standby(s) the pods are 0 to ${standbys}`,
    });
  // A Leader pod whose container restarts comes back without its database (docs/architecture.md): in
  // prod a Standby must hold a copy to promote.
  if (config["environment"] === "prod" && (leader["standbys"] ?? 0) === 0)
    errors.push({
      path: "conjur.leader.standbys",
      message:
        "at least 1 in prod: the appliance keeps its database inside the container, so a lost Leader pod is recovered by promoting a Standby (docs/operations.md)",
    });
  return errors;
}

/** Resolves the Conjur topology; the cross-field rules have checked what each choice needs. */
function conjurSpec(c: ConjurConfig, appliance: string | undefined): ConjurSpec {
  if (c.edition === "oss") return { edition: "oss" };
  const given = c.leader;
  if (!given) throw new Error("internal: enterprise without a leader passed validation");
  const endpoint = {
    url: given.url.replace(/\/+$/, ""),
    hostname: new URL(given.url).host,
    cidrs: given.cidrs ?? [],
  };
  const leader: LeaderSpec =
    given.placement === "external"
      ? {
          placement: "external",
          ...endpoint,
          caCertificate: given.caCertificate,
          adminPasswordSecret: given.adminPasswordSecret,
        }
      : {
          placement: "hub",
          ...endpoint,
          altNames: given.altNames,
          standbys: given.standbys,
          activeNode: given.activeNode,
          storage: {
            size: given.storage.size ?? HUB_LEADER_DEFAULTS.storageSize,
            ...(given.storage.class ? { class: given.storage.class } : {}),
          },
          resources: withDefaults(given.resources, HUB_LEADER_DEFAULTS.resources),
        };
  const kind = c.follower?.kind ?? "kubernetes";
  if (kind === "appliance") {
    if (appliance === undefined) throw new Error("internal: appliance follower without an image");
    return { edition: "enterprise", leader, follower: { kind } };
  }
  const source = c.follower?.images;
  if (!source) throw new Error("internal: Kubernetes Follower without images passed validation");
  const images = Object.fromEntries(
    Object.entries(KUBERNETES_FOLLOWER_IMAGES).map(([key, name]) => [
      key,
      `${source.registry}/${name}:${source.version}`,
    ]),
  ) as unknown as KubernetesFollowerImages;
  return { edition: "enterprise", leader, follower: { kind, images } };
}

// ---- defaults ----

function withDefaults(given: ResourcesConfig | undefined, fallback: Resources): Resources {
  return {
    cpuRequest: given?.cpuRequest ?? fallback.cpuRequest,
    memoryRequest: given?.memoryRequest ?? fallback.memoryRequest,
    cpuLimit: given?.cpuLimit ?? fallback.cpuLimit,
    memoryLimit: given?.memoryLimit ?? fallback.memoryLimit,
  };
}

function applyDefaults(c: ParsedConfig): StackSpec {
  const d = ENVIRONMENT_DEFAULTS[c.environment];
  const advertisedHostname = c.hub.advertisedHostname ?? c.hub.hostnames[0];
  const domain = parentDomain(advertisedHostname);
  const sink = c.hub.logSink;
  const logSink: LogSinkSpec =
    !sink || sink.kind === "stdout"
      ? { kind: "stdout" }
      : {
          kind: sink.kind,
          host: sink.host ?? "",
          port: sink.port ?? 9200,
          index: sink.index ?? "conjur-estate",
          credentialsSecret: sink.credentialsSecret ?? "",
        };
  return {
    environment: c.environment,
    conjurAccount: c.conjurAccount,
    conjur: conjurSpec(c.conjur, c.images.appliance),
    clusters: c.clusters,
    hub: {
      cluster: c.hub.cluster,
      region: c.hub.region,
      podCidr: c.hub.podCidr,
      hostnames: c.hub.hostnames,
      advertisedHostname,
      serviceType: c.hub.serviceType ?? "LoadBalancer",
      logSinkHostname: c.hub.logSinkHostname ?? `conjur-logs.${domain}`,
      loadBalancerSourceRanges: c.hub.loadBalancerSourceRanges ?? [],
      primaryCidrs: c.hub.primaryCidrs ?? [],
      logSinkCidrs: c.hub.logSinkCidrs ?? [],
      egressCidrs: c.hub.egressCidrs ?? [],
      replicas: c.hub.replicas ?? d.hubReplicas,
      logLevel: c.hub.logLevel ?? d.logLevel,
      resources: {
        conjur: withDefaults(c.hub.resources?.conjur, d.resources.conjur),
        nginx: withDefaults(c.hub.resources?.nginx, d.resources.nginx),
        postgres: withDefaults(c.hub.resources?.postgres, d.resources.postgres),
      },
      postgres: {
        storageSize: c.hub.postgres?.storageSize ?? d.postgresStorage,
        ...(c.hub.postgres?.storageClass ? { storageClass: c.hub.postgres.storageClass } : {}),
      },
      logSink,
    },
    spokes: c.spokes.map((s): SpokeSpec => ({
      name: s.name,
      cluster: s.cluster,
      region: s.region,
      podCidr: s.podCidr,
      egressCidrs: s.egressCidrs ?? [s.podCidr],
      phase: s.phase,
      converted: s.phase <= c.conversion.phase,
      follower: {
        replicas: s.follower.replicas ?? d.followerReplicas,
        resources: withDefaults(s.follower.resources, d.resources.follower),
        externalHostnames: s.follower.externalHostnames,
      },
      tenants: s.tenants.map((t): TenantSpec => ({
        name: t.name,
        existing: t.existing,
        adopt: t.adopt,
        ...(t.quota ? { quota: t.quota } : {}),
        ...(t.limits ? { limits: t.limits } : {}),
        applications: t.applications,
        externalSecrets: resolveTenantExternalSecrets(t.externalSecrets, c.externalSecrets),
        stage: resolveTenantStage(t, s.tenantDefaults),
        acknowledge: resolveAcknowledgements(t.acknowledge),
      })),
      jwt: stripUndefined(s.jwt ?? {}),
      monitoring: {
        exposure: s.monitoring?.exposure ?? "LoadBalancer",
        hostname: s.monitoring?.hostname ?? `prometheus-${s.name}.${domain}`,
      },
      argocd: argocdCredentials(c.clusters[s.cluster], s.argocd?.roleArn),
    })),
    conversionPhase: c.conversion.phase,
    images: { ...DEFAULT_IMAGES, ...stripUndefined(c.images) },
    certificates: {
      caValidityHours: c.certificates.caValidityHours ?? d.caValidityHours,
      validityHours: c.certificates.validityHours ?? d.validityHours,
      earlyRenewalHours: c.certificates.earlyRenewalHours ?? d.earlyRenewalHours,
    },
    monitoring: {
      scrapeInterval: c.monitoring.scrapeInterval ?? MONITORING_DEFAULTS.scrapeInterval,
      federationInterval: c.monitoring.federationInterval ?? MONITORING_DEFAULTS.federationInterval,
      federationTimeout: c.monitoring.federationTimeout ?? MONITORING_DEFAULTS.federationTimeout,
      ...(c.monitoring.federationMatch ? { federationMatch: c.monitoring.federationMatch } : {}),
      sampleLimit: c.monitoring.sampleLimit ?? MONITORING_DEFAULTS.sampleLimit,
    },
    protectIrreplaceable: c.protectIrreplaceable ?? d.protectIrreplaceable,
    ...(c.renderYamlToDirectory ? { renderYamlToDirectory: c.renderYamlToDirectory } : {}),
    ...(c.backup ? { backup: backupDefaults(c, c.backup) } : {}),
    ...(c.failover
      ? {
          failover: {
            zoneId: c.failover.zoneId,
            hostname: c.failover.hostname ?? advertisedHostname,
            primaryTarget: c.failover.primaryTarget,
            // The rules have made sure a standby is declared.
            standby: c.failover.standby ?? { target: "", region: "" },
            healthCheckPath: c.failover.healthCheckPath ?? "/",
          },
        }
      : {}),
    externalSecrets: c.externalSecrets,
    ...(c.gitops.argocd?.enabled ? { argocd: resolveArgoCd(c.gitops.argocd) } : {}),
    layout: resolveLayout(c.layout),
  };
}

function backupDefaults(c: ParsedConfig, b: NonNullable<ParsedConfig["backup"]>): BackupSpec {
  const d = BACKUP_DEFAULTS[c.environment];
  const rpo = b.rpo ?? d.rpo;
  const eks = c.clusters[c.hub.cluster]?.eks;
  const objectLock = b.objectLock ?? d.objectLock;
  return {
    bucket: b.bucket,
    // The rules have made sure one of the two is an AWS region.
    region: b.region ?? (isAwsRegion(c.hub.region) ? c.hub.region : ""),
    prefix: b.prefix ?? `conjur-hub/${c.environment}`,
    schedule: b.schedule ?? d.schedule,
    rpo,
    rpoSeconds: parseDurationSeconds(rpo) ?? 0,
    retentionDays: b.retentionDays ?? d.retentionDays,
    ...(objectLock ? { objectLock } : {}),
    credentials: eks
      ? { kind: "podIdentity", clusterName: eks.name }
      : { kind: "secret", secretName: b.credentialsSecret ?? "" },
    escrow: b.escrow ?? d.escrow,
    endpointCidrs: b.endpointCidrs ?? ["0.0.0.0/0"],
  };
}

/** `conjur.acme.com` -> `acme.com`; a single-label name is its own domain. */
export function parentDomain(hostname: string): string {
  const dot = hostname.indexOf(".");
  return dot < 0 ? hostname : hostname.slice(dot + 1);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Whether a Conjur server runs in the hub cluster (the OSS primary; an Enterprise Leader runs outside). */
export function conjurServerInHub(spec: StackSpec): boolean {
  return spec.conjur.edition === "oss";
}

/** Whether the Conjur Enterprise Leader runs in the hub cluster (conjur.leader.placement: hub). */
export function leaderInHub(spec: StackSpec): boolean {
  return spec.conjur.edition === "enterprise" && spec.conjur.leader.placement === "hub";
}

/** The Conjur topology in one line, for the plan's summary. */
export function conjurTopologyLine(spec: StackSpec): string {
  const spokes = convertedSpokes(spec).length;
  if (spec.conjur.edition === "oss") {
    return `conjur: oss (Open Source primary in the hub at https://${spec.hub.advertisedHostname}; no followers: the applications of ${spokes} converted spoke(s) use the hub with authn-jwt)`;
  }
  const leader = spec.conjur.leader;
  const where =
    leader.placement === "external"
      ? "outside Kubernetes"
      : `in the hub cluster with ${leader.standbys} Standby(s)`;
  return `conjur: enterprise (Leader ${leader.url}, ${where}; ${spec.conjur.follower.kind} follower on each of ${spokes} converted spoke(s), seeded with authn-jwt)`;
}

/**
 * The Conjur endpoint a spoke's applications (and External Secrets) talk to, and which CA signs its
 * certificate: the local follower in enterprise, the hub's primary in oss.
 */
export interface ConjurClientEndpoint {
  readonly url: string;
  /** The authenticator its applications use there, e.g. `authn-k8s/payments` or `authn-jwt/payments`. */
  readonly authenticator: string;
  /** `estate`: the stack's root CA (the hub's certificate); `leader`: the Leader's CA, which issues followers'. */
  readonly ca: "estate" | "leader";
}

export function conjurClientEndpoint(spec: StackSpec, spoke: SpokeSpec): ConjurClientEndpoint {
  if (spec.conjur.edition === "oss") {
    return {
      url: `https://${spec.hub.advertisedHostname}`,
      authenticator: `authn-jwt/${spoke.name}`,
      ca: "estate",
    };
  }
  return {
    url: `https://${FOLLOWER_SERVICE_FQDN}`,
    authenticator: `authn-k8s/${spoke.name}`,
    // A follower serves the certificate the Leader issued it (from its seed).
    ca: "leader",
  };
}

/** The spokes that get resources in this run (their phase has been reached). */
export function convertedSpokes(spec: StackSpec): readonly SpokeSpec[] {
  return spec.spokes.filter((s) => s.converted);
}
