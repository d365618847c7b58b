// Entry point: validate the stack config into one StackSpec, connect to each cluster in use,
// generate the estate's trust material and secrets, convert each spoke whose phase has been
// reached, then build the hub with every converted spoke wired into it, and the monitoring and
// log flow from every converted spoke to the hub. A shard stack of a sharded layout
// (docs/sharding.md) builds the spokes' side only, with what it reads from its hub stack.
import * as pulumi from "@pulumi/pulumi";
import { loadStackSpec } from "./stacks/load";
import { convertedSpokes } from "./stacks/spec";
import { ClusterConnection, createAwsProviders, createClusterConnections } from "./components/clusters";
import { EstatePki, ShardPki, SpokePki } from "./components/pki";
import { ConjurHub, ConjurSecrets } from "./components/hub";
import { ConjurSpoke } from "./components/spoke";
import { HubObservability, ObservabilitySecrets, SpokeObservability } from "./components/observability";
import { ClusterAudit } from "./components/audit";
import { ArgoCdRegistration, ArgoCdSpokeAccess } from "./components/gitops";
import { esoConjurEndpoint, ExternalSecretsSync } from "./components/eso";
import { HubBackup, HubFailover } from "./components/dr";
import { readHubStack, ShardHubObjects, ShardTrust } from "./components/shard";
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

