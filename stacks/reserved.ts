// Names the stack claims for itself on every cluster, which user config may not take. They live here,
// at the lowest floor, because the spec validates against them; components/naming.ts re-exports them.

export const CONJUR_NAMESPACE = "conjur-system";
/**
 * The stack's own shared namespaces carry the project prefix: plain `monitoring` and `logging` are
 * what kube-prometheus-stack, Loki or fluentd installs already use on most clusters, and a stack
 * that claimed them would label, isolate and (on destroy) delete someone else's namespace.
 * `conjur-system` keeps its name: it is part of the Conjur contract (the follower's host id
 * `conjur-system/service_account/conjur-follower`, its certificate names, applications' URLs), and
 * the preflight reports a cluster where it already exists (docs/conversion.md).
 */
export const MONITORING_NAMESPACE = "hubspoke-monitoring";
export const LOGGING_NAMESPACE = "hubspoke-logging";
/** On spokes not on EKS: Argo CD's ServiceAccount and its token (docs/gitops.md). */
export const GITOPS_NAMESPACE = "hubspoke-gitops";

/** Namespaces a tenant may not claim: Kubernetes' own and the ones this stack manages. */
export const RESERVED_NAMESPACES: readonly string[] = [
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  CONJUR_NAMESPACE,
  MONITORING_NAMESPACE,
  LOGGING_NAMESPACE,
  GITOPS_NAMESPACE,
];

/** Prefix of every object the stack creates in a namespace it does not own (tenants). */
export const OBJECT_PREFIX = "hubspoke-";

/** The hub's own authenticator id (authn-k8s/hub); a spoke may not take it as its name. */
export const HUB_AUTHENTICATOR_ID = "hub";
