// Entry point: validate the stack config into one StackSpec, connect to each cluster in use,
// generate the estate's trust material and secrets, then build the hub.
import * as pulumi from "@pulumi/pulumi";
import { loadStackSpec } from "./stacks/load";
import { createClusterConnections } from "./components/clusters";
import { EstatePki } from "./components/pki";
import { ConjurHub, ConjurSecrets } from "./components/hub";

// Throws one error listing every config problem before any resource is registered.
const spec = loadStackSpec();

const clusters = createClusterConnections(spec);
const hubCluster = clusters.get(spec.hub.cluster);
if (!hubCluster) throw new Error(`internal: no provider for hub cluster ${spec.hub.cluster}`);

const pki = new EstatePki("pki", { spec });
const conjurSecrets = new ConjurSecrets("conjur", { protectDataKey: spec.protectIrreplaceable });

const hub = new ConjurHub("hub", {
  spec,
  provider: hubCluster.provider,
  pki,
  secrets: conjurSecrets,
  spokeAccess: [],
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
export const dataKey = pulumi.secret(conjurSecrets.dataKey);
export const adminPassword = pulumi.secret(conjurSecrets.adminPassword);
