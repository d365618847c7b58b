// ConjurHub: the Conjur side of the management cluster, per edition (docs/architecture.md, "Conjur
// topology"), as a short list of named steps: the namespace, the Conjur server's side (the Open
// Source primary in primary.ts, or what managing an external Enterprise Leader needs in leader.ts),
// and the policy load that serves both (policy-load.ts).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { conjurServerInHub, leaderInHub, StackSpec } from "../../stacks/spec";
import { EstatePki } from "../pki";
import { conjurAuthenticators, enabledAuthenticators } from "../conjur/ids";
import { jwtServerUrl } from "../conjur/cluster-jwt";
import { estatePolicyDocuments, renderPolicy } from "../conjur/policy";
import type { SpokeJwtAuthenticator } from "../spoke/spoke";
import { managedNamespace, networkPolicyFactory } from "../namespace";
import { defaultDenySpec } from "../kube";
import { CONJUR_NAMESPACE, HUB_AUTHENTICATOR_ID, PRIMARY_SERVICE } from "../naming";
import type { HubContext } from "./context";
import { externalLeader } from "./leader";
import { hubLeader } from "./hub-leader";
import { conjurPolicyLoad, jwtOf, spokeLoadUnits } from "./policy-load";
import { openSourcePrimary } from "./primary";
import { ConjurSecrets } from "./secrets";

export interface ConjurHubArgs {
  /** The validated stack spec. */
  readonly spec: StackSpec;
  /** Provider of the hub cluster. */
  readonly provider: k8s.Provider;
  /** The estate's certificates. */
  readonly pki: EstatePki;
  /** Open Source only: the data key and passwords the stack generates. */
  readonly secrets?: ConjurSecrets;
  /** One authn-jwt authenticator per converted spoke. */
  readonly spokeJwt: readonly SpokeJwtAuthenticator[];
}

export class ConjurHub extends pulumi.ComponentResource {
  /** The URL spokes' tokens and followers reach: the hub's primary (oss) or the Leader. */
  public readonly url: pulumi.Output<string>;
  /** Authenticators the estate's Conjur server enables. */
  public readonly authenticators: pulumi.Output<string>;
  /** The policy documents loaded into root, in load order (the base, then one per spoke), as YAML documents. */
  public readonly policy: pulumi.Output<string>;
  public readonly namespace: pulumi.Output<string>;
  /** The primary's Service (oss only: with Enterprise no Conjur server runs in the hub). */
  public readonly primaryServiceName?: pulumi.Output<string>;

  constructor(name: string, args: ConjurHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:hub:ConjurHub", name, {}, opts);
    const { spec } = args;
    const k8sOpts = { parent: this, provider: args.provider };
    const converted = spec.spokes.filter((s) => s.converted);
    const inHub = conjurServerInHub(spec);
    const jwtIds = converted.map((s) => s.name);
    const enabled = enabledAuthenticators(inHub ? [HUB_AUTHENTICATOR_ID] : [], jwtIds);
    const documents = estatePolicyDocuments({
      edition: spec.conjur.edition,
      hubAuthenticator: inHub,
      spokes: converted.map((s) => ({
        name: s.name,
        tenants: s.tenants,
        jwtKeys: jwtOf(args.spokeJwt, s.name).keys,
      })),
    });

    const {
      resource: namespace,
      opts: nsOpts,
      meta,
    } = managedNamespace(
      `${name}-namespace`,
      // An in-hub Leader's appliance runs as root with AUDIT_WRITE: baseline is the strictest level it meets.
      { name: CONJUR_NAMESPACE, podSecurity: leaderInHub(spec) ? "baseline" : "restricted" },
      k8sOpts,
    );
    new k8s.core.v1.ServiceAccount(
      `${name}-jobs-sa`,
      { metadata: meta("conjur-jobs", "identity"), automountServiceAccountToken: false },
      nsOpts,
    );
    const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
    netpol("default-deny", "default-deny", defaultDenySpec());
    const conjur = spec.conjur;
    const ctx: HubContext = { name, meta, nsOpts, clusterOpts: k8sOpts };
    const server =
      conjur.edition === "oss"
        ? openSourcePrimary(ctx, {
            spec,
            pki: args.pki,
            secrets: this.generated(args),
            authenticators: conjurAuthenticators(enabled),
          })
        : conjur.leader.placement === "hub"
          ? hubLeader(ctx, { spec, leader: conjur.leader, pki: args.pki, image: this.applianceImage(spec) })
          : externalLeader(ctx, conjur.leader);
    const baseText = renderPolicy(documents.base);
    const spokeUnits = spokeLoadUnits(spec, documents.spokes, args.pki, args.spokeJwt);
    conjurPolicyLoad(
      name,
      {
        account: spec.conjurAccount,
        curlImage: spec.images.curl,
        ...server,
        audience: jwtServerUrl(spec),
        // The hub's own authenticator (oss); in enterprise each spoke's follower serves
        // authn-k8s/<spoke> with the CA the Leader holds and replicates to it.
        base: {
          policyText: baseText,
          authnK8s: inHub
            ? [{ id: HUB_AUTHENTICATOR_ID, ca: args.pki.authenticatorCa(HUB_AUTHENTICATOR_ID) }]
            : [],
        },
        spokes: spokeUnits,
      },
      meta,
      { ...nsOpts, dependsOn: [namespace] },
    );

    this.url = pulumi.output(jwtServerUrl(spec));
    this.authenticators = pulumi.output(conjurAuthenticators(enabled));
    this.policy = pulumi.output([baseText, ...spokeUnits.map((s) => s.policyText)].join("---\n"));
    this.namespace = namespace.metadata.name;
    if (inHub) this.primaryServiceName = pulumi.output(PRIMARY_SERVICE);
    this.registerOutputs({ url: this.url, authenticators: this.authenticators, policy: this.policy });
  }

  private generated(args: ConjurHubArgs): ConjurSecrets {
    if (!args.secrets) throw new Error("internal: the Open Source hub needs its generated secrets");
    return args.secrets;
  }

  private applianceImage(spec: StackSpec): string {
    if (!spec.images.appliance) throw new Error("internal: an in-hub Leader without the appliance image");
    return spec.images.appliance;
  }
}
