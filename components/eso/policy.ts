// The Conjur side of External Secrets: for each opted-in tenant, a host per application service
// account under the spoke's authn-jwt identity path (named after the token's `sub`), its grant to
// the authenticator's consumers, and read/execute on exactly the variables of the applications that
// run as that account. Pure statements; components/conjur/policy.ts places them.
import { authnJwtName, jwtConsumerGrant, jwtHost, jwtHostId } from "../conjur/authn-jwt";
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

/** Whether the spoke needs its authn-jwt authenticator for External Secrets. */
export function spokeUsesExternalSecrets(spoke: EsoPolicySpoke): boolean {
  return optedIn(spoke).length > 0;
}

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

/** The authenticators External Secrets needs enabled (CONJUR_AUTHENTICATORS), one per such spoke. */
export function esoAuthenticators(spokes: readonly EsoPolicySpoke[]): string[] {
  return spokes.filter(spokeUsesExternalSecrets).map((s) => authnJwtName(s.name));
}
