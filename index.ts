// Entry point: validate the stack config into one StackSpec, connect to each cluster in use,
// generate the estate's trust material and secrets, convert each spoke whose phase has been
// reached, then build the hub with every converted spoke wired into it, and the monitoring and
// log flow from every converted spoke to the hub.
import * as pulumi from "@pulumi/pulumi";
import { loadStackSpec } from "./stacks/load";
import { convertedSpokes } from "./stacks/spec";
import { ClusterConnection, createAwsProviders, createClusterConnections } from "./components/clusters";
import { EstatePki } from "./components/pki";
import { ConjurHub, ConjurSecrets } from "./components/hub";
import { ConjurSpoke } from "./components/spoke";
import { HubObservability, ObservabilitySecrets, SpokeObservability } from "./components/observability";
import { ClusterAudit } from "./components/audit";
import { ArgoCdRegistration, ArgoCdSpokeAccess } from "./components/gitops";
import { esoConjurEndpoint, ExternalSecretsSync } from "./components/eso";
import { HubBackup, HubFailover } from "./components/dr";
import { limitStackTraces } from "./stacks/stack-traces";

// No stack captured per Output during registration (stacks/stack-traces.ts, docs/performance.md).
limitStackTraces();

// Throws one error listing every config problem before any resource is registered.
const spec = loadStackSpec();

// One AWS provider per region, shared by the EKS look-ups and the disaster-recovery resources.
const awsProviders = createAwsProviders();
const clusters = createClusterConnections(spec, awsProviders);
const connection = (name: string): ClusterConnection => {
  const found = clusters.get(name);
  if (!found) throw new Error(`internal: no provider for cluster ${name}`);
  return found;
};

const pki = new EstatePki("pki", { spec });
// Open Source only: with Enterprise the Leader holds its own data key and credentials.
const conjurSecrets =
  spec.conjur.edition === "oss"
    ? new ConjurSecrets("conjur", { protectDataKey: spec.protectIrreplaceable })
    : undefined;

const spokes = convertedSpokes(spec).map((spoke) => {
  const cluster = connection(spoke.cluster);
  return new ConjurSpoke(`spoke-${spoke.name}`, {
    spec,
    spoke,
    provider: cluster.provider,
    cluster: {
      ...(cluster.apiServer ? { apiServer: cluster.apiServer } : {}),
      ...(cluster.oidcIssuer ? { oidcIssuer: cluster.oidcIssuer } : {}),
    },
    caCertPem: pki.caCertPem,
  });
});

const hub = new ConjurHub("hub", {
  spec,
  provider: connection(spec.hub.cluster).provider,
  pki,
  ...(conjurSecrets ? { secrets: conjurSecrets } : {}),
  spokeJwt: spokes.map((s) => s.jwt),
});

// ---- Observability: a Prometheus and a Fluent Bit per converted spoke, federated into the hub ----
const observabilitySecrets = new ObservabilitySecrets("observability");
const spokeObservability = convertedSpokes(spec).map(
  (spoke) =>
    new SpokeObservability(`observability-${spoke.name}`, {
      spec,
      spoke,
      provider: connection(spoke.cluster).provider,
      pki,
      forwardSharedKey: observabilitySecrets.forwardSharedKey,
    }),
);
const hubObservability = new HubObservability("observability-hub", {
  spec,
  provider: connection(spec.hub.cluster).provider,
  pki,
  forwardSharedKey: observabilitySecrets.forwardSharedKey,
  conjurNamespace: hub.namespace,
});

// ---- Disaster recovery (oss): encrypted backups to S3 with a restore ready to run, Route53 failover ----
// With Enterprise the Leader's own backups and Standbys apply; the config refuses these keys there.
const hubBackup =
  spec.backup && conjurSecrets
    ? new HubBackup(
        "dr-backup",
        {
          spec,
          provider: connection(spec.hub.cluster).provider,
          pki,
          dataKey: conjurSecrets.dataKey,
          awsProviders,
        },
        { dependsOn: [hub, hubObservability] },
      )
    : undefined;
const hubFailover = spec.failover
  ? new HubFailover("dr-failover", {
      failover: spec.failover,
      // Route53 is global; its calls go through the hub's region.
      awsProvider: awsProviders(spec.backup?.region ?? spec.failover.standby.region),
    })
  : undefined;

