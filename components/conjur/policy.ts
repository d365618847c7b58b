// Builds the estate's Conjur policy as typed statements and serialises it with Conjur's YAML tags.
// Documents loaded into root (a base and one per spoke), shaped by the Conjur edition (docs/architecture.md, "Conjur topology"):
// - oss: the hub's Open Source server authenticates spoke workloads with one authn-jwt authenticator
//   per spoke; each tenant application's host is named after its service account's token subject.
// - enterprise: the Leader holds one authn-jwt authenticator per spoke (its follower fetches a seed
//   with it), and one authn-k8s authenticator per spoke that the follower serves in that cluster to
//   the tenants' applications; the seed-generation service admits the followers.
// User values only ever become YAML scalars.
import * as YAML from "yaml";
import {
  AUTHENTICATOR_CONTAINER,
  authenticatorPolicyId,
  CA_VARIABLES,
  SEED_GENERATION_BRANCH,
  TENANTS_BRANCH,
} from "./ids";
import { authnJwtBranch, jwtConsumerGrant, jwtHost, jwtHostId, JwtKeySource } from "./authn-jwt";
import { authenticatorAccess, record, ref, type Ref, type Statement } from "./statements";
import { CONJUR_NAMESPACE, FOLLOWER_SERVICE_ACCOUNT, HUB_AUTHENTICATOR_ID } from "../naming";
import { esoGrants, esoJwtHosts } from "../eso/policy";

export type { Annotations, RecordKind, Ref, Statement } from "./statements";

export type ConjurEdition = "oss" | "enterprise";

export interface PolicyApplication {
  readonly name: string;
  readonly serviceAccount: string;
  readonly workload?: { readonly kind: "deployment" | "stateful-set"; readonly name: string };
  readonly secrets: readonly string[];
}

export interface PolicyTenant {
  readonly name: string;
  /** External Secrets opted in (a truthy value): see components/eso/policy.ts. */
  readonly externalSecrets?: false | object;
  readonly applications: readonly PolicyApplication[];
}

export interface PolicySpoke {
  readonly name: string;
  readonly tenants: readonly PolicyTenant[];
  /** Where the spoke's authn-jwt authenticator gets the cluster's token-signing keys. */
  readonly jwtKeys: JwtKeySource;
}

export interface EstatePolicyInput {
  readonly edition: ConjurEdition;
  /** authn-k8s/hub: only when a Conjur server runs inside the hub cluster, where authn-k8s works. */
  readonly hubAuthenticator: boolean;
  /** Converted spokes only: a pending spoke has no authenticator yet. */
  readonly spokes: readonly PolicySpoke[];
}

/** The body of `conjur/authn-k8s/<id>`: webservices, CA variables and consumers (in-cluster use only). */
export function authenticatorBranch(id: string): Statement {
  return {
    kind: "policy",
    id: authenticatorPolicyId(id),
    body: [
      record("webservice", "", { description: `authn-k8s authenticator for cluster ${id}` }),
      record("webservice", "status", { description: `status of authenticator ${id}` }),
      record("variable", CA_VARIABLES.cert),
      record("variable", CA_VARIABLES.key),
      ...authenticatorAccess(id, `authenticator ${id}`),
    ],
  };
}

function applicationHostAnnotations(tenant: string, app: PolicyApplication) {
  const annotations: Record<string, string> = {
    "authn-k8s/namespace": tenant,
    "authn-k8s/service-account": app.serviceAccount,
  };
  if (app.workload) annotations[`authn-k8s/${app.workload.kind}`] = app.workload.name;
  annotations["authn-k8s/authentication-container-name"] = AUTHENTICATOR_CONTAINER;
  annotations["kubernetes"] = "true";
  return annotations;
}

/**
 * `tenants/<spoke>/<tenant>`: each application's variables, and in enterprise its authn-k8s host
 * with read/execute on its own variables only. In oss the host lives under the spoke's authn-jwt
 * identity path and its permits are made at root level (applicationPermits).
 */
function tenantBranch(edition: ConjurEdition, tenant: PolicyTenant): Statement {
  const body: Statement[] = [];
  for (const app of tenant.applications) {
    if (edition === "enterprise") {
      body.push(record("host", app.name, applicationHostAnnotations(tenant.name, app)));
    }
    for (const secret of app.secrets) {
      body.push(record("variable", `${app.name}/${secret}`));
      if (edition === "enterprise") {
        body.push({
          kind: "permit",
          role: ref("host", app.name),
          privileges: ["read", "execute"],
          resource: ref("variable", `${app.name}/${secret}`),
        });
      }
    }
  }
  return { kind: "policy", id: tenant.name, body };
}

