// Names the stack claims for itself on every cluster, which user config may not take. They live here,
// at the lowest floor, because the spec validates against them; components/naming.ts re-exports them.

export const CONJUR_NAMESPACE = "conjur-system";
export const MONITORING_NAMESPACE = "monitoring";
export const LOGGING_NAMESPACE = "logging";

/** Namespaces a tenant may not claim: Kubernetes' own and the ones this stack manages. */
export const RESERVED_NAMESPACES: readonly string[] = [
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  CONJUR_NAMESPACE,
  MONITORING_NAMESPACE,
  LOGGING_NAMESPACE,
];

/** The hub's own authenticator id (authn-k8s/hub); a spoke may not take it as its name. */
export const HUB_AUTHENTICATOR_ID = "hub";