// ---- External Secrets: SecretStores and ExternalSecrets in each opted-in tenant namespace ----
// Each spoke's local Conjur: the hub's primary (oss) or the spoke's follower (enterprise).
convertedSpokes(spec).forEach((spoke, i) => {
  const esoEndpoint = pulumi.output(pki.caCertPem).apply((caPem) => esoConjurEndpoint(spec, spoke, caPem));
  for (const tenant of spoke.tenants) {
    if (tenant.externalSecrets === false) continue;
    new ExternalSecretsSync(`eso-${spoke.name}-${tenant.name}`, {
      account: spec.conjurAccount,
      spoke,
      tenant,
      refreshInterval: tenant.externalSecrets.refreshInterval,
      endpoint: esoEndpoint,
      provider: connection(spoke.cluster).provider,
      namespaceReady: [spokes[i]],
    });
  }
});

// ---- GitOps: every converted spoke registered with the Argo CD on the hub (when enabled) ----
const argocd = spec.argocd;
if (argocd) {
  const registered = convertedSpokes(spec).map((spoke, i) => {
    const cluster = connection(spoke.cluster);
    const access = new ArgoCdSpokeAccess(`gitops-${spoke.name}`, {
      spoke,
      argocd,
      provider: cluster.provider,
      apiServer: cluster.apiServer ?? "",
      ...(cluster.eks ? { eks: cluster.eks } : {}),
      tenantNamespaces: [spokes[i]],
    });
    const tenants = spoke.tenants.map((t) => t.name);
    return {
      spoke: { name: spoke.name, region: spoke.region, phase: spoke.phase, tenants },
      server: access.server,
      config: access.config,
    };
  });
  new ArgoCdRegistration("gitops", {
    environment: spec.environment,
    argocd,
    provider: connection(spec.hub.cluster).provider,
    spokes: registered,
  });
}

// ---- Audit: the API server audit policy, shipped to every cluster the stack manages ----
// Each waits only for the component that creates conjur-system on its cluster (linear, not n²).
const namespaceOwner = new Map<string, pulumi.Resource>([
  [spec.hub.cluster, hub],
  ...convertedSpokes(spec).map((spoke, i): [string, pulumi.Resource] => [spoke.cluster, spokes[i]]),
]);
for (const cluster of clusters.values()) {
  const owner = namespaceOwner.get(cluster.name);
  new ClusterAudit(
    `audit-${cluster.name}`,
    { provider: cluster.provider },
    { dependsOn: owner ? [owner] : [] },
  );
}

export const environment = spec.environment;
export const hubUrl = hub.url;
export const caCertificate = pki.caCertPem;
export const conjurEdition = spec.conjur.edition;
export const conjurAuthenticators = hub.authenticators;
export const conjurPolicy = hub.policy;
export const conversionPhase = spec.conversionPhase;
export const pendingSpokes = spec.spokes
  .filter((s) => !s.converted)
  .map((s) => ({ name: s.name, phase: s.phase }));
/** Per converted spoke: the Conjur URL its applications use (the local follower, or the hub in oss). */
export const spokeConjurUrls = Object.fromEntries(
  spokes.map((s, i) => [convertedSpokes(spec)[i].name, s.conjurUrl]),
);
const heldByLeader = "held by the Conjur Enterprise Leader, not this stack";
export const dataKey = conjurSecrets ? pulumi.secret(conjurSecrets.dataKey) : heldByLeader;
export const adminPassword = conjurSecrets ? pulumi.secret(conjurSecrets.adminPassword) : heldByLeader;
/** Per converted spoke: where to check its follower, and the URL the hub federates its metrics from. */
export const federation = pulumi.output(
  Object.fromEntries(
    spokes.map((s, i) => [
      convertedSpokes(spec)[i].name,
      {
        ...(s.followerHealthUrl ? { followerHealth: s.followerHealthUrl } : {}),
        federationTarget: spokeObservability[i].federationTarget,
      },
    ]),
  ),
);
export const hubPrometheusUrl = hubObservability.prometheusUrl;
export const logSinkEndpoint = hubObservability.logSinkEndpoint;

/** Where the hub's backups go and how its hostname fails over (null where the stack has none). */
export const disasterRecovery = pulumi.output({
  backupBucket: hubBackup?.bucketName ?? null,
  backupKmsKeyArn: hubBackup?.kmsKeyArn ?? null,
  escrowSecretArn: hubBackup?.escrowSecretArn ?? null,
  failoverHealthCheckId: hubFailover?.healthCheckId ?? null,
});
/**
 * Everything a restore needs besides the backup object, from Pulumi state alone
 * (`pulumi stack output recoveryKit --show-secrets`; docs/disaster-recovery.md#data-key-rules).
 */
export const recoveryKit = pulumi.secret({
  conjurAccount: spec.conjurAccount,
  dataKey: conjurSecrets ? conjurSecrets.dataKey : heldByLeader,
  backupPassphrase: hubBackup?.backupPassphrase ?? null,
  caCertPem: pki.rootCa.certPem,
  caKeyPem: pki.rootCa.keyPem,
});
