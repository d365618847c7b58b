// The policy load, run from the hub cluster against whichever Conjur server holds the estate's policy
// (the Open Source primary in the hub, or the external Enterprise Leader). Per load (the base, then
// one per spoke): the authenticators' CA Secrets, a ConfigMap with the policy, the script and the
// authn-jwt settings, and the Job that loads the policy, sets the variables and (Leader) enables the
// spoke's authn-jwt authenticator through the API; one NetworkPolicy for all the loads' pods.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { authenticatorVariableId, CA_VARIABLES } from "../conjur/ids";
import {
  authnJwtName,
  authnJwtPolicyId,
  JWT_VARIABLES,
  jwtFixedValues,
  jwtVariableNames,
} from "../conjur/authn-jwt";
import type { CertificateAuthority, SpokePki } from "../pki";
import type { StackSpec } from "../../stacks/spec";
import { renderPolicy, SpokePolicyDocument } from "../conjur/policy";
import type { SpokeJwtAuthenticator } from "../spoke/spoke";
import {
  dnsEgressRule,
  emptyDirVolume,
  JOB_RESOURCES,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tcpPorts,
} from "../kube";
import { selectorLabels, workloadLabels } from "../naming";
import { networkPolicyFactory } from "../namespace";
import { buildPolicyLoadScript, contentHash, JOB_PATHS, VariableFromFile } from "./documents";

const CURL_UID = 100;

type Meta = (objectName: string, component: string) => k8s.types.input.meta.v1.ObjectMeta;

/** One load: a policy document, the variables it sets and the authenticators it enables. */
export interface PolicyLoadUnit {
  /** The policy document loaded into root. */
  readonly policyText: string;
  /** authn-k8s authenticators whose CA the Job sets, by id. */
  readonly authnK8s: readonly { readonly id: string; readonly ca: CertificateAuthority }[];
  /** The spoke's authn-jwt authenticator, whose settings the Job sets. */
  readonly authnJwt?: SpokeJwtAuthenticator;
}

export interface PolicyLoadArgs {
  readonly account: string;
  readonly curlImage: string;
  /** What no spoke owns (loaded first), and one unit per converted spoke, by spoke name. */
  readonly base: PolicyLoadUnit;
  readonly spokes: readonly (PolicyLoadUnit & { readonly spoke: string })[];
  /** The audience the spokes' authn-jwt tokens carry. */
  readonly audience: string;
  /** Extra scripts for the base ConfigMap (the Open Source account bootstrap). */
  readonly extraScripts?: Record<string, string>;
  /** URL of the Conjur server as the Job reaches it, and the volume holding `ca.crt` that signs it. */
  readonly serverUrl: string;
  readonly serverCaVolume: k8s.types.input.core.v1.Volume;
  /** Secret holding the admin password (`password`). */
  readonly adminSecretName: pulumi.Input<string>;
  /**
   * Enable each spoke's authn-jwt authenticator through the API (a Leader, whose allow-list is not
   * a pod env var).
   */
  readonly enableThroughApi: boolean;
  /** The Job's egress to the server: a pod selector in the hub, or the Leader's addresses. */
  readonly serverPeers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
  readonly serverPort: number;
  /** The base load waits for these (the account bootstrap). */
  readonly dependsOn: pulumi.Resource[];
}

/** Where a load's ConfigMap is mounted, and the key prefix of the authn-jwt settings in it. */
const POLICY_DIR = "/policy";
const JWT_KEY_PREFIX = "authn-jwt.";

/** Files the Job reads and the Conjur variable each sets, for one authn-jwt authenticator. */
function jwtVariableFiles(jwt: SpokeJwtAuthenticator): VariableFromFile[] {
  return jwtVariableNames(jwt.keys).map((variable) => ({
    variableId: `${authnJwtPolicyId(jwt.id)}/${variable}`,
    file: `${POLICY_DIR}/${JWT_KEY_PREFIX}${variable}`,
  }));
}

