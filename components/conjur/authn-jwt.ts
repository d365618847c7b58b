// The authn-jwt authenticator of one cluster, `conjur/authn-jwt/<cluster>`: pure policy and settings.
// A Kubernetes service-account token is a JWT signed by its cluster; Conjur checks the signature
// against that cluster's keys (`jwks-uri` or `public-keys`), its `iss` and `aud`, and maps the token's
// `sub` (`system:serviceaccount:<namespace>:<name>`) to the host `<identity-path>/<sub>`. Nothing in
// this flow needs Conjur to call the cluster's API, so it works wherever Conjur runs (an in-cluster
// Conjur cannot check another cluster's pods with authn-k8s: cyberark/conjur issues #1216, #2067).
//
// Variable names and their rules follow cyberark/conjur `app/domain/authentication/authn_jwt/`
// (`consts.rb`; `signing_key/signing_key_settings_builder.rb`: exactly one of `jwks-uri` or
// `public-keys`; `ca-cert` only with `jwks-uri`; `issuer` mandatory with `public-keys`). A declared
// variable must hold a value, so the branch declares only the variables a cluster's settings set.
// The policy shape (webservice, status webservice, consumers/operators groups, hosts named after the
// token subject with `authn-jwt/<id>/kubernetes.io/...` claim annotations) follows CyberArk's
// "JWT Authenticator for Kubernetes" docs (docs.cyberark.com ... k8s-jwt-authn.htm) as applied in the
// field policies reviewed in ../shared/reference/reviews/conjur-fidelity.md (joetanx/conjur-k8s
// `policies/authn-jwt-k8s.yaml`, `policies/k8s-hosts.yaml`).
import { Annotations, authenticatorAccess, record, ref, Statement } from "./statements";

export const AUTHN_JWT_BRANCH = "conjur/authn-jwt";

/** The variables of an authn-jwt authenticator, as Conjur names them. */
export const JWT_VARIABLES = {
  jwksUri: "jwks-uri",
  publicKeys: "public-keys",
  caCert: "ca-cert",
  issuer: "issuer",
  tokenAppProperty: "token-app-property",
  identityPath: "identity-path",
  audience: "audience",
} as const;

/** The token claim that names the workload: a service-account token's `sub`. */
export const TOKEN_APP_PROPERTY = "sub";

/** Where an authenticator's keys come from (which decides the variables it declares). */
export type JwtKeySource =
  /** Conjur fetches the JWKS; `withCaCert` when the endpoint's certificate is not publicly trusted. */
  | { readonly kind: "jwks-uri"; readonly withCaCert: boolean }
  /** The JWKS is stored in Conjur (`{"type":"jwks","value":{"keys":[...]}}`). */
  | { readonly kind: "public-keys" };

export function authnJwtName(id: string): string {
  return `authn-jwt/${id}`;
}

export function authnJwtPolicyId(id: string): string {
  return `${AUTHN_JWT_BRANCH}/${id}`;
}

/** The policy under which a token's `sub` names a host: `<identity-path>/<sub>`. */
export function jwtIdentityPath(id: string): string {
  return `${authnJwtPolicyId(id)}/apps`;
}

/** A service-account token's `sub` claim. */
export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/**
 * Full id of the host a service-account token of cluster `id` authenticates as. External Secrets
 * (a SecretStore's `auth.jwt.serviceAccountRef`) and applications in JWT mode log in as this host.
 */
export function jwtHostId(id: string, namespace: string, serviceAccount: string): string {
  return `${jwtIdentityPath(id)}/${serviceAccountSubject(namespace, serviceAccount)}`;
}

/** The authenticate endpoint of one authn-jwt authenticator on a Conjur server. */
export function authnJwtUrl(serverUrl: string, id: string): string {
  return `${serverUrl}/${authnJwtName(id)}`;
}

/**
 * A host (relative to the identity path) for one service account. The annotations are claim
 * restrictions Conjur enforces on top of the `sub` match: the token's namespace and service account.
 */
export function jwtHost(id: string, namespace: string, serviceAccount: string): Statement {
  const annotations: Annotations = {
    [`authn-jwt/${id}/kubernetes.io/namespace`]: namespace,
    [`authn-jwt/${id}/kubernetes.io/serviceaccount/name`]: serviceAccount,
  };
  return record("host", serviceAccountSubject(namespace, serviceAccount), annotations);
}

/** The variables a cluster's settings declare (and the policy-load Job sets), in a stable order. */
export function jwtVariableNames(keys: JwtKeySource): string[] {
  const source =
    keys.kind === "jwks-uri"
      ? [JWT_VARIABLES.jwksUri, ...(keys.withCaCert ? [JWT_VARIABLES.caCert] : [])]
      : [JWT_VARIABLES.publicKeys];
  return [
    ...source,
    JWT_VARIABLES.issuer,
    JWT_VARIABLES.tokenAppProperty,
    JWT_VARIABLES.identityPath,
    JWT_VARIABLES.audience,
  ];
}

/**
 * `conjur/authn-jwt/<id>`: the authenticator webservice, its status webservice, the variables its key
 * source needs, `consumers` (may authenticate) and `operators` (may read the status), and the hosts
 * of the identity path in an `apps` sub-policy.
 */
export function authnJwtBranch(id: string, keys: JwtKeySource, hosts: readonly Statement[]): Statement {
  const body: Statement[] = [
    record("webservice", "", { description: `authn-jwt authenticator for cluster ${id}` }),
    record("webservice", "status", { description: `status of authenticator authn-jwt/${id}` }),
    ...jwtVariableNames(keys).map((name) => record("variable", name)),
    ...authenticatorAccess(`authn-jwt/${id}`, `authn-jwt/${id}`),
  ];
  if (hosts.length > 0) body.push({ kind: "policy", id: "apps", body: hosts });
  return { kind: "policy", id: authnJwtPolicyId(id), body };
}

/**
 * The values the stack fixes for every authenticator: how a token names its host, and the audience
 * tokens must carry. The cluster-specific ones (`issuer`, `jwks-uri` or `public-keys`, `ca-cert`)
 * come from the cluster.
 */
export function jwtFixedValues(id: string, audience: string): Record<string, string> {
  return {
    [JWT_VARIABLES.tokenAppProperty]: TOKEN_APP_PROPERTY,
    [JWT_VARIABLES.identityPath]: jwtIdentityPath(id),
    [JWT_VARIABLES.audience]: audience,
  };
}

/**
 * The audience service-account tokens are requested with for a Conjur server (its URL): a token
 * minted for another audience (another Conjur, the API server) is refused.
 */
export function jwtAudience(conjurUrl: string): string {
  return conjurUrl;
}

/** Grants a host (full id) the right to authenticate with cluster `id`'s authenticator. */
export function jwtConsumerGrant(id: string, hostId: string): Statement {
  return {
    kind: "grant",
    role: ref("group", `${authnJwtPolicyId(id)}/consumers`),
    member: ref("host", hostId),
  };
}
