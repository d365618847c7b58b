// ShardHubObjects: what a shard stack owns on the hub cluster for each of its spokes
// (docs/sharding.md): the spoke's policy load (its document, authn-jwt settings and authn-k8s CA,
// loaded into the Leader by a Job in the hub's conjur-system, as the hub stack loads its own spokes')
// and its federation Service, from which the hub Prometheus discovers it. The hub stack created the
// namespaces, the Jobs' ServiceAccount, the Leader's admin Secret and CA, and the NetworkPolicies
// that admit these objects' pods; converting or rolling back a shard touches only its own objects.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { convertedSpokes, StackSpec } from "../../stacks/spec";
import { estatePolicyDocuments } from "../conjur/policy";
import { jwtServerUrl } from "../conjur/cluster-jwt";
import { externalLeaderAccess } from "../hub/leader";
import { jwtOf, spokeLoadUnits, spokePolicyLoads } from "../hub/policy-load";
import { namespacedMeta } from "../kube";
import { CONJUR_NAMESPACE } from "../naming";
import { federationService } from "../observability/shards";
import type { SpokePki } from "../pki";
import type { SpokeJwtAuthenticator } from "../spoke/spoke";

export interface ShardHubObjectsArgs {
  readonly spec: StackSpec;
  /** Provider of the hub cluster. */
  readonly provider: k8s.Provider;
  readonly pki: SpokePki;
  /** One authn-jwt authenticator per converted spoke of the shard. */
  readonly spokeJwt: readonly SpokeJwtAuthenticator[];
}

export class ShardHubObjects extends pulumi.ComponentResource {
  constructor(name: string, args: ShardHubObjectsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:shard:ShardHubObjects", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };
    policyLoads(name, args, k8sOpts);
    federationServices(name, args.spec, k8sOpts);
    this.registerOutputs({});
  }
}

/** The shard's spokes' policy loads; the hub stack has loaded the base they build on. */
function policyLoads(name: string, args: ShardHubObjectsArgs, opts: pulumi.CustomResourceOptions): void {
  const { spec } = args;
  if (spec.conjur.edition !== "enterprise" || spec.conjur.leader.placement !== "external")
    throw new Error("internal: a shard needs Conjur Enterprise with an external Leader");
  const leader = spec.conjur.leader;
  const documents = estatePolicyDocuments({
    edition: spec.conjur.edition,
    hubAuthenticator: false,
    spokes: convertedSpokes(spec).map((s) => ({
      name: s.name,
      tenants: s.tenants,
      jwtKeys: jwtOf(args.spokeJwt, s.name).keys,
    })),
  });
  spokePolicyLoads(
    name,
    {
      account: spec.conjurAccount,
      curlImage: spec.images.curl,
      ...externalLeaderAccess(leader),
      audience: jwtServerUrl(spec),
      spokes: spokeLoadUnits(spec, documents.spokes, args.pki, args.spokeJwt),
    },
    namespacedMeta(CONJUR_NAMESPACE),
    opts,
    [],
  );
}

/** One ExternalName Service per spoke in the hub's monitoring namespace (observability/shards.ts). */
function federationServices(name: string, spec: StackSpec, opts: pulumi.CustomResourceOptions): void {
  for (const spoke of convertedSpokes(spec)) {
    const service = federationService({
      name: spoke.name,
      region: spoke.region,
      hostname: spoke.monitoring.hostname,
    });
    new k8s.core.v1.Service(`${name}-federate-${spoke.name}`, service, opts);
  }
}