/** The ConfigMap data of one authn-jwt authenticator: `authn-jwt.<variable>` (public values only). */
function jwtConfigData(jwt: SpokeJwtAuthenticator, audience: string) {
  const data: Record<string, pulumi.Input<string>> = {};
  const put = (variable: string, value: pulumi.Input<string> | undefined) => {
    if (value !== undefined) data[`${JWT_KEY_PREFIX}${variable}`] = value;
  };
  for (const [variable, value] of Object.entries(jwtFixedValues(jwt.id, audience))) put(variable, value);
  put(JWT_VARIABLES.issuer, jwt.issuer);
  put(JWT_VARIABLES.jwksUri, jwt.jwksUri);
  put(JWT_VARIABLES.caCert, jwt.caCert);
  if (jwt.publicKeys !== undefined) {
    // Conjur's public-keys format wraps the JWKS document.
    put(
      JWT_VARIABLES.publicKeys,
      JSON.stringify({ type: "jwks", value: JSON.parse(jwt.publicKeys) as unknown }),
    );
  }
  return data;
}

/** One converted spoke's authn-jwt authenticator, from the spokes' list. */
export function jwtOf(spokeJwt: readonly SpokeJwtAuthenticator[], spoke: string): SpokeJwtAuthenticator {
  const jwt = spokeJwt.find((j) => j.id === spoke);
  if (!jwt) throw new Error(`internal: no authn-jwt authenticator for spoke ${spoke}`);
  return jwt;
}

/**
 * Each spoke's load: its policy document, its authn-jwt settings, and (enterprise) its authn-k8s
 * CA, which its follower serves with the CA the Leader holds and replicates to it.
 */
export function spokeLoadUnits(
  spec: StackSpec,
  documents: readonly SpokePolicyDocument[],
  pki: SpokePki,
  spokeJwt: readonly SpokeJwtAuthenticator[],
): (PolicyLoadUnit & { readonly spoke: string })[] {
  return documents.map((d) => ({
    spoke: d.name,
    policyText: renderPolicy(d.statements),
    authnK8s: spec.conjur.edition === "enterprise" ? [{ id: d.name, ca: pki.authenticatorCa(d.name) }] : [],
    authnJwt: jwtOf(spokeJwt, d.name),
  }));
}

/** Names of one load's objects: the base keeps the names the hub has always used (no replacement). */
function loadNames(name: string, spoke?: string) {
  return spoke === undefined
    ? { resource: `${name}-policy`, object: "conjur-policy" }
    : { resource: `${name}-spoke-${spoke}-policy`, object: `conjur-policy-${spoke}` };
}

/**
 * Creates the policy loads: the base Job, then one Job per spoke that waits for it (a spoke's
 * grants name the base's seed-generation consumers). Every load is additive (POST) and its Job is
 * named after a hash of everything it loads, so a changed spoke re-runs that spoke's Job only and
 * no object grows with the fleet. Returns the base Job.
 */
export function conjurPolicyLoad(
  name: string,
  args: PolicyLoadArgs,
  meta: Meta,
  opts: pulumi.CustomResourceOptions,
): k8s.batch.v1.Job {
  const base = policyLoadJob(name, undefined, args, args.base, meta, opts, args.dependsOn);
  spokePolicyLoads(name, args, meta, opts, [base]);
  networkPolicyFactory(`${name}-netpol`, meta, opts)("policy-load", "conjur-policy-load", {
    podSelector: { matchLabels: selectorLabels("conjur-policy-load") },
    policyTypes: ["Ingress", "Egress"],
    ingress: [],
    egress: [{ to: args.serverPeers, ports: tcpPorts(args.serverPort) }, dnsEgressRule()],
  });
  return base;
}

/**
 * One load per spoke, each waiting for `after`: the base Job in the hub stack; nothing in a shard
 * stack, whose hub stack has loaded the base before (docs/sharding.md), and whose Jobs retry.
 */
export function spokePolicyLoads(
  name: string,
  args: Omit<PolicyLoadArgs, "base">,
  meta: Meta,
  opts: pulumi.CustomResourceOptions,
  after: readonly pulumi.Resource[],
): void {
  for (const unit of args.spokes) policyLoadJob(name, unit.spoke, args, unit, meta, opts, after);
}

