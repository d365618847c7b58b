// Pure builders for the Argo CD registration of spokes: the declarative cluster Secret's labels and
// data, the AppProject that confines an environment's Applications to its spokes' tenant namespaces,
// and the ApplicationSet whose cluster generator targets the registered spokes. Plain values in,
// plain objects out. Shapes follow argoproj/argo-cd docs/operator-manual/declarative-setup.md
// ("Clusters", "Projects") and applicationset/Generators-Cluster.md, Application-Deletion.md.
import type { ArgoCdSpec } from "../../stacks/gitops";
import { OBJECT_PREFIX, PART_OF } from "../naming";
import { RESERVED_NAMESPACES } from "../../stacks/reserved";

/** The label that makes a Secret in Argo CD's namespace a cluster registration. */
export const ARGOCD_SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type";

/** Labels on each cluster Secret; the ApplicationSet selects on them, so they are a public contract. */
export const CLUSTER_LABELS = {
  environment: "hubspoke.io/environment",
  region: "hubspoke.io/region",
  spoke: "hubspoke.io/spoke",
  phase: "hubspoke.io/conversion-phase",
} as const;

export const ARGOCD_SERVICE_ACCOUNT = "hubspoke-argocd";
/** The Kubernetes group an EKS access entry maps Argo CD's IAM role to; RBAC binds this group. */
export const ARGOCD_EKS_GROUP = "hubspoke-argocd";
/**
 * Built-in ClusterRole Argo CD gets in each tenant namespace (or, with `all-namespaces`, cluster-wide):
 * namespaced workloads, no RBAC, no quota, nothing cluster-scoped. Never cluster-admin (policy pack
 * rule rbac-no-cluster-admin).
 */
export const ARGOCD_ROLE = "edit";

/** Resources an Application may not create in a tenant namespace: the stack's quota and limits own them. */
export const STACK_OWNED_NAMESPACED_KINDS = [
  { group: "", kind: "ResourceQuota" },
  { group: "", kind: "LimitRange" },
] as const;

export interface ArgoCdSpoke {
  readonly name: string;
  readonly region: string;
  readonly phase: number;
  /** The spoke's tenant namespaces: Argo CD's reach unless access is `cluster`. */
  readonly tenants: readonly string[];
}

export function clusterSecretName(spoke: string): string {
  return `${OBJECT_PREFIX}cluster-${spoke}`;
}

export function projectName(environment: string): string {
  return `${OBJECT_PREFIX}${environment}`;
}

export function applicationSetName(environment: string): string {
  return `${OBJECT_PREFIX}${environment}-spokes`;
}

/** Labels of one spoke's cluster Secret: the Argo CD type, then the facts the generator selects on. */
export function clusterSecretLabels(environment: string, spoke: ArgoCdSpoke): Record<string, string> {
  return {
    [ARGOCD_SECRET_TYPE_LABEL]: "cluster",
    [CLUSTER_LABELS.environment]: environment,
    [CLUSTER_LABELS.region]: spoke.region,
    [CLUSTER_LABELS.spoke]: spoke.name,
    [CLUSTER_LABELS.phase]: String(spoke.phase),
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** How Argo CD authenticates: a bearer token, or `awsAuthConfig` (EKS, an IAM role it assumes). */
export type ClusterAuth =
  | { readonly kind: "bearer-token"; readonly token: string }
  | { readonly kind: "aws"; readonly clusterName: string; readonly roleArn: string };

/**
 * The `config` JSON of a cluster Secret. `caData` is the cluster CA as base64 PEM; TLS is always
 * verified (no `insecure`).
 */
export function clusterConfigJson(auth: ClusterAuth, caDataBase64: string): string {
  const tlsClientConfig = { insecure: false, caData: caDataBase64 };
  const config =
    auth.kind === "aws"
      ? { awsAuthConfig: { clusterName: auth.clusterName, roleARN: auth.roleArn }, tlsClientConfig }
      : { bearerToken: auth.token, tlsClientConfig };
  return JSON.stringify(config);
}

/**
 * The string data of a cluster Secret. With `tenants` access the `namespaces` field limits Argo CD to
 * the tenant namespaces; either way cluster-scoped resources are ignored (`clusterResources` unset).
 */
export function clusterSecretData<T>(
  spoke: ArgoCdSpoke,
  access: ArgoCdSpec["access"],
  server: T,
  config: T,
): Record<string, T | string> {
  const data: Record<string, T | string> = { name: spoke.name, server, config };
  if (access === "tenants") data["namespaces"] = [...spoke.tenants].sort().join(",");
  return data;
}

export interface ProjectDestination {
  readonly server: string;
  readonly namespace: string;
}

/** Namespaces no Application may deploy to, even with `all-namespaces`: Kubernetes' own and the stack's. */
export const PROTECTED_NAMESPACES: readonly string[] = RESERVED_NAMESPACES;

/**
 * The AppProject's destinations: each registered spoke's tenant namespaces; with `all-namespaces`, any
 * namespace except the protected ones (`!` entries deny: argo-cd docs/user-guide/projects.md).
 */
export function projectDestinations(
  spokes: readonly { readonly spoke: ArgoCdSpoke; readonly server: string }[],
  access: ArgoCdSpec["access"],
): ProjectDestination[] {
  return spokes.flatMap(({ spoke, server }) =>
    access === "all-namespaces"
      ? [{ server, namespace: "*" }, ...PROTECTED_NAMESPACES.map((ns) => ({ server, namespace: `!${ns}` }))]
      : [...spoke.tenants].sort().map((namespace) => ({ server, namespace })),
  );
}

/** One AppProject per environment: its repository, its spokes' destinations, no cluster-scoped kind. */
export function appProjectSpec(
  environment: string,
  argocd: ArgoCdSpec,
  destinations: readonly ProjectDestination[],
) {
  return {
    description: `hubspoke ${environment}: tenant workloads on the converted spokes`,
    sourceRepos: [argocd.repoURL],
    destinations: destinations.map((d) => ({ server: d.server, namespace: d.namespace })),
    // No cluster-scoped kind: none listed, none allowed.
    clusterResourceWhitelist: [],
    namespaceResourceBlacklist: STACK_OWNED_NAMESPACED_KINDS.map((k) => ({ ...k })),
  };
}

/**
 * The ApplicationSet: a cluster generator selecting this environment's registered spokes (the
 * secret-type label also excludes Argo CD's in-cluster entry), one Application per spoke from
 * `<path>/<spoke>`. `preserveResourcesOnDeletion` keeps the finalizer off the Applications, so a
 * spoke whose registration is removed keeps its workloads.
 */
export function applicationSetSpec(environment: string, argocd: ArgoCdSpec) {
  return {
    goTemplate: true,
    goTemplateOptions: ["missingkey=error"],
    generators: [
      {
        clusters: {
          selector: {
            matchLabels: { [ARGOCD_SECRET_TYPE_LABEL]: "cluster", [CLUSTER_LABELS.environment]: environment },
          },
        },
      },
    ],
    syncPolicy: { preserveResourcesOnDeletion: true },
    template: {
      metadata: {
        name: `${OBJECT_PREFIX}{{.name}}`,
        labels: { [CLUSTER_LABELS.environment]: environment },
      },
      spec: {
        project: projectName(environment),
        source: {
          repoURL: argocd.repoURL,
          targetRevision: argocd.targetRevision,
          path: `${argocd.path}/{{.name}}`,
          directory: { recurse: true },
        },
        destination: { server: "{{.server}}" },
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
    },
  };
}
