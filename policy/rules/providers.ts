// Explicit providers only: every Kubernetes resource names its cluster's provider, so nothing lands on
// the ambient kubeconfig through Pulumi's default provider.
import type { Rule } from "../types";

// Components the Node.js SDK implements in-process: they have no provider of their own and pass
// their `provider`/`providers` option down to the objects they create, which this rule does check.
const LOCAL_COMPONENT_TYPES = new Set([
  "kubernetes:yaml:ConfigFile",
  "kubernetes:yaml:ConfigGroup",
  "kubernetes:helm.sh/v2:Chart",
  "kubernetes:helm.sh/v3:Chart",
  "kubernetes:kustomize:Directory",
]);

/** Default provider URNs end in `::default` or `::default_<version>`. */
export function isDefaultProvider(providerReference: string): boolean {
  return providerReference.includes("::default_") || /::default(?:::|$)/.test(providerReference);
}

export const explicitProvider: Rule = {
  name: "explicit-provider",
  description:
    "Every Kubernetes resource is created with an explicit (non-default) provider for its cluster.",
  level: "mandatory",
  check: (resource) => {
    if (!resource.type.startsWith("kubernetes:") || LOCAL_COMPONENT_TYPES.has(resource.type)) return [];
    if (resource.provider === null || resource.provider === "") {
      return ["no provider given; pass the cluster's k8s.Provider explicitly"];
    }
    if (isDefaultProvider(resource.provider)) {
      return [`uses the default provider (${resource.provider}); pass the cluster's k8s.Provider explicitly`];
    }
    return [];
  },
};