/** One load's CA Secrets, ConfigMap (policy, script, public settings) and Job. */
function policyLoadJob(
  name: string,
  spoke: string | undefined,
  args: Omit<PolicyLoadArgs, "base">,
  unit: PolicyLoadUnit,
  meta: Meta,
  opts: pulumi.CustomResourceOptions,
  after: readonly pulumi.Resource[],
): k8s.batch.v1.Job {
  const names = loadNames(name, spoke);
  const inputs: VariableFromFile[] = [];
  const volumes: k8s.types.input.core.v1.Volume[] = [];
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [];
  const publicInputs: pulumi.Input<string>[] = [];
  for (const { id, ca } of unit.authnK8s) {
    const secretName = `authn-${id}-ca`;
    new k8s.core.v1.Secret(
      `${name}-authn-${id}-ca`,
      {
        metadata: meta(secretName, "authenticator"),
        type: "Opaque",
        stringData: { "ca.crt": ca.certPem, "ca.key": ca.keyPem },
      },
      opts,
    );
    const dir = `${JOB_PATHS.secretsRoot}/${secretName}`;
    volumes.push({ name: secretName, secret: { secretName } });
    mounts.push({ name: secretName, mountPath: dir, readOnly: true });
    inputs.push(
      { variableId: authenticatorVariableId(id, CA_VARIABLES.cert), file: `${dir}/ca.crt` },
      { variableId: authenticatorVariableId(id, CA_VARIABLES.key), file: `${dir}/ca.key` },
    );
    publicInputs.push(ca.certPem);
  }
  const jwtData = unit.authnJwt ? jwtConfigData(unit.authnJwt, args.audience) : {};
  if (unit.authnJwt) inputs.push(...jwtVariableFiles(unit.authnJwt));
  publicInputs.push(...Object.values(jwtData));

  const script = buildPolicyLoadScript({
    primaryUrl: args.serverUrl,
    account: args.account,
    variables: inputs,
    enable: unit.authnJwt && args.enableThroughApi ? [authnJwtName(unit.authnJwt.id)] : [],
  });
  const policyConfig = new k8s.core.v1.ConfigMap(
    names.resource,
    {
      metadata: meta(names.object, "policy"),
      data: {
        "policy.yml": unit.policyText,
        "load.sh": script,
        ...(spoke === undefined ? (args.extraScripts ?? {}) : {}),
        ...jwtData,
      },
    },
    opts,
  );
  // The Job's name changes with everything it loads, so a changed input runs it again.
  const jobPrefix = spoke === undefined ? "conjur-policy-load" : `conjur-policy-load-${spoke}`;
  const jobName = pulumi
    .all(publicInputs)
    .apply((values) => `${jobPrefix}-${contentHash(unit.policyText, script, ...values)}`);
  return new k8s.batch.v1.Job(
    `${names.resource}-load`,
    {
      metadata: { ...meta("conjur-policy-load", "policy"), name: jobName },
      spec: {
        backoffLimit: 6,
        template: {
          metadata: { labels: workloadLabels("conjur-policy-load", "policy-load") },
          spec: {
            restartPolicy: "OnFailure",
            serviceAccountName: "conjur-jobs",
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(CURL_UID),
            containers: [
              {
                name: "policy-load",
                image: args.curlImage,
                command: ["/bin/sh", `${POLICY_DIR}/load.sh`],
                resources: resourceRequirements(JOB_RESOURCES),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: "scripts", mountPath: POLICY_DIR, readOnly: true },
                  { name: "admin", mountPath: "/secrets/admin", readOnly: true },
                  { name: "ca", mountPath: "/etc/conjur/ca", readOnly: true },
                  { name: "tmp", mountPath: JOB_PATHS.scratch },
                  ...mounts,
                ],
              },
            ],
            volumes: [
              { name: "scripts", configMap: { name: policyConfig.metadata.name } },
              { name: "admin", secret: { secretName: args.adminSecretName } },
              { ...args.serverCaVolume, name: "ca" },
              emptyDirVolume("tmp", { memory: true }),
              ...volumes,
            ],
          },
        },
      },
    },
    { ...opts, dependsOn: [...((opts.dependsOn as pulumi.Resource[] | undefined) ?? []), ...after] },
  );
}
