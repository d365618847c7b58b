// Cross-field rules on the raw `hubspoke:` config, one small function each, run beside the schema
// so their errors come in the same list. They work on what the user wrote and fill gaps with the
// environment's defaults; an error always names the key the user set, never a default.
import { BACKUP_DEFAULTS, ENVIRONMENT_DEFAULTS, Resources } from "./defaults";
import { longestGapSeconds, parseCronSchedule } from "./cron";
import type { Environment } from "./schema";
import type { ConfigError } from "./errors";
import { certificateNameCovers, isAwsRegion, parseDurationSeconds, quantityValue } from "./validators";

export type Raw = Readonly<Record<string, unknown>>;

/** Readers of the raw config: a value of the expected shape, or an empty one. */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
export const record = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function environmentOf(config: Raw): Environment | undefined {
  const env = config["environment"];
  return typeof env === "string" && env in ENVIRONMENT_DEFAULTS ? (env as Environment) : undefined;
}

/**
 * One bound between two quantities, either given or defaulted: `request <= limit`. The error goes
 * to the key the user set (the request if both are set), with the other value and where it came from.
 */
function quantityOrder(
  at: string,
  given: Record<string, unknown>,
  lowKey: string,
  highKey: string,
  defaults: Partial<Record<string, string>>,
  defaultLabel: string,
): ConfigError[] {
  const lowGiven = str(given[lowKey]);
  const highGiven = str(given[highKey]);
  if (lowGiven === undefined && highGiven === undefined) return [];
  const low = lowGiven ?? defaults[lowKey];
  const high = highGiven ?? defaults[highKey];
  if (low === undefined || high === undefined) return [];
  const lowValue = quantityValue(low);
  const highValue = quantityValue(high);
  if (lowValue === undefined || highValue === undefined || lowValue <= highValue) return [];
  if (lowGiven !== undefined) {
    const source = highGiven !== undefined ? `${at}.${highKey}` : `${highKey}, ${defaultLabel}`;
    return [
      {
        path: `${at}.${lowKey}`,
        message: `${low} is above ${high} (${source}): a request cannot exceed its limit`,
      },
    ];
  }
  return [
    {
      path: `${at}.${highKey}`,
      message: `${high} is below ${low} (${lowKey}, ${defaultLabel}): a limit cannot be below its request`,
    },
  ];
}

const RESOURCE_PAIRS: readonly (readonly [keyof Resources, keyof Resources])[] = [
  ["cpuRequest", "cpuLimit"],
  ["memoryRequest", "memoryLimit"],
];

/** Container requests above their limits, the environment's defaults filling what is not set. */
export function requestsWithinLimits(config: Raw): ConfigError[] {
  const env = environmentOf(config);
  const d = env ? ENVIRONMENT_DEFAULTS[env].resources : undefined;
  const label = `the ${env ?? "environment"} default`;
  const errors: ConfigError[] = [];
  const check = (at: string, given: unknown, defaults: Resources | undefined) => {
    if (!isRecord(given)) return;
    const fallback: Partial<Record<string, string>> = defaults ? { ...defaults } : {};
    for (const [low, high] of RESOURCE_PAIRS)
      errors.push(...quantityOrder(at, given, low, high, fallback, label));
  };
  const hubResources = record(record(config["hub"])["resources"]);
  for (const role of ["conjur", "nginx", "postgres"] as const)
    check(`hub.resources.${role}`, hubResources[role], d?.[role]);
  list(config["spokes"]).forEach((s, i) =>
    check(`spokes[${i}].follower.resources`, record(record(s)["follower"])["resources"], d?.follower),
  );
  return errors;
}

