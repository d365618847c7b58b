// The policy load, run from the hub cluster against whichever Conjur server holds the estate's policy
// (the Open Source primary in the hub, or the external Enterprise Leader): the authenticators' CA
// Secrets and authn-jwt settings, the policy ConfigMap, the Job that loads the policy, sets the
// variables and (Leader) enables the authenticators through the API, and the Job's NetworkPolicy.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { authenticatorVariableId, CA_VARIABLES } from "../conjur/ids";
import { authnJwtPolicyId, JWT_VARIABLES, jwtFixedValues, jwtVariableNames } from "../conjur/authn-jwt";
import type { CertificateAuthority } from "../pki";
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
const JWT_CONFIG_MAP = "conjur-authn-jwt";
const JWT_DIR = "/authn-jwt";

type Meta = (objectName: string, component: string) => k8s.types.input.meta.v1.ObjectMeta;

export interface PolicyLoadArgs {
  readonly account: string;
  readonly curlImage: string;
  /** The policy document loaded into root. */
  readonly policyText: string;
  /** Extra scripts for the same ConfigMap (the Open Source account bootstrap). */
  readonly extraScripts?: Record<string, string>;
  /** URL of the Conjur server as the Job reaches it, and the volume holding `ca.crt` that signs it. */
  readonly serverUrl: string;
  readonly serverCaVolume: k8s.types.input.core.v1.Volume;
  /** Secret holding the admin password (`password`). */
  readonly adminSecretName: pulumi.Input<string>;
  /** authn-k8s authenticators whose CA the Job sets, by id. */
  readonly authnK8s: readonly { readonly id: string; readonly ca: CertificateAuthority }[];
  /** authn-jwt authenticators (one per converted spoke), and the audience their tokens carry. */
  readonly authnJwt: readonly SpokeJwtAuthenticator[];
  readonly audience: string;
  /** Authenticators to enable through the API (a Leader, whose allow-list is not a pod env var). */
  readonly enable: readonly string[];
  /** The Job's egress to the server: a pod selector in the hub, or the Leader's addresses. */
  readonly serverPeers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
  readonly serverPort: number;
  /** Waits for these before loading (the account bootstrap). */
  readonly dependsOn: pulumi.Resource[];
}

/** Files the Job reads and the Conjur variable each sets, for one authn-jwt authenticator. */
function jwtVariableFiles(jwt: SpokeJwtAuthenticator): VariableFromFile[] {
  return jwtVariableNames(jwt.keys).map((variable) => ({
    variableId: `${authnJwtPolicyId(jwt.id)}/${variable}`,
    file: `${JWT_DIR}/${jwt.id}.${variable}`,
  }));
}

/** The ConfigMap data for every authn-jwt authenticator: `<spoke>.<variable>` (public values only). */
function jwtConfigData(jwts: readonly SpokeJwtAuthenticator[], audience: string) {
  const data: Record<string, pulumi.Input<string>> = {};
  for (const jwt of jwts) {
    const put = (variable: string, value: pulumi.Input<string> | undefined) => {
      if (value !== undefined) data[`${jwt.id}.${variable}`] = value;
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
  }
  return data;
}

/**
 * Creates the policy load. Returns the Job so callers can order on it. Resource names are those the
 * hub has always used (`<name>-policy`, `<name>-policy-load`, `<name>-authn-<id>-ca`): no replacement.
 */
export function conjurPolicyLoad(
  name: string,
  args: PolicyLoadArgs,
  meta: Meta,
  opts: pulumi.CustomResourceOptions,
): k8s.batch.v1.Job {
  const inputs: VariableFromFile[] = [];
  const volumes: k8s.types.input.core.v1.Volume[] = [];
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [];
  const publicInputs: pulumi.Input<string>[] = [];
  for (const { id, ca } of args.authnK8s) {
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
  if (args.authnJwt.length > 0) {
    const data = jwtConfigData(args.authnJwt, args.audience);
    new k8s.core.v1.ConfigMap(
      `${name}-authn-jwt`,
      { metadata: meta(JWT_CONFIG_MAP, "authenticator"), data },
      opts,
    );
    volumes.push({ name: "authn-jwt", configMap: { name: JWT_CONFIG_MAP } });
    mounts.push({ name: "authn-jwt", mountPath: JWT_DIR, readOnly: true });
    for (const jwt of args.authnJwt) inputs.push(...jwtVariableFiles(jwt));
    publicInputs.push(...Object.values(data));
  }

  const script = buildPolicyLoadScript({
    primaryUrl: args.serverUrl,
    account: args.account,
    variables: inputs,
    enable: args.enable,
  });
  const policyConfig = new k8s.core.v1.ConfigMap(
    `${name}-policy`,
    {
      metadata: meta("conjur-policy", "policy"),
      data: { "policy.yml": args.policyText, "load.sh": script, ...(args.extraScripts ?? {}) },
    },
    opts,
  );
  // The Job's name changes with everything it loads, so a changed input runs it again.
  const jobName = pulumi
    .all(publicInputs)
    .apply((values) => `conjur-policy-load-${contentHash(args.policyText, script, ...values)}`);
  const job = new k8s.batch.v1.Job(
    `${name}-policy-load`,
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
                command: ["/bin/sh", "/policy/load.sh"],
                resources: resourceRequirements(JOB_RESOURCES),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [
                  { name: "scripts", mountPath: "/policy", readOnly: true },
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
    { ...opts, dependsOn: [...((opts.dependsOn as pulumi.Resource[] | undefined) ?? []), ...args.dependsOn] },
  );
  networkPolicyFactory(`${name}-netpol`, meta, opts)("policy-load", "conjur-policy-load", {
    podSelector: { matchLabels: selectorLabels("conjur-policy-load") },
    policyTypes: ["Ingress", "Egress"],
    ingress: [],
    egress: [{ to: args.serverPeers, ports: tcpPorts(args.serverPort) }, dnsEgressRule()],
  });
  return job;
}