/** Each converted spoke's Conjur side: its follower (enterprise) or its access to the hub (oss). */
function conjurSpokes(pki: SpokePki): ConjurSpoke[] {
  return convertedSpokes(spec).map((spoke) => {
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
}

/** A Prometheus and a Fluent Bit per converted spoke, federated into and forwarding to the hub. */
function spokesObservability(pki: SpokePki, forwardSharedKey: pulumi.Output<string>): SpokeObservability[] {
  return convertedSpokes(spec).map(
    (spoke) =>
      new SpokeObservability(`observability-${spoke.name}`, {
        spec,
        spoke,
        provider: connection(spoke.cluster).provider,
        pki,
        forwardSharedKey,
      }),
  );
}

/** SecretStores and ExternalSecrets in each opted-in tenant namespace, against the spoke's local Conjur. */
function externalSecrets(pki: SpokePki, spokes: readonly ConjurSpoke[]): void {
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
}

/**
 * The API server audit policy, shipped to every cluster this stack manages (a shard leaves the
 * hub's to the hub stack). Each waits only for the component that creates conjur-system on its
 * cluster (linear, not n²).
 */
function clusterAudit(owners: ReadonlyMap<string, pulumi.Resource>, skip: readonly string[] = []): void {
  for (const cluster of clusters.values()) {
    if (skip.includes(cluster.name)) continue;
    const owner = owners.get(cluster.name);
    new ClusterAudit(
      `audit-${cluster.name}`,
      { provider: cluster.provider },
      { dependsOn: owner ? [owner] : [] },
    );
  }
}

const spokeOwners = (spokes: readonly ConjurSpoke[]) =>
  convertedSpokes(spec).map((spoke, i): [string, pulumi.Resource] => [spoke.cluster, spokes[i]]);

/** Per converted spoke: where to check its follower, and the URL the hub federates its metrics from. */
function federationOutput(spokes: readonly ConjurSpoke[], observability: readonly SpokeObservability[]) {
  return pulumi.output(
    Object.fromEntries(
      spokes.map((s, i) => [
        convertedSpokes(spec)[i].name,
        {
          ...(s.followerHealthUrl ? { followerHealth: s.followerHealthUrl } : {}),
          federationTarget: observability[i].federationTarget,
        },
      ]),
    ),
  );
}

/** Per converted spoke: the Conjur URL its applications use (the local follower, or the hub in oss). */
const conjurUrlsOutput = (spokes: readonly ConjurSpoke[]) =>
  Object.fromEntries(spokes.map((s, i) => [convertedSpokes(spec)[i].name, s.conjurUrl]));

/** The whole estate (layout single), or the hub stack of a sharded layout (layout hub). */
function estateStack() {
  const pki = new EstatePki("pki", { spec });
  // Open Source only: with Enterprise the Leader holds its own data key and credentials.
  const conjurSecrets =
    spec.conjur.edition === "oss"
      ? new ConjurSecrets("conjur", { protectDataKey: spec.protectIrreplaceable })
      : undefined;

  const spokes = conjurSpokes(pki);
  const hub = new ConjurHub("hub", {
    spec,
    provider: connection(spec.hub.cluster).provider,
    pki,
    ...(conjurSecrets ? { secrets: conjurSecrets } : {}),
    spokeJwt: spokes.map((s) => s.jwt),
  });

  // ---- Observability: a Prometheus and a Fluent Bit per converted spoke, federated into the hub ----
  const observabilitySecrets = new ObservabilitySecrets("observability");
  const spokeObservability = spokesObservability(pki, observabilitySecrets.forwardSharedKey);
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

  externalSecrets(pki, spokes);
  gitops(spokes);
  clusterAudit(new Map<string, pulumi.Resource>([[spec.hub.cluster, hub], ...spokeOwners(spokes)]));

  const heldByLeader = "held by the Conjur Enterprise Leader, not this stack";
  return {
    hubUrl: hub.url,
    caCertificate: pki.caCertPem,
    conjurAuthenticators: hub.authenticators,
    conjurPolicy: hub.policy,
    spokeConjurUrls: conjurUrlsOutput(spokes),
    dataKey: conjurSecrets ? pulumi.secret(conjurSecrets.dataKey) : heldByLeader,
    adminPassword: conjurSecrets ? pulumi.secret(conjurSecrets.adminPassword) : heldByLeader,
    federation: federationOutput(spokes, spokeObservability),
    hubPrometheusUrl: hubObservability.prometheusUrl,
    logSinkEndpoint: hubObservability.logSinkEndpoint,
    disasterRecovery: pulumi.output({
      backupBucket: hubBackup?.bucketName ?? null,
      backupKmsKeyArn: hubBackup?.kmsKeyArn ?? null,
      escrowSecretArn: hubBackup?.escrowSecretArn ?? null,
      failoverHealthCheckId: hubFailover?.healthCheckId ?? null,
    }),
    recoveryKit: pulumi.secret({
      conjurAccount: spec.conjurAccount,
      dataKey: conjurSecrets ? conjurSecrets.dataKey : heldByLeader,
      backupPassphrase: hubBackup?.backupPassphrase ?? null,
      caCertPem: pki.rootCa.certPem,
      caKeyPem: pki.rootCa.keyPem,
    }),
    // What the shard stacks read (components/shard/hub-reference.ts); only a sharded hub exports it.
    shardTrust:
      spec.layout.role === "hub"
        ? pulumi.secret(
            pulumi
              .all([pki.rootCa.certPem, pki.rootCa.keyPem, observabilitySecrets.forwardSharedKey])
              .apply(([caCertPem, caKeyPem, forwardSharedKey]): ShardTrust => ({
                caCertPem,
                caKeyPem,
                forwardSharedKey,
              })),
          )
        : undefined,
  };
}

/** GitOps: every converted spoke registered with the Argo CD on the hub (when enabled). */
function gitops(spokes: readonly ConjurSpoke[]): void {
  const argocd = spec.argocd;
  if (!argocd) return;
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

/**
 * A shard of a sharded layout: its spokes, with certificates from the hub stack's root CA, and
 * their objects on the hub cluster (policy loads, federation Services). The hub's own parts, its
 * audit policy and disaster recovery stay with the hub stack.
 */
function shardStack(hubStack: string) {
  const hubReference = readHubStack(hubStack);
  const pki = new ShardPki("pki", { spec, rootCa: hubReference.rootCa });
  const spokes = conjurSpokes(pki);
  new ShardHubObjects("hub", {
    spec,
    provider: connection(spec.hub.cluster).provider,
    pki,
    spokeJwt: spokes.map((s) => s.jwt),
  });
  const spokeObservability = spokesObservability(pki, hubReference.forwardSharedKey);
  externalSecrets(pki, spokes);
  clusterAudit(new Map(spokeOwners(spokes)), [spec.hub.cluster]);
  return {
    caCertificate: pki.caCertPem,
    spokeConjurUrls: conjurUrlsOutput(spokes),
    federation: federationOutput(spokes, spokeObservability),
  };
}

const layout = spec.layout;
const stack: Partial<ReturnType<typeof estateStack>> =
  layout.role === "shard" ? shardStack(layout.hubStack) : estateStack();

// The stack outputs (`pulumi stack output`). A shard has no hub of its own, so it exports no hub
// URL, policy or recovery kit; only a sharded hub exports shardTrust. An output a layout does not
// have is left out rather than exported undefined, which Pulumi would warn about on every run.
//   hubUrl: the URL spokes' tokens and followers reach; caCertificate: the estate's root CA;
//   spokeConjurUrls: per converted spoke, the Conjur URL its applications use (the local follower,
//   or the hub in oss); federation: per converted spoke, where to check its follower and the URL the
//   hub federates its metrics from; disasterRecovery: where the hub's backups go and how its
//   hostname fails over (null where the stack has none); recoveryKit: everything a restore needs
//   besides the backup object, from Pulumi state alone (`pulumi stack output recoveryKit
//   --show-secrets`; docs/disaster-recovery.md#data-key-rules).
const outputs: Record<string, unknown> = {
  environment: spec.environment,
  hubUrl: stack.hubUrl,
  caCertificate: stack.caCertificate,
  conjurEdition: spec.conjur.edition,
  conjurAuthenticators: stack.conjurAuthenticators,
  conjurPolicy: stack.conjurPolicy,
  conversionPhase: spec.conversionPhase,
  pendingSpokes: spec.spokes.filter((s) => !s.converted).map((s) => ({ name: s.name, phase: s.phase })),
  spokeConjurUrls: stack.spokeConjurUrls,
  dataKey: stack.dataKey,
  adminPassword: stack.adminPassword,
  federation: stack.federation,
  hubPrometheusUrl: stack.hubPrometheusUrl,
  logSinkEndpoint: stack.logSinkEndpoint,
  disasterRecovery: stack.disasterRecovery,
  recoveryKit: stack.recoveryKit,
  shardTrust: stack.shardTrust,
};
for (const [name, value] of Object.entries(outputs)) {
  if (value !== undefined) (module.exports as Record<string, unknown>)[name] = value;
}