/** Tenant quotas (requests.* above limits.*) and LimitRange defaults (defaultRequest above default). */
export function tenantBoundsInOrder(config: Raw): ConfigError[] {
  const errors: ConfigError[] = [];
  list(config["spokes"]).forEach((s, i) =>
    list(record(s)["tenants"]).forEach((t, j) => {
      const at = `spokes[${i}].tenants[${j}]`;
      const quota = record(record(t)["quota"]);
      const limits = record(record(t)["limits"]);
      errors.push(...quantityOrder(`${at}.quota`, quota, "requestsCpu", "limitsCpu", {}, ""));
      errors.push(...quantityOrder(`${at}.quota`, quota, "requestsMemory", "limitsMemory", {}, ""));
      errors.push(...quantityOrder(`${at}.limits`, limits, "defaultRequestCpu", "defaultCpu", {}, ""));
      errors.push(...quantityOrder(`${at}.limits`, limits, "defaultRequestMemory", "defaultMemory", {}, ""));
    }),
  );
  return errors;
}

/** Options one branch of the program never reads: set, they would be silently ignored. */
export function ignoredOptions(config: Raw): ConfigError[] {
  const errors: ConfigError[] = [];
  list(config["spokes"]).forEach((s, i) =>
    list(record(s)["tenants"]).forEach((t, j) => {
      const tenant = record(t);
      if (tenant["existing"] === false && tenant["adopt"] !== undefined) {
        errors.push({
          path: `spokes[${i}].tenants[${j}].adopt`,
          message: `${JSON.stringify(tenant["adopt"])} is ignored: adopt applies to existing namespaces only, and existing is false (the stack creates this one)`,
        });
      }
    }),
  );
  const hub = record(config["hub"]);
  if (hub["serviceType"] === "ClusterIP" && hub["loadBalancerSourceRanges"] !== undefined) {
    errors.push({
      path: "hub.loadBalancerSourceRanges",
      message: "is ignored with serviceType ClusterIP (there is no LoadBalancer to restrict)",
    });
  }
  const sink = record(hub["logSink"]);
  if (sink["kind"] === "stdout") {
    for (const key of ["host", "port", "index", "credentialsSecret"]) {
      if (sink[key] !== undefined)
        errors.push({
          path: `hub.logSink.${key}`,
          message: "is ignored with kind stdout (logs stay in the sink's own output)",
        });
    }
  }
  for (const [name, cluster] of Object.entries(record(config["clusters"]))) {
    if (isRecord(cluster) && cluster["eks"] !== undefined && cluster["apiServer"] !== undefined) {
      errors.push({
        path: `clusters.${name}.apiServer`,
        message: "is ignored for an EKS cluster: its endpoint is discovered from EKS",
      });
    }
  }
  return errors;
}

/**
 * Hours a certificate's renewal window must at least span: a routine `pulumi up` renews a
 * certificate only when run inside its window (the provider marks it ready for renewal then).
 */
export const MIN_RENEWAL_WINDOW_HOURS = 7 * 24;

/** Certificate lifetimes: renewal window inside the validity, at least a week, inside the CA's life. */
export function certificateLifetimes(config: Raw): ConfigError[] {
  const env = environmentOf(config);
  const d = env ? ENVIRONMENT_DEFAULTS[env] : undefined;
  const given = record(config["certificates"]);
  const num = (k: string) => (typeof given[k] === "number" ? given[k] : undefined);
  const set = {
    validity: num("validityHours"),
    renewal: num("earlyRenewalHours"),
    ca: num("caValidityHours"),
  };
  const validity = set.validity ?? d?.validityHours;
  const renewal = set.renewal ?? d?.earlyRenewalHours;
  const ca = set.ca ?? d?.caValidityHours;
  const label = `the ${env ?? "environment"} default`;
  const errors: ConfigError[] = [];
  if (
    validity !== undefined &&
    renewal !== undefined &&
    renewal >= validity &&
    (set.validity ?? set.renewal) !== undefined
  ) {
    errors.push(
      set.renewal !== undefined
        ? {
            path: "certificates.earlyRenewalHours",
            message: `${renewal} must be less than validityHours (${validity}${set.validity === undefined ? `, ${label}` : ""})`,
          }
        : {
            path: "certificates.validityHours",
            message: `${validity} must exceed earlyRenewalHours (${renewal}, ${label})`,
          },
    );
  } else if (
    renewal !== undefined &&
    renewal < MIN_RENEWAL_WINDOW_HOURS &&
    (set.renewal ?? set.validity) !== undefined
  ) {
    errors.push({
      path: set.renewal !== undefined ? "certificates.earlyRenewalHours" : "certificates.validityHours",
      message: `a renewal window of ${renewal} hours is too short for a weekly \`pulumi up\` to renew certificates in time: give at least ${MIN_RENEWAL_WINDOW_HOURS}`,
    });
  }
  if (validity !== undefined && ca !== undefined && validity > ca && (set.validity ?? set.ca) !== undefined) {
    errors.push(
      set.validity !== undefined
        ? {
            path: "certificates.validityHours",
            message: `${validity} exceeds caValidityHours (${ca}${set.ca === undefined ? `, ${label}` : ""}): a certificate cannot outlive its CA`,
          }
        : {
            path: "certificates.caValidityHours",
            message: `${ca} is shorter than validityHours (${validity}, ${label}): a certificate cannot outlive its CA`,
          },
    );
  }
  return errors;
}

