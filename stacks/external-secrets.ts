// External Secrets settings of the stack spec: which tenants get SecretStores and ExternalSecrets, how
// often they refresh, and the rules a tenant's secrets must meet so that every ExternalSecret has a
// distinct, valid Kubernetes name. Pure; reads the raw config so errors name the key the user wrote.
import type { ExternalSecretsConfig, TenantConfig } from "./schema";
import type { ConfigError } from "./errors";
import { isRecord, list, Raw, record, str } from "./rules";
import { OBJECT_PREFIX } from "./reserved";

/** A tenant's External Secrets settings, resolved; `false` when the tenant has not opted in. */
export type TenantExternalSecrets = false | { readonly refreshInterval: string };

export interface ExternalSecretsSpec {
  /** Namespace of ESO's controller on each spoke. */
  readonly namespace: string;
  readonly controllerLabels: Readonly<Record<string, string>>;
  readonly refreshInterval: string;
}

/** The Kubernetes Secret (and ExternalSecret) an application's declared secret is synced to. */
export function externalSecretName(app: string, secret: string): string {
  return `${OBJECT_PREFIX}${app}-${secret}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function resolveTenantExternalSecrets(
  given: TenantConfig["externalSecrets"],
  defaults: ExternalSecretsConfig,
): TenantExternalSecrets {
  if (given === false) return false;
  return {
    refreshInterval: (given === true ? undefined : given.refreshInterval) ?? defaults.refreshInterval,
  };
}

/** Duplicate secrets of an application: two variables with one id (any tenant, with or without ESO). */
function duplicateSecrets(at: string, app: Record<string, unknown>): ConfigError[] {
  const errors: ConfigError[] = [];
  const first = new Map<string, number>();
  list(app["secrets"]).forEach((s, m) => {
    const secret = str(s);
    if (secret === undefined) return;
    const seen = first.get(secret);
    if (seen !== undefined)
      errors.push({
        path: `${at}.secrets[${m}]`,
        message: `duplicate secret "${secret}" (also secrets[${seen}])`,
      });
    else first.set(secret, m);
  });
  return errors;
}

/** An opted-in tenant: something to sync, and one valid, distinct Secret name per declared secret. */
function externalSecretNames(at: string, tenant: Record<string, unknown>): ConfigError[] {
  const applications = list(tenant["applications"]).map(record);
  if (!applications.some((a) => list(a["secrets"]).length > 0))
    return [
      {
        path: `${at}.externalSecrets`,
        message:
          "the tenant declares no application secrets to sync: list applications with their secrets, or leave externalSecrets off",
      },
    ];
  const errors: ConfigError[] = [];
  const names = new Map<string, string>();
  applications.forEach((a, k) => {
    const app = str(a["name"]);
    list(a["secrets"]).forEach((s, m) => {
      const secret = str(s);
      if (app === undefined || secret === undefined) return;
      const path = `${at}.applications[${k}].secrets[${m}]`;
      const name = externalSecretName(app, secret);
      if (!DNS_SUBDOMAIN.test(name) || name.length > 253) {
        errors.push({
          path,
          message: `"${secret}" cannot name the Secret External Secrets writes (${name}): use lower-case letters, digits, '-' and '.'`,
        });
        return;
      }
      const other = names.get(name);
      if (other !== undefined && other !== path)
        errors.push({ path, message: `duplicate secret name ${name} in the tenant (also ${other})` });
      else names.set(name, path);
    });
  });
  return errors;
}

export function externalSecretsRuleErrors(config: Raw): ConfigError[] {
  const errors: ConfigError[] = [];
  list(config["spokes"]).forEach((s, i) => {
    list(record(s)["tenants"]).forEach((t, j) => {
      if (!isRecord(t)) return;
      const at = `spokes[${i}].tenants[${j}]`;
      list(t["applications"]).forEach((a, k) =>
        errors.push(...duplicateSecrets(`${at}.applications[${k}]`, record(a))),
      );
      const opted = t["externalSecrets"];
      if (opted === true || isRecord(opted)) errors.push(...externalSecretNames(at, t));
    });
  });
  return errors;
}
