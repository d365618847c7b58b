// Entry point: validate the stack config into one StackSpec, connect to each cluster in use,
// generate the estate's trust material and secrets, convert each spoke whose phase has been
// reached, then build the hub with every converted spoke wired into it.
import * as pulumi from "@pulumi/pulumi";
import { loadStackSpec } from "./stacks/load";
import { convertedSpokes } from "./stacks/spec";
import { ClusterConnection, createClusterConnections } from "./components/clusters";
import { EstatePki } from "./components/pki";
import { ConjurHub, ConjurSecrets } from "./components/hub";
import { ConjurSpoke } from "./components/spoke";

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