/** A prod stack exists to serve spokes: one without any is a mistake (a sharded hub's are in its shards). */
export function prodHasSpokes(config: Raw): ConfigError[] {
  if (config["environment"] !== "prod" || record(config["layout"])["role"] === "hub") return [];
  return list(config["spokes"]).length === 0
    ? [{ path: "spokes", message: "a prod stack needs at least one spoke" }]
    : [];
}

/** A spoke on EKS reports the region of its cluster. */
export function spokeRegionMatchesCluster(config: Raw): ConfigError[] {
  const clusters = record(config["clusters"]);
  const errors: ConfigError[] = [];
  const check = (at: string, entry: Record<string, unknown>) => {
    const eks = record(record(clusters[str(entry["cluster"]) ?? ""])["eks"]);
    const region = str(entry["region"]);
    const eksRegion = str(eks["region"]);
    if (region && eksRegion && region !== eksRegion)
      errors.push({
        path: `${at}.region`,
        message: `${region} differs from its EKS cluster's region (${eksRegion})`,
      });
  };
  check("hub", record(config["hub"]));
  list(config["spokes"]).forEach((s, i) => check(`spokes[${i}]`, record(s)));
  return errors;
}

/** `2d`, `6h`, `90m`: a number of seconds as people read it. */
function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "more than a year";
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/**
 * Backups: the RPO covers the longest gap between scheduled runs, backups outlive their Object
 * Lock, the bucket has an AWS region, and credentials fit the hub (Pod Identity on EKS, a Secret
 * elsewhere). Values left out are the environment's defaults; an error names the key the user set.
 */
