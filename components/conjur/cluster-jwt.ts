// How Conjur checks one spoke cluster's service-account tokens (authn-jwt/<spoke>), and who it is for.
// Pure: what the spec says (or implies for EKS and kubeadm clusters) about the token issuer and its keys.
import type { SpokeSpec, StackSpec } from "../../stacks/spec";
import type { JwtKeySource } from "./authn-jwt";

/** The issuer kubeadm (and kind) clusters put in service-account tokens unless configured otherwise. */
export const KUBEADM_ISSUER = "https://kubernetes.default.svc.cluster.local";

/** The API server's JWKS endpoint (Service Account Issuer Discovery, Kubernetes 1.21+). */
export function apiServerJwksUri(apiServer: string): string {
  return `${apiServer.replace(/\/+$/, "")}/openid/v1/jwks`;
}

/** EKS publishes each cluster's OIDC discovery document and keys at its public issuer URL. */
export function eksJwksUri(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/keys`;
}

/**
 * Where the spoke's keys come from: the JWKS given in config, a JWKS URL given in config, the EKS
 * issuer's public keys, or (default elsewhere) the API server's JWKS, trusted through the cluster CA.
 */
export function spokeJwtKeySource(spoke: SpokeSpec, onEks: boolean): JwtKeySource {
  if (spoke.jwt.publicKeys !== undefined) return { kind: "public-keys" };
  if (spoke.jwt.jwksUri !== undefined || onEks) return { kind: "jwks-uri", withCaCert: false };
  return { kind: "jwks-uri", withCaCert: true };
}

/**
 * Whether the stack lets anonymous clients read the spoke's issuer discovery endpoints (the default
 * JWKS of a non-EKS cluster): Conjur's JWKS fetch sends no credentials. EKS serves them publicly,
 * and a JWKS given in config needs no access at all.
 */
export function needsIssuerDiscoveryBinding(spoke: SpokeSpec, onEks: boolean): boolean {
  return !onEks && spoke.jwt.publicKeys === undefined && spoke.jwt.jwksUri === undefined;
}

/** The Conjur server spokes' tokens are presented to for authn-jwt: the hub (oss) or the Leader. */
export function jwtServerUrl(spec: StackSpec): string {
  return spec.conjur.edition === "oss" ? `https://${spec.hub.advertisedHostname}` : spec.conjur.leader.url;
}
