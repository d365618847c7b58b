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
      metadata: meta("conjur-admin", "conjur"),
      type: "Opaque",
      stringData: { password: requireSecretConfig(leader.adminPasswordSecret) },
    },
    nsOpts,
  );
  const ca = new k8s.core.v1.ConfigMap(
    `${name}-leader-ca`,
    { metadata: meta("conjur-leader-ca", "conjur"), data: { "ca.crt": leader.caCertificate } },
    nsOpts,
  );
  return {
    serverUrl: leader.url,
    serverCaVolume: { name: "ca", configMap: { name: ca.metadata.name } },
    adminSecretName: admin.metadata.name,
    serverPeers: ipBlocks(leader.cidrs.length ? leader.cidrs : ["0.0.0.0/0"]),
    serverPort: HTTPS_PORT,
    dependsOn: [],
    enableThroughApi: true,
  };
}