export function backupRules(config: Raw): ConfigError[] {
  const given = config["backup"];
  if (!isRecord(given)) return [];
  const env = environmentOf(config);
  const d = env ? BACKUP_DEFAULTS[env] : undefined;
  const label = `the ${env ?? "environment"} default`;
  const errors: ConfigError[] = [];

  const schedule = str(given["schedule"]) ?? d?.schedule;
  const rpo = str(given["rpo"]) ?? d?.rpo;
  const parsed = schedule !== undefined ? parseCronSchedule(schedule) : undefined;
  const rpoSeconds = rpo !== undefined ? parseDurationSeconds(rpo) : undefined;
  if (parsed?.ok && rpoSeconds !== undefined && rpoSeconds > 0) {
    const gap = longestGapSeconds(parsed.schedule);
    if (gap > rpoSeconds) {
      const scheduleText = `"${schedule}"${given["schedule"] === undefined ? ` (${label})` : ""}`;
      errors.push(
        given["rpo"] !== undefined
          ? {
              path: "backup.rpo",
              message: `${rpo} is shorter than the longest gap between backups of schedule ${scheduleText} (${humanDuration(gap)}): the alert would fire between two good runs`,
            }
          : {
              path: "backup.schedule",
              message: `"${schedule}" leaves up to ${humanDuration(gap)} between backups, more than the rpo (${rpo}, ${label})`,
            },
      );
    }
  }

  const retention = typeof given["retentionDays"] === "number" ? given["retentionDays"] : d?.retentionDays;
  const lockGiven = isRecord(given["objectLock"]) ? given["objectLock"] : undefined;
  const lockDays = typeof lockGiven?.["days"] === "number" ? lockGiven["days"] : d?.objectLock?.days;
  if (retention !== undefined && lockDays !== undefined && retention < lockDays) {
    errors.push(
      given["retentionDays"] !== undefined
        ? {
            path: "backup.retentionDays",
            message: `${retention} is below the Object Lock retention (${lockDays} days${lockGiven ? "" : `, ${label}`}): expiry cannot remove a locked backup`,
          }
        : {
            path: "backup.objectLock.days",
            message: `${lockDays} exceeds retentionDays (${retention}, ${label}): expiry cannot remove a locked backup`,
          },
    );
  }

  const hub = record(config["hub"]);
  const hubRegion = str(hub["region"]);
  if (given["region"] === undefined && hubRegion !== undefined && !isAwsRegion(hubRegion)) {
    errors.push({
      path: "backup.region",
      message: `required: hub.region "${hubRegion}" is not an AWS region, so the bucket's region must be given`,
    });
  }

  const hubCluster = record(record(config["clusters"])[str(hub["cluster"]) ?? ""]);
  const onEks = hubCluster["eks"] !== undefined;
  if (onEks && given["credentialsSecret"] !== undefined) {
    errors.push({
      path: "backup.credentialsSecret",
      message: "is ignored: the hub runs on EKS, where the backup gets its role through EKS Pod Identity",
    });
  } else if (!onEks && str(hub["cluster"]) !== undefined && given["credentialsSecret"] === undefined) {
    errors.push({
      path: "backup.credentialsSecret",
      message:
        "required: the hub is not on EKS, so name the Secret (in conjur-system) holding an AWS credentials file under key `credentials`",
    });
  }
  return errors;
}

/** Failover: a standby to fail over to, and a hostname every certificate of the hub covers. */
export function failoverRules(config: Raw): ConfigError[] {
  const given = config["failover"];
  if (!isRecord(given)) return [];
  const errors: ConfigError[] = [];
  if (given["standby"] === undefined) {
    errors.push({
      path: "failover.standby",
      message:
        "required: a failover record needs a standby hub to fail over to (its load balancer name and region)",
    });
  }
  const hub = record(config["hub"]);
  const hostnames = list(hub["hostnames"]).filter((h): h is string => typeof h === "string");
  const name = str(given["hostname"]) ?? str(hub["advertisedHostname"]) ?? hostnames[0];
  if (name !== undefined && hostnames.length > 0 && !hostnames.some((h) => certificateNameCovers(h, name))) {
    errors.push({
      path: given["hostname"] !== undefined ? "failover.hostname" : "hub.advertisedHostname",
      message: `"${name}" is not covered by hub.hostnames (${hostnames.join(", ")}): clients reaching either hub by this name would fail TLS verification`,
    });
  }
  const advertised = str(hub["advertisedHostname"]) ?? hostnames[0];
  const failoverName = str(given["hostname"]);
  if (failoverName !== undefined && advertised !== undefined && failoverName !== advertised) {
    errors.push({
      path: "failover.hostname",
      message: `"${failoverName}" is not the name spokes connect to (hub.advertisedHostname: "${advertised}"): failing it over would not move them; fail over that name, or make it the advertised one`,
    });
  }
  const standby = record(given["standby"]);
  const hubRegion = str(hub["region"]);
  if (str(standby["region"]) !== undefined && standby["region"] === hubRegion) {
    errors.push({
      path: "failover.standby.region",
      message: `${hubRegion} is the primary hub's region: a standby in the same region does not survive a regional outage`,
    });
  }
  return errors;
}

/** All rules of this module. */
export function crossFieldRuleErrors(config: Raw): ConfigError[] {
  return [
    ...backupRules(config),
    ...failoverRules(config),
    ...requestsWithinLimits(config),
    ...tenantBoundsInOrder(config),
    ...ignoredOptions(config),
    ...certificateLifetimes(config),
    ...prodHasSpokes(config),
    ...spokeRegionMatchesCluster(config),
  ];
}
