// Pure builders for External Secrets Operator objects in an opted-in tenant namespace: a SecretStore
// per application service account (ESO's Conjur provider logging in with authn-jwt as that account)
// and an ExternalSecret per declared secret. Field names follow external-secrets/external-secrets
// `apis/externalsecrets/v1/secretstore_conjur_types.go` (`url`, `caBundle`, `auth.jwt.account`,
// `serviceID`, `serviceAccountRef.{name,audiences}`) and `externalsecret_types.go`; API version
// external-secrets.io/v1 (v1beta1 is no longer served since ESO v0.17.0).
import {
  conjurClientEndpoint,
  leaderCaPem,
  type SpokeSpec,
  type StackSpec,
  type TenantSpec,
} from "../../stacks/spec";
import { externalSecretName, type ExternalSecretsSpec } from "../../stacks/external-secrets";
import { jwtAudience } from "../conjur/authn-jwt";
import { jwtServerUrl } from "../conjur/cluster-jwt";
import { appVariableId } from "../conjur/ids";
import { namespaceSelectorFor, tcpPorts } from "../kube";
import { OBJECT_PREFIX } from "../naming";

export const ESO_API_VERSION = "external-secrets.io/v1";

/**
 * Where a spoke's ExternalSecrets read from: a Conjur server URL, the CA its certificate chains to,
 * and the audience the service-account tokens ESO presents there must carry.
 */
export interface ConjurEndpoint {
  readonly url: string;
  readonly caPem: string;
  readonly audience: string;
}

/**
 * A spoke's ESO endpoint, per edition: its local Conjur (`conjurClientEndpoint`: the hub's primary
 * under the estate CA in oss; the spoke's follower under the Leader's CA in enterprise). The audience
 * is what the policy-load Job sets in `conjur/authn-jwt/<spoke>/audience`, `jwtServerUrl(spec)`: the
 * hub URL in oss, and in enterprise the Leader's URL even though ESO talks to the follower, because
 * a follower serves the authenticator settings it replicates from the Leader.
 */
export function esoConjurEndpoint(spec: StackSpec, spoke: SpokeSpec, estateCaPem: string): ConjurEndpoint {
  const client = conjurClientEndpoint(spec, spoke);
  const caPem =
    spec.conjur.edition === "enterprise" ? leaderCaPem(spec.conjur.leader, estateCaPem) : estateCaPem;
  return { url: client.url, caPem, audience: jwtAudience(jwtServerUrl(spec)) };
}

export function secretStoreName(serviceAccount: string): string {
  return `${OBJECT_PREFIX}conjur-${serviceAccount}`;
}

/** The service accounts of a tenant's applications that have secrets, each once, in order. */
export function storeServiceAccounts(tenant: Pick<TenantSpec, "applications">): string[] {
  const accounts = tenant.applications.filter((a) => a.secrets.length > 0).map((a) => a.serviceAccount);
  return [...new Set(accounts)];
}

/**
 * A namespaced SecretStore: ESO requests a token for the tenant's own service account (TokenRequest,
 * audience = `ConjurEndpoint.audience`) and logs in to `authn-jwt/<spoke>`, whose identity path maps the token's
 * `sub` to that account's host. A store in one tenant namespace can only use that namespace's accounts.
 */
export function secretStoreSpec(args: {
  readonly endpoint: ConjurEndpoint;
  readonly account: string;
  readonly authenticatorId: string;
  readonly serviceAccount: string;
}) {
  return {
    provider: {
      conjur: {
        url: args.endpoint.url,
        caBundle: Buffer.from(args.endpoint.caPem).toString("base64"),
        auth: {
          jwt: {
            account: args.account,
            serviceID: args.authenticatorId,
            serviceAccountRef: { name: args.serviceAccount, audiences: [args.endpoint.audience] },
          },
        },
      },
    },
  };
}

export interface ExternalSecretDocument {
  readonly name: string;
  readonly spec: Record<string, unknown>;
}

/**
 * One ExternalSecret per declared secret of each application: the Conjur variable
 * `tenants/<spoke>/<tenant>/<app>/<secret>` into the Secret `hubspoke-<app>-<secret>`, key `<secret>`.
 * `creationPolicy: Orphan` leaves the synced Secret in place when the ExternalSecret goes (a
 * `pulumi destroy` or an opt-out never deletes a Secret a running pod mounts); `deletionPolicy:
 * Retain` keeps it if the variable disappears.
 */
export function externalSecretDocuments(
  spoke: string,
  tenant: Pick<TenantSpec, "name" | "applications">,
  refreshInterval: string,
): ExternalSecretDocument[] {
  return tenant.applications.flatMap((app) =>
    app.secrets.map((secret) => {
      const name = externalSecretName(app.name, secret);
      return {
        name,
        spec: {
          refreshInterval,
          secretStoreRef: { kind: "SecretStore", name: secretStoreName(app.serviceAccount) },
          target: { name, creationPolicy: "Orphan", deletionPolicy: "Retain" },
          data: [
            { secretKey: secret, remoteRef: { key: appVariableId(spoke, tenant.name, app.name, secret) } },
          ],
        },
      };
    }),
  );
}

/**
 * The ingress rule a spoke's follower needs when it is the endpoint (enterprise edition): ESO's
 * controller pods, by namespace name and their labels, on the follower pods' HTTPS port only
 * (`FOLLOWER_POD_HTTPS_PORT` of the follower kind: NetworkPolicies see the pod port, not the
 * Service's 443). Tenant pods need nothing: ESO's controller, not the tenant, calls Conjur.
 */
export function esoToFollowerIngressRule(
  namespace: string,
  controllerLabels: Readonly<Record<string, string>>,
  podPort: number,
) {
  return {
    from: [
      {
        namespaceSelector: namespaceSelectorFor(namespace),
        podSelector: { matchLabels: { ...controllerLabels } },
      },
    ],
    ports: tcpPorts(podPort),
  };
}

/** The follower's ingress rules for External Secrets: ESO's controller, once a tenant of the spoke opts in. */
export function esoFollowerIngress(
  eso: Pick<ExternalSecretsSpec, "namespace" | "controllerLabels">,
  spoke: { readonly tenants: readonly { readonly externalSecrets?: false | object }[] },
  podPort: number,
) {
  if (!spoke.tenants.some((t) => Boolean(t.externalSecrets))) return [];
  return [esoToFollowerIngressRule(eso.namespace, eso.controllerLabels, podPort)];
}
