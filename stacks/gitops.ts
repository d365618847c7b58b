// GitOps settings of the stack spec: the Argo CD registration of converted spokes, resolved from
// `hubspoke:gitops` and each spoke's `argocd` key, and the cross-field rules that need the clusters
// (how Argo CD authenticates to a spoke depends on where that spoke runs). Pure.
import type { ArgoCdConfig, ClusterConfig } from "./schema";
import type { ConfigError } from "./errors";
import { isRecord, list, Raw, record, str } from "./rules";

export interface ArgoCdSpec {
  /** Namespace of the Argo CD installation on the hub (cluster Secrets, AppProject, ApplicationSet). */
  readonly namespace: string;
  /** `tenants`: the spoke's tenant namespaces only; `all-namespaces`: any but Kubernetes' and the stack's. */
  readonly access: "tenants" | "all-namespaces";
  readonly repoURL: string;
  readonly targetRevision: string;
  /** Directory of the repository holding one subdirectory per spoke. */
  readonly path: string;
}

/** How Argo CD authenticates to one spoke (docs/gitops.md "What is registered"). */
export type ArgoCdCredentials =
  | { readonly kind: "aws"; readonly clusterName: string; readonly region: string; readonly roleArn: string }
  | { readonly kind: "service-account" };

/** Whether the raw config turns the Argo CD registration on. */
function argocdEnabled(config: Raw): boolean {
  return record(record(config["gitops"])["argocd"])["enabled"] === true;
}

/**
 * With the registration on: the Argo CD namespace and repository are given, and every spoke's
 * credentials fit exactly one form (an EKS spoke names the role for `awsAuthConfig`; any other
 * spoke gets a ServiceAccount token, so a role there is a mistake).
 */
export function gitopsRuleErrors(config: Raw): ConfigError[] {
  const errors: ConfigError[] = [];
  const argocd = record(record(config["gitops"])["argocd"]);
  const enabled = argocdEnabled(config);
  if (enabled && argocd["namespace"] === undefined)
    errors.push({
      path: "gitops.argocd.namespace",
      message:
        "required when gitops.argocd.enabled is true: the namespace Argo CD runs in on the hub (the stack does not install Argo CD)",
    });
  if (enabled && argocd["repoURL"] === undefined)
    errors.push({
      path: "gitops.argocd.repoURL",
      message:
        "required when gitops.argocd.enabled is true: the Git repository the ApplicationSet deploys from",
    });
  const clusters = record(config["clusters"]);
  list(config["spokes"]).forEach((s, i) => {
    const spoke = record(s);
    const roleArn = record(spoke["argocd"])["roleArn"];
    const clusterName = str(spoke["cluster"]);
    const cluster = clusterName !== undefined ? clusters[clusterName] : undefined;
    if (!isRecord(cluster)) return; // reported by the cluster reference check
    const eks = cluster["eks"] !== undefined;
    if (enabled && eks && roleArn === undefined)
      errors.push({
        path: `spokes[${i}].argocd.roleArn`,
        message: `required for a spoke on EKS (cluster "${clusterName}"): Argo CD reaches it with awsAuthConfig, assuming this IAM role`,
      });
    if (!eks && roleArn !== undefined)
      errors.push({
        path: `spokes[${i}].argocd.roleArn`,
        message: `cluster "${clusterName}" is not on EKS: Argo CD reaches it with a ServiceAccount token and the cluster's CA, so remove the role`,
      });
  });
  return errors;
}

/** The registration settings, or undefined when the registration is off. */
export function resolveArgoCd(config: ArgoCdConfig | undefined): ArgoCdSpec | undefined {
  if (!config?.enabled || !config.namespace || !config.repoURL) return undefined;
  return {
    namespace: config.namespace,
    access: config.access,
    repoURL: config.repoURL,
    targetRevision: config.targetRevision,
    path: config.path,
  };
}

/** How Argo CD reaches a spoke on this cluster. */
export function argocdCredentials(cluster: ClusterConfig, roleArn: string | undefined): ArgoCdCredentials {
  if (cluster.eks && roleArn)
    return { kind: "aws", clusterName: cluster.eks.name, region: cluster.eks.region, roleArn };
  return { kind: "service-account" };
}
