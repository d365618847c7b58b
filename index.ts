// Entry point: validate the stack config into one StackSpec, connect to each cluster in use,
// generate the estate's trust material and secrets, convert each spoke whose phase has been
// reached, then build the hub with every converted spoke wired into it, and the monitoring and
// log flow from every converted spoke to the hub.
import * as pulumi from "@pulumi/pulumi";
import { loadStackSpec } from "./stacks/load";
import { convertedSpokes } from "./stacks/spec";
import { ClusterConnection, createClusterConnections } from "./components/clusters";
import { EstatePki } from "./components/pki";
import { ConjurHub, ConjurSecrets } from "./components/hub";
import { ConjurSpoke } from "./components/spoke";
import { HubObservability, ObservabilitySecrets, SpokeObservability } from "./components/observability";
import { ClusterAudit } from "./components/audit";
import { ArgoCdRegistration, ArgoCdSpokeAccess } from "./components/gitops";
import { ExternalSecretsSync } from "./components/eso";
import { primaryUrl } from "./components/conjur/ids";

// Throws one error listing every config problem before any resource is registered.
const spec = loadStackSpec();

const clusters = createClusterConnections(spec);
const connection = (name: string): ClusterConnection => {
  const found = clusters.get(name);
  if (!found) throw new Error(`internal: no provider for cluster ${name}`);
  return found;
};

const pki = new EstatePki("pki", { spec });
const conjurSecrets = new ConjurSecrets("conjur", { protectDataKey: spec.protectIrreplaceable });

const spokes = convertedSpokes(spec).map((spoke) => {
  const cluster = connection(spoke.cluster);
  const trust = pki.spokes.get(spoke.name);
  if (!trust || !cluster.apiServer)
    throw new Error(`internal: spoke ${spoke.name} lacks trust material or an API URL`);
  return new ConjurSpoke(`spoke-${spoke.name}`, {
    spec,
    spoke,
    provider: cluster.provider,
    trust,
    caCertPem: pki.caCertPem,
    dataKey: conjurSecrets.dataKey,
    apiServer: cluster.apiServer,
  });
});

const hub = new ConjurHub("hub", {
  spec,
  provider: connection(spec.hub.cluster).provider,
  pki,
  secrets: conjurSecrets,
  spokeAccess: spokes.map((s) => s.hubAccess),
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

// ---- External Secrets: SecretStores and ExternalSecrets in each opted-in tenant namespace ----
// The spoke's Conjur endpoint for ESO: today the hub's primary (authn-jwt/<spoke> is served there).
const esoEndpoint = pulumi
  .output(pki.caCertPem)
  .apply((caPem) => ({ url: primaryUrl(spec.hub.advertisedHostname), caPem }));
convertedSpokes(spec).forEach((spoke, i) => {
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
for (const cluster of clusters.values()) {
  new ClusterAudit(`audit-${cluster.name}`, { provider: cluster.provider }, { dependsOn: [hub, ...spokes] });
}

export const environment = spec.environment;
export const hubUrl = hub.url;
export const caCertificate = pki.caCertPem;
export const authenticatorIds = hub.authenticatorIds;
export const conjurAuthenticators = hub.authenticators;
export const conjurPolicy = hub.policy;
export const conversionPhase = spec.conversionPhase;
export const pendingSpokes = spec.spokes
  .filter((s) => !s.converted)
  .map((s) => ({ name: s.name, phase: s.phase }));
export const followers = Object.fromEntries(
  spokes.map((s, i) => [convertedSpokes(spec)[i].name, { url: s.followerUrl, health: s.followerHealthUrl }]),
);
export const dataKey = pulumi.secret(conjurSecrets.dataKey);
export const adminPassword = pulumi.secret(conjurSecrets.adminPassword);
/** Per converted spoke: where to check its follower, and the URL the hub federates its metrics from. */
export const federation = pulumi.output(
  Object.fromEntries(
    spokes.map((s, i) => [
      convertedSpokes(spec)[i].name,
      { followerHealth: s.followerHealthUrl, federationTarget: spokeObservability[i].federationTarget },
    ]),
  ),
);
export const hubPrometheusUrl = hubObservability.prometheusUrl;
export const logSinkEndpoint = hubObservability.logSinkEndpoint;
