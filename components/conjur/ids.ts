// Conjur identifiers derived from the spec: authenticator ids, host ids, variable ids, URLs and the
// CONJUR_AUTHENTICATORS value. Pure; the policy builder and the components agree through these.
import { CONJUR_NAMESPACE, FOLLOWER_SERVICE_ACCOUNT, HUB_AUTHENTICATOR_ID } from "../naming";

export const AUTHN_K8S_BRANCH = "conjur/authn-k8s";
export const SEED_GENERATION_BRANCH = "conjur/seed-generation";
export const TENANTS_BRANCH = "tenants";
/** Container name authn-k8s expects by default; the seed fetcher and app sidecars use it. */
export const AUTHENTICATOR_CONTAINER = "authenticator";

/** The hub's own authenticator first, then one per converted spoke, in spec order. */
export function authenticatorIds(spokeNames: readonly string[]): string[] {
  return [HUB_AUTHENTICATOR_ID, ...spokeNames];
}

/** `authn-k8s/<id>` for one authenticator. */
export function authenticatorName(id: string): string {
  return `authn-k8s/${id}`;
}

/** The value of the primary's CONJUR_AUTHENTICATORS: `authn` plus every authn-k8s authenticator. */
export function conjurAuthenticators(ids: readonly string[]): string {
  return ["authn", ...ids.map(authenticatorName)].join(",");
}

export function authenticatorPolicyId(id: string): string {
  return `${AUTHN_K8S_BRANCH}/${id}`;
}

/** Authenticator variables the policy-load Job fills: the CA always, the cluster access for spokes. */
export const CA_VARIABLES = { cert: "ca/cert", key: "ca/key" } as const;
export const CLUSTER_ACCESS_VARIABLES = {
  apiUrl: "kubernetes/api-url",
  caCert: "kubernetes/ca-cert",
  serviceAccountToken: "kubernetes/service-account-token",
} as const;

export function authenticatorVariableId(id: string, variable: string): string {
  return `${authenticatorPolicyId(id)}/${variable}`;
}

/** Relative id (inside the authenticator's `apps` policy) of a spoke's follower host. */
export function followerHostRelativeId(): string {
  return `${CONJUR_NAMESPACE}/service_account/${FOLLOWER_SERVICE_ACCOUNT}`;
}

/** Full host id of a spoke's follower; the seed fetcher logs in as `host/<this>`. */
export function followerHostId(spoke: string): string {
  return `${authenticatorPolicyId(spoke)}/apps/${followerHostRelativeId()}`;
}

export function followerLogin(spoke: string): string {
  return `host/${followerHostId(spoke)}`;
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

/** Where a follower's seed fetcher downloads its seed. */
export function seedFileUrl(primaryHostname: string, account: string): string {
  return `${primaryUrl(primaryHostname)}/configuration/${account}/seed/follower`;
}

/** The authn-k8s login endpoint of one authenticator on a Conjur server. */
export function authnK8sUrl(serverUrl: string, id: string): string {
  return `${serverUrl}/${authenticatorName(id)}`;
}
