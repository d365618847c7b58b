// A shard stack's own parts (docs/sharding.md): what it reads from the hub stack, and what it owns on
// the hub cluster for its spokes.
export { readHubStack, HubReference, ShardTrust, SHARD_TRUST_OUTPUT } from "./hub-reference";
export { ShardHubObjects } from "./hub-objects";
