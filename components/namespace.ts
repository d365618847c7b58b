// The resource shell every component repeats: a namespace this stack owns, the options that make
// its objects wait for it, their metadata, and their NetworkPolicies.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { authenticatorRbacRules, namespacedMeta, PodSecurityLevel, podSecurityLabels } from "./kube";
import { LABEL_PART_OF, PART_OF, workloadLabels } from "./naming";

export type ObjectMeta = ReturnType<ReturnType<typeof namespacedMeta>>;

/** Creates NetworkPolicies named `<resourcePrefix>-<suffix>` with the given metadata and options. */
export function networkPolicyFactory(
  resourcePrefix: string,
  meta: (objectName: string, component: string) => k8s.types.input.meta.v1.ObjectMeta,
  opts: pulumi.CustomResourceOptions,
) {
  return (suffix: string, objectName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
    new k8s.networking.v1.NetworkPolicy(
      `${resourcePrefix}-${suffix}`,
      { metadata: meta(objectName, "network"), spec },
      opts,
    );
}

export interface ManagedNamespaceArgs {
  readonly name: string;
  readonly podSecurity: PodSecurityLevel;
  readonly annotations?: Record<string, string>;
}

export interface ManagedNamespace {
  readonly resource: k8s.core.v1.Namespace;
  /** Options for objects in the namespace: the caller's, plus waiting for the namespace. */
  readonly opts: pulumi.CustomResourceOptions;
  readonly meta: (objectName: string, component: string) => ObjectMeta;
}

/** A namespace the stack creates, labelled with its Pod Security level and as part of hubspoke. */
export function managedNamespace(
  resourceName: string,
  args: ManagedNamespaceArgs,
  opts: pulumi.CustomResourceOptions,
): ManagedNamespace {
  const resource = new k8s.core.v1.Namespace(
    resourceName,
    {
      metadata: {
        name: args.name,
        labels: { ...podSecurityLabels(args.podSecurity), [LABEL_PART_OF]: PART_OF },
        ...(args.annotations ? { annotations: args.annotations } : {}),
      },
    },
    opts,
  );
  return { resource, opts: { ...opts, dependsOn: [resource] }, meta: namespacedMeta(args.name) };
}

/**
 * The ClusterRole holding exactly what authn-k8s needs to check a cluster's pods (read, and exec to
 * inject the client certificate), `hubspoke-conjur-authenticator`; bound where the server needs it.
 */
export function authenticatorClusterRole(resourceName: string, opts: pulumi.CustomResourceOptions) {
  return new k8s.rbac.v1.ClusterRole(
    resourceName,
    {
      metadata: {
        name: "hubspoke-conjur-authenticator",
        labels: workloadLabels("conjur-authenticator", "rbac"),
      },
      rules: authenticatorRbacRules(),
    },
    opts,
  );
}