/** The full id of the host an application of a spoke authenticates as, per edition. */
export function applicationHostId(
  edition: ConjurEdition,
  spoke: string,
  tenant: string,
  app: PolicyApplication,
): string {
  return edition === "oss"
    ? jwtHostId(spoke, tenant, app.serviceAccount)
    : `${TENANTS_BRANCH}/${spoke}/${tenant}/${app.name}`;
}

/** One host per service account of the spoke's tenants (applications may share one). */
function tenantJwtHosts(spoke: PolicySpoke): Statement[] {
  const seen = new Set<string>();
  const hosts: Statement[] = [];
  for (const tenant of spoke.tenants) {
    for (const app of tenant.applications) {
      const key = `${tenant.name}/${app.serviceAccount}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hosts.push(jwtHost(spoke.name, tenant.name, app.serviceAccount));
    }
  }
  return hosts;
}

/**
 * Per spoke: the authenticators and the hosts that use them. In oss every tenant service account
 * already has its authn-jwt host (External Secrets logs in as those); in enterprise the authn-jwt
 * hosts are the follower's and, for tenants with External Secrets, one per service account ESO
 * logs in as at the follower.
 */
function spokeAuthenticators(edition: ConjurEdition, spoke: PolicySpoke): Statement[] {
  if (edition === "oss") return [authnJwtBranch(spoke.name, spoke.jwtKeys, tenantJwtHosts(spoke))];
  return [
    authenticatorBranch(spoke.name),
    authnJwtBranch(spoke.name, spoke.jwtKeys, [
      jwtHost(spoke.name, CONJUR_NAMESPACE, FOLLOWER_SERVICE_ACCOUNT),
      ...esoJwtHosts(spoke),
    ]),
  ];
}

/** Root-level grants and permits, with full ids so each names exactly the role it hands out. */
function spokeGrants(edition: ConjurEdition, spoke: PolicySpoke): Statement[] {
  const out: Statement[] = [];
  const granted = new Set<string>();
  const grant = (statement: Statement, hostId: string) => {
    if (granted.has(hostId)) return;
    granted.add(hostId);
    out.push(statement);
  };
  if (edition === "enterprise") {
    const follower = jwtHostId(spoke.name, CONJUR_NAMESPACE, FOLLOWER_SERVICE_ACCOUNT);
    out.push(
      {
        kind: "grant",
        role: ref("group", `${SEED_GENERATION_BRANCH}/consumers`),
        member: ref("host", follower),
      },
      jwtConsumerGrant(spoke.name, follower),
    );
  }
  for (const tenant of spoke.tenants) {
    for (const app of tenant.applications) {
      const hostId = applicationHostId(edition, spoke.name, tenant.name, app);
      if (edition === "enterprise") {
        grant(
          {
            kind: "grant",
            role: ref("group", `${authenticatorPolicyId(spoke.name)}/consumers`),
            member: ref("host", hostId),
          },
          hostId,
        );
        continue;
      }
      grant(jwtConsumerGrant(spoke.name, hostId), hostId);
      for (const secret of app.secrets) {
        out.push({
          kind: "permit",
          role: ref("host", hostId),
          privileges: ["read", "execute"],
          resource: ref("variable", `${TENANTS_BRANCH}/${spoke.name}/${tenant.name}/${app.name}/${secret}`),
        });
      }
    }
  }
  return out;
}

const SEED_GENERATION: Statement = {
  kind: "policy",
  id: SEED_GENERATION_BRANCH,
  body: [
    record("webservice", "", { description: "follower seed generation" }),
    record("group", "consumers", { description: "followers allowed to fetch a seed" }),
    {
      kind: "permit",
      role: ref("group", "consumers"),
      privileges: ["execute"],
      resource: ref("webservice", ""),
    },
  ],
};

/** The estate's policy as the documents the hub loads into `root`, one Job each. */
/** One converted spoke's document: everything that names the spoke, and nothing of another spoke. */
export interface SpokePolicyDocument {
  readonly name: string;
  readonly statements: Statement[];
}

export interface EstatePolicyDocuments {
  /** What no spoke owns: the hub's authenticator (oss) and the seed-generation service (enterprise). */
  readonly base: Statement[];
  readonly spokes: readonly SpokePolicyDocument[];
}

/**
 * One spoke's document: its authenticators, its tenants' branch (declared inside `tenants`, so the
 * ids and owners are those of one whole document: loading is additive, POST, and each spoke's load
 * adds its own branch to `tenants`), and the root-level grants and permits that name its hosts.
 * It refers to nothing outside itself but the base document's seed-generation consumers.
 */
function spokeDocument(edition: ConjurEdition, spoke: PolicySpoke): Statement[] {
  const statements = spokeAuthenticators(edition, spoke);
  if (spoke.tenants.length > 0) {
    statements.push({
      kind: "policy",
      id: TENANTS_BRANCH,
      body: [{ kind: "policy", id: spoke.name, body: spoke.tenants.map((t) => tenantBranch(edition, t)) }],
    });
  }
  statements.push(...spokeGrants(edition, spoke));
  // oss: spokeGrants already gives each service-account host its consumer grant and its permits.
  if (edition === "enterprise") statements.push(...esoGrants(spoke));
  return statements;
}

/**
 * The estate policy split so that no document grows with the fleet (docs/performance.md, "Conjur
 * policy"): the base, then one document per spoke, each bounded by that spoke's own tenants.
 */
export function estatePolicyDocuments(input: EstatePolicyInput): EstatePolicyDocuments {
  const base: Statement[] = [];
  if (input.hubAuthenticator) base.push(authenticatorBranch(HUB_AUTHENTICATOR_ID));
  if (input.edition === "enterprise") base.push(SEED_GENERATION);
  return {
    base,
    spokes: input.spokes.map((spoke) => ({
      name: spoke.name,
      statements: spokeDocument(input.edition, spoke),
    })),
  };
}

/** Every statement the estate loads, in load order: the base, then each spoke's document. */
export function buildEstatePolicy(input: EstatePolicyInput): Statement[] {
  const documents = estatePolicyDocuments(input);
  return [...documents.base, ...documents.spokes.flatMap((s) => s.statements)];
}

// ---- serialisation ----

function refNode(doc: YAML.Document, r: Ref): YAML.Scalar {
  const node = doc.createNode(r.id === "" ? null : r.id) as YAML.Scalar;
  node.tag = `!${r.kind}`;
  return node;
}

function statementNode(doc: YAML.Document, s: Statement): YAML.Node {
  switch (s.kind) {
    case "policy": {
      const map = new YAML.YAMLMap();
      map.tag = "!policy";
      map.set("id", s.id);
      if (s.annotations) map.set("annotations", doc.createNode(s.annotations));
      const body = new YAML.YAMLSeq();
      for (const child of s.body) body.items.push(statementNode(doc, child));
      map.set("body", body);
      return map;
    }
    case "grant": {
      const map = new YAML.YAMLMap();
      map.tag = "!grant";
      map.set("role", refNode(doc, s.role));
      map.set("member", refNode(doc, s.member));
      return map;
    }
    case "permit": {
      const map = new YAML.YAMLMap();
      map.tag = "!permit";
      map.set("role", refNode(doc, s.role));
      map.set("privileges", doc.createNode([...s.privileges]));
      map.set("resource", refNode(doc, s.resource));
      return map;
    }
    default: {
      if (!s.annotations) return refNode(doc, { kind: s.kind, id: s.id });
      const map = new YAML.YAMLMap();
      map.tag = `!${s.kind}`;
      if (s.id !== "") map.set("id", s.id);
      map.set("annotations", doc.createNode(s.annotations));
      return map;
    }
  }
}

/** Serialises statements as a Conjur policy document (a YAML sequence of tagged records). */
export function renderPolicy(statements: readonly Statement[]): string {
  const doc = new YAML.Document();
  const seq = new YAML.YAMLSeq();
  for (const s of statements) seq.items.push(statementNode(doc, s));
  doc.contents = seq;
  return doc.toString({ nullStr: "", lineWidth: 0 });
}

// ---- parsing back (tests, review tooling) ----

/** A parsed record: its tag plus whatever the YAML held (a scalar id, or the mapping's fields). */
export interface ParsedRecord {
  readonly tag: string;
  readonly [field: string]: unknown;
}

const TAGS = [
  "policy",
  "webservice",
  "variable",
  "group",
  "host",
  "layer",
  "user",
  "grant",
  "permit",
  "deny",
];

/** Parses a policy document written with Conjur's tags into plain tagged objects. */
export function parsePolicy(text: string): unknown {
  const customTags: YAML.Tags = [];
  for (const tag of TAGS) {
    customTags.push({
      tag: `!${tag}`,
      collection: "map",
      resolve: (map: YAML.YAMLMap.Parsed): ParsedRecord => ({
        tag,
        ...(map.toJSON() as Record<string, unknown>),
      }),
    } as YAML.CollectionTag);
    customTags.push({ tag: `!${tag}`, resolve: (value: string) => ({ tag, id: value }) });
  }
  return YAML.parse(text, { customTags });
}
