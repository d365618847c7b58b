// Conjur identifiers derived from the spec: authenticator ids, host ids, variable ids, URLs and the
// CONJUR_AUTHENTICATORS value. Pure; the policy builder and the components agree through these.

export const AUTHN_K8S_BRANCH = "conjur/authn-k8s";
export const SEED_GENERATION_BRANCH = "conjur/seed-generation";
export const TENANTS_BRANCH = "tenants";
/** Container name authn-k8s expects by default; the seed fetcher and app sidecars use it. */
export const AUTHENTICATOR_CONTAINER = "authenticator";

/** `authn-k8s/<id>` for one authenticator. */
export function authenticatorName(id: string): string {
  return `authn-k8s/${id}`;
}

/**
 * The authenticators one Conjur server enables, in a stable order: `authn` (the admin's API key, used
 * by the policy-load Job), then authn-k8s ones (clusters whose pods the server can inspect: its own),
 * then authn-jwt ones (clusters whose service-account tokens it accepts).
 */
export function enabledAuthenticators(k8sIds: readonly string[], jwtIds: readonly string[]): string[] {
  return ["authn", ...k8sIds.map(authenticatorName), ...jwtIds.map((id) => `authn-jwt/${id}`)];
}

/** The value of CONJUR_AUTHENTICATORS (comma-separated, as the server reads it). */
export function conjurAuthenticators(enabled: readonly string[]): string {
  return enabled.join(",");
}

export function authenticatorPolicyId(id: string): string {
  return `${AUTHN_K8S_BRANCH}/${id}`;
}

/** Variables of an authn-k8s authenticator the policy-load Job fills: its CA. */
export const CA_VARIABLES = { cert: "ca/cert", key: "ca/key" } as const;

export function authenticatorVariableId(id: string, variable: string): string {
  return `${authenticatorPolicyId(id)}/${variable}`;
}

export function tenantPolicyId(spoke: string, tenant: string): string {
  return `${TENANTS_BRANCH}/${spoke}/${tenant}`;
}

export function appHostId(spoke: string, tenant: string, app: string): string {
  return `${tenantPolicyId(spoke, tenant)}/${app}`;
}

export function appLogin(spoke: string, tenant: string, app: string): string {
  return `host/${appHostId(spoke, tenant, app)}`;
}

export function appVariableId(spoke: string, tenant: string, app: string, secret: string): string {
  return `${tenantPolicyId(spoke, tenant)}/${app}/${secret}`;
}

export function primaryUrl(hostname: string): string {
  return `https://${hostname}`;
}

/** Where a follower fetches its seed from the Leader (Conjur Enterprise only; 404 on Open Source). */
export function seedFileUrl(leaderHostname: string, account: string): string {
  return `${primaryUrl(leaderHostname)}/configuration/${account}/seed/follower`;
}

/** The authn-k8s login endpoint of one authenticator on a Conjur server. */
export function authnK8sUrl(serverUrl: string, id: string): string {
  return `${serverUrl}/${authenticatorName(id)}`;
}
