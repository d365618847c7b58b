// What a shard stack reads from its hub stack (docs/sharding.md): the estate's root CA, which issues
// the shard's spoke certificates, and the log forwarding's shared key. Both come from the hub
// stack's `shardTrust` output through `pulumi.StackReference`, and stay secret.
import * as pulumi from "@pulumi/pulumi";
import type { Authority } from "../pki";

/** The hub stack's output a shard reads; the hub exports it with layout.role hub. */
export const SHARD_TRUST_OUTPUT = "shardTrust";

/** The shape of `shardTrust`, as the hub stack exports it (index.ts). */
export interface ShardTrust {
  readonly caCertPem: string;
  readonly caKeyPem: string;
  readonly forwardSharedKey: string;
}

export interface HubReference {
  readonly rootCa: Authority;
  readonly forwardSharedKey: pulumi.Output<string>;
}

/** Reads the hub stack's `shardTrust` (secret), e.g. `acme/hubspoke/prod-hub`. */
export function readHubStack(hubStack: string): HubReference {
  const hub = new pulumi.StackReference(hubStack);
  const trust = hub.requireOutput(SHARD_TRUST_OUTPUT) as pulumi.Output<ShardTrust>;
  return {
    rootCa: {
      // The certificate is public, the key secret: StackReference marks the whole output secret.
      certPem: pulumi.unsecret(trust.apply((t) => t.caCertPem)),
      keyPem: pulumi.secret(trust.apply((t) => t.caKeyPem)),
    },
    forwardSharedKey: pulumi.secret(trust.apply((t) => t.forwardSharedKey)),
  };
}
