// Turns the raw `hubspoke:*` config into one validated, defaulted StackSpec. Every problem is
// reported with its key path, all at once; callers register no resource unless this succeeds.
import { z } from "zod";
import {
  BACKUP_DEFAULTS,
  DEFAULT_IMAGES,
  ENVIRONMENT_DEFAULTS,
  MONITORING_DEFAULTS,
  Resources,
} from "./defaults";
import {
  ClusterConfig,
  configSchema,
  Environment,
  ImageKey,
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
import { HUB_AUTHENTICATOR_ID, RESERVED_NAMESPACES } from "./reserved";
import { referencedSecretKeys, secretValueErrors } from "./config-keys";
import { crossFieldRuleErrors } from "./rules";
import { ConfigError, formatConfigError, formatPath } from "./errors";
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
  readonly externalSecrets: boolean;
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
  readonly monitoring: { readonly exposure: "LoadBalancer" | "ClusterIP"; readonly hostname: string };
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
  readonly clusters: Readonly<Record<string, ClusterConfig>>;
  readonly hub: HubSpec;
  readonly spokes: readonly SpokeSpec[];
  readonly conversionPhase: number;
  readonly images: Readonly<Record<ImageKey, string>>;
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
  errors.push(...legacyTenantKeys(schemaInput));
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
  errors.push(...crossFieldErrors(config), ...crossFieldRuleErrors(config));
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
    if (isRecord(cluster) && cluster["eks"] === undefined && cluster["apiServer"] === undefined) {
      err(
        `clusters.${str(s["cluster"])}.apiServer`,
        "required for a spoke cluster not on EKS: the hub's Conjur checks that cluster's pods through this URL",
      );
    }
  });

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
      if (isRecord(t) && t["externalSecrets"] === true) {
        err(
          `spokes[${i}].tenants[${j}].externalSecrets`,
          "not supported yet: External Secrets Operator's Conjur provider logs in with an API key or authn-jwt, not authn-k8s",
        );
      }
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
        externalSecrets: t.externalSecrets,
        stage: resolveTenantStage(t, s.tenantDefaults),
        acknowledge: resolveAcknowledgements(t.acknowledge),
      })),
      monitoring: {
        exposure: s.monitoring?.exposure ?? "LoadBalancer",
        hostname: s.monitoring?.hostname ?? `prometheus-${s.name}.${domain}`,
      },
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

/** The spokes that get resources in this run (their phase has been reached). */
export function convertedSpokes(spec: StackSpec): readonly SpokeSpec[] {
  return spec.spokes.filter((s) => s.converted);
}
