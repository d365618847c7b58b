// Builds the estate's Conjur policy as typed statements and serialises it with Conjur's YAML tags.
// One root document: an authn-k8s branch per authenticator, seed generation, follower hosts, and a
// host plus private variables per tenant application. User values only ever become YAML scalars.
import * as YAML from "yaml";
import {
  AUTHENTICATOR_CONTAINER,
  authenticatorIds,
  authenticatorPolicyId,
  CA_VARIABLES,
  CLUSTER_ACCESS_VARIABLES,
  followerHostId,
  followerHostRelativeId,
  SEED_GENERATION_BRANCH,
  TENANTS_BRANCH,
} from "./ids";
import { CONJUR_NAMESPACE, FOLLOWER_DEPLOYMENT, FOLLOWER_SERVICE_ACCOUNT } from "../naming";
import { authnJwtBranch, JwtKeySource } from "./authn-jwt";
import { esoGrants, esoJwtHosts, spokeUsesExternalSecrets } from "../eso/policy";

/** Until the editions work sets each spoke's key source: the cluster's JWKS endpoint, under its CA. */
const ESO_JWT_KEYS: JwtKeySource = { kind: "jwks-uri", withCaCert: true };
import { type Annotations, record, ref, type Ref, type Statement } from "./statements";

export type { Annotations, RecordKind, Ref, Statement } from "./statements";

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
}

export interface EstatePolicyInput {
  /** Converted spokes only: a pending spoke has no authenticator yet. */
  readonly spokes: readonly PolicySpoke[];
}

/** The body of `conjur/authn-k8s/<id>`: webservices, CA variables, consumers, and cluster access for spokes. */
export function authenticatorBranch(
  id: string,
  options: { remoteCluster: boolean; hosts: readonly Statement[] },
): Statement {
  const body: Statement[] = [
    record("webservice", "", { description: `authn-k8s authenticator for cluster ${id}` }),
    record("webservice", "status", { description: `status of authenticator ${id}` }),
    record("variable", CA_VARIABLES.cert),
    record("variable", CA_VARIABLES.key),
  ];
  if (options.remoteCluster) {
    // The primary runs on the hub, so it reaches a spoke's API with these (Conjur outside the cluster).
    body.push(
      record("variable", CLUSTER_ACCESS_VARIABLES.apiUrl),
      record("variable", CLUSTER_ACCESS_VARIABLES.caCert),
      record("variable", CLUSTER_ACCESS_VARIABLES.serviceAccountToken),
    );
  }
  body.push(
    record("group", "consumers", { description: `identities allowed to authenticate with ${id}` }),
    record("group", "operators", { description: `may read the status of authenticator ${id}` }),
    {
      kind: "permit",
      role: ref("group", "consumers"),
      privileges: ["read", "authenticate"],
      resource: ref("webservice", ""),
    },
    {
      kind: "permit",
      role: ref("group", "operators"),
      privileges: ["read"],
      resource: ref("webservice", "status"),
    },
  );
  if (options.hosts.length > 0) body.push({ kind: "policy", id: "apps", body: options.hosts });
  return { kind: "policy", id: authenticatorPolicyId(id), body };
}

function followerHost(): Statement {
  return record("host", followerHostRelativeId(), {
    "authn-k8s/namespace": CONJUR_NAMESPACE,
    "authn-k8s/service-account": FOLLOWER_SERVICE_ACCOUNT,
    "authn-k8s/deployment": FOLLOWER_DEPLOYMENT,
    "authn-k8s/authentication-container-name": AUTHENTICATOR_CONTAINER,
    kubernetes: "true",
  });
}

function applicationHostAnnotations(tenant: string, app: PolicyApplication): Annotations {
  const annotations: Record<string, string> = {
    "authn-k8s/namespace": tenant,
    "authn-k8s/service-account": app.serviceAccount,
  };
  if (app.workload) annotations[`authn-k8s/${app.workload.kind}`] = app.workload.name;
  annotations["authn-k8s/authentication-container-name"] = AUTHENTICATOR_CONTAINER;
  annotations["kubernetes"] = "true";
  return annotations;
}

/** `tenants/<spoke>/<tenant>`: one host per application, its variables, and read/execute for that host only. */
function tenantBranch(tenant: PolicyTenant): Statement {
  const body: Statement[] = [];
  for (const app of tenant.applications) {
    body.push(record("host", app.name, applicationHostAnnotations(tenant.name, app)));
    for (const secret of app.secrets) {
      body.push(record("variable", `${app.name}/${secret}`));
      body.push({
        kind: "permit",
        role: ref("host", app.name),
        privileges: ["read", "execute"],
        resource: ref("variable", `${app.name}/${secret}`),
      });
    }
  }
  return { kind: "policy", id: tenant.name, body };
}

/** The whole estate policy, loaded into `root`. */
export function buildEstatePolicy(input: EstatePolicyInput): Statement[] {
  const statements: Statement[] = [];
  const [hubId, ...spokeIds] = authenticatorIds(input.spokes.map((s) => s.name));
  statements.push(authenticatorBranch(hubId, { remoteCluster: false, hosts: [] }));
  for (const id of spokeIds) {
    statements.push(authenticatorBranch(id, { remoteCluster: true, hosts: [followerHost()] }));
  }

  statements.push({
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
  });

  const tenantSpokes = input.spokes.filter((s) => s.tenants.length > 0);
  if (tenantSpokes.length > 0) {
    statements.push({
      kind: "policy",
      id: TENANTS_BRANCH,
      body: tenantSpokes.map((s): Statement => ({
        kind: "policy",
        id: s.name,
        body: s.tenants.map(tenantBranch),
      })),
    });
  }

  // External Secrets: the spoke's authn-jwt authenticator with one host per opted-in service account.
  // The key source's values are set with the authenticator's other settings (editions work, #9).
  for (const spoke of input.spokes.filter(spokeUsesExternalSecrets)) {
    statements.push(authnJwtBranch(spoke.name, ESO_JWT_KEYS, esoJwtHosts(spoke)));
  }

  // Grants sit at root level with full ids, so each names exactly the role it hands out.
  for (const spoke of input.spokes) {
    const consumers = ref("group", `${authenticatorPolicyId(spoke.name)}/consumers`);
    const follower = ref("host", followerHostId(spoke.name));
    statements.push({
      kind: "grant",
      role: ref("group", `${SEED_GENERATION_BRANCH}/consumers`),
      member: follower,
    });
    statements.push({ kind: "grant", role: consumers, member: follower });
    for (const tenant of spoke.tenants) {
      for (const app of tenant.applications) {
        statements.push({
          kind: "grant",
          role: consumers,
          member: ref("host", `${TENANTS_BRANCH}/${spoke.name}/${tenant.name}/${app.name}`),
        });
      }
    }
  }
  for (const spoke of input.spokes) statements.push(...esoGrants(spoke));
  return statements;
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
