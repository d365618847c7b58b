// The hub's side of a Conjur Enterprise Leader that runs outside Kubernetes (docs/architecture.md,
// "Conjur topology"): its CA and admin credential, for the policy load.
import * as k8s from "@pulumi/kubernetes";
import type { ExternalLeaderSpec } from "../../stacks/spec";
import { requireSecretConfig } from "../../stacks/load";
import { ipBlocks } from "../kube";
import { HTTPS_PORT } from "../naming";
import type { HubContext, ServerAccess } from "./context";

/**
 * Conjur Enterprise: the Leader runs outside Kubernetes. The hub keeps its CA (public) and the admin
 * password (from the secret config key) for the policy-load Job, which also enables each spoke's
 * authn-jwt authenticator on the Leader (the appliance takes its allow-list from its own
 * configuration or database, not from a pod's environment). Every spoke's own authn-k8s
 * authenticator is enabled on its follower (followers.ts), where it belongs.
 */
export function externalLeader(ctx: HubContext, leader: ExternalLeaderSpec): ServerAccess {
  const { name, meta, nsOpts } = ctx;
  const admin = new k8s.core.v1.Secret(
    `${name}-admin`,
    {
      metadata: meta(LEADER_OBJECTS.adminSecret, "conjur"),
      type: "Opaque",
      stringData: { password: requireSecretConfig(leader.adminPasswordSecret) },
    },
    nsOpts,
  );
  const ca = new k8s.core.v1.ConfigMap(
    `${name}-leader-ca`,
    { metadata: meta(LEADER_OBJECTS.caConfigMap, "conjur"), data: { "ca.crt": leader.caCertificate } },
    nsOpts,
  );
  // The same names as plain strings, but through the objects' outputs: the Jobs wait for them.
  return {
    ...externalLeaderAccess(leader),
    serverCaVolume: { name: "ca", configMap: { name: ca.metadata.name } },
    adminSecretName: admin.metadata.name,
  };
}

/** The hub's objects that hold the Leader's admin password and CA, in conjur-system. */
const LEADER_OBJECTS = { adminSecret: "conjur-admin", caConfigMap: "conjur-leader-ca" } as const;

/**
 * How a policy-load Job reaches the external Leader, through the objects `externalLeader` creates:
 * also what a shard stack's Jobs use, in the hub stack's conjur-system (docs/sharding.md).
 */
export function externalLeaderAccess(leader: ExternalLeaderSpec): ServerAccess {
  return {
    serverUrl: leader.url,
    serverCaVolume: { name: "ca", configMap: { name: LEADER_OBJECTS.caConfigMap } },
    adminSecretName: LEADER_OBJECTS.adminSecret,
    serverPeers: ipBlocks(leader.cidrs.length ? leader.cidrs : ["0.0.0.0/0"]),
    serverPort: HTTPS_PORT,
    dependsOn: [],
    enableThroughApi: true,
  };
}
