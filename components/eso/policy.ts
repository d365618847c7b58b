// The Conjur side of External Secrets in the enterprise edition: for each opted-in tenant, a host per
// application service account under the spoke's authn-jwt identity path (named after the token's
// `sub`, next to the follower's host), its grant to the authenticator's consumers, and read/execute
// on exactly the variables of the applications that run as that account. In oss the estate policy
// already gives every tenant service account this host and these permits (policy.ts tenantJwtHosts,
// spokeGrants), so components/conjur/policy.ts places these statements in enterprise only.
import { jwtConsumerGrant, jwtHost, jwtHostId } from "../conjur/authn-jwt";
import { appVariableId } from "../conjur/ids";
import type { Statement } from "../conjur/statements";
import { ref } from "../conjur/statements";
import { storeServiceAccounts } from "./documents";

export interface EsoPolicyTenant {
  readonly name: string;
  /** Opted in unless false or absent. */
  readonly externalSecrets?: false | object;
  readonly applications: readonly {
    readonly name: string;
    readonly serviceAccount: string;
    readonly secrets: readonly string[];
  }[];
}

export interface EsoPolicySpoke {
  readonly name: string;
  readonly tenants: readonly EsoPolicyTenant[];
}

const optedIn = (spoke: EsoPolicySpoke) => spoke.tenants.filter((t) => Boolean(t.externalSecrets));

/** Hosts to place in `conjur/authn-jwt/<spoke>/apps`: one per service account of an opted-in tenant. */
export function esoJwtHosts(spoke: EsoPolicySpoke): Statement[] {
  return optedIn(spoke).flatMap((t) => storeServiceAccounts(t).map((sa) => jwtHost(spoke.name, t.name, sa)));
}

/** Root-level grants and permits: each host authenticates, and reads its own applications' variables only. */
export function esoGrants(spoke: EsoPolicySpoke): Statement[] {
  return optedIn(spoke).flatMap((tenant) =>
    storeServiceAccounts(tenant).flatMap((sa) => {
      const host = jwtHostId(spoke.name, tenant.name, sa);
      const permits = tenant.applications
        .filter((app) => app.serviceAccount === sa)
        .flatMap((app) =>
          app.secrets.map((secret): Statement => ({
            kind: "permit",
            role: ref("host", host),
            privileges: ["read", "execute"],
            resource: ref("variable", appVariableId(spoke.name, tenant.name, app.name, secret)),
          })),
        );
      return [jwtConsumerGrant(spoke.name, host), ...permits];
    }),
  );
}
