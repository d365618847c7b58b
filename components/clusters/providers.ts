// One explicit Kubernetes provider per cluster the stack touches, from a kubeconfig context, a
// secret kubeconfig, or an EKS cluster. `clusterIdentifier` is the cluster's name in the spec, so a
// rotated credential or a refreshed EKS token never replaces the provider and everything on it.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { getClusterOutput } from "@pulumi/aws/eks/getCluster";
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import { ClusterConfig } from "../../stacks/schema";
import { StackSpec } from "../../stacks/spec";
import { requireSecretConfig } from "../../stacks/load";
import { buildEksKubeconfig } from "./kubeconfig";

export interface ClusterConnection {
  /** The cluster's key in the spec (`clusters.<name>`). */
  readonly name: string;
  readonly provider: k8s.Provider;
  /** API server URL as the hub's Conjur must reach it (from the spec, or discovered for EKS). */
  readonly apiServer: pulumi.Output<string> | undefined;
  /** EKS only: the cluster's CA (base64 PEM, as EKS reports it) and the AWS provider of its region. */
  readonly eks?: { readonly caData: pulumi.Output<string>; readonly awsProvider: AwsProvider };
  /** The cluster's service-account token issuer, when the cloud publishes it (EKS: its OIDC issuer). */
  readonly oidcIssuer?: pulumi.Output<string>;
}

/** Pulumi resource name of a cluster's provider; the plan maps provider references back through it. */
export function providerResourceName(cluster: string): string {
  return `k8s-${cluster}`;
}

/** Clusters that get a provider: the hub's, and those of spokes whose phase has been reached. */
export function clustersInUse(spec: StackSpec): string[] {
  return [spec.hub.cluster, ...spec.spokes.filter((s) => s.converted).map((s) => s.cluster)];
}

/**
 * How every provider treats objects that already exist, pinned so that no environment variable can
 * change it (pulumi-kubernetes 4.34 `provider.d.ts`: a provider argument takes precedence over
 * `PULUMI_K8S_UPSERT_EXISTING_OBJECTS` and `PULUMI_K8S_ENABLE_PATCH_FORCE`):
 * - creating an object that exists fails with AlreadyExists instead of silently taking it over (and
 *   deleting it on destroy);
 * - server-side apply stays on: the tenant namespaces are adopted with NamespacePatch, which needs it;
 * - patches never force: a label another manager set to another value is a conflict the apply
 *   reports (the preflight lists it as `label-conflict`), never an overwrite.
 */
export const EXISTING_OBJECT_HANDLING = {
  upsertExistingObjects: false,
  enableServerSideApply: true,
  enablePatchForce: false,
} as const satisfies k8s.ProviderArgs;

/** An AWS provider for a region, made on first use and shared by everything in that region. */
export type AwsProviders = (region: string) => AwsProvider;

export function createAwsProviders(): AwsProviders {
  const awsProviders = new Map<string, AwsProvider>();
  return (region: string) => {
    let provider = awsProviders.get(region);
    if (!provider) {
      provider = new AwsProvider(`aws-${region}`, { region });
      awsProviders.set(region, provider);
    }
    return provider;
  };
}

export function createClusterConnections(
  spec: StackSpec,
  awsProvider: AwsProviders = createAwsProviders(),
): Map<string, ClusterConnection> {
  const connections = new Map<string, ClusterConnection>();
  for (const name of clustersInUse(spec)) {
    const cluster = spec.clusters[name];
    connections.set(name, connect(name, cluster, spec.renderYamlToDirectory, awsProvider));
  }
  return connections;
}

function connect(
  name: string,
  cluster: ClusterConfig,
  renderDir: string | undefined,
  awsProvider: (region: string) => AwsProvider,
): ClusterConnection {
  const common: k8s.ProviderArgs = {
    clusterIdentifier: name,
    ...EXISTING_OBJECT_HANDLING,
    ...(renderDir ? { renderYamlToDirectory: `${renderDir}/${name}` } : {}),
  };
  let args: k8s.ProviderArgs;
  let eksAccess: ClusterConnection["eks"];
  let oidcIssuer: pulumi.Output<string> | undefined;
  let apiServer: pulumi.Output<string> | undefined = cluster.apiServer
    ? pulumi.output(cluster.apiServer)
    : undefined;
  if (cluster.eks) {
    const eks = cluster.eks;
    const found = getClusterOutput(
      { name: eks.name, region: eks.region },
      { provider: awsProvider(eks.region) },
    );
    apiServer = found.endpoint;
    eksAccess = {
      caData: found.certificateAuthorities.apply((cas) => cas[0]?.data ?? ""),
      awsProvider: awsProvider(eks.region),
    };
    oidcIssuer = found.identities.apply((ids) => ids[0]?.oidcs[0]?.issuer ?? "");
    const kubeconfig = pulumi.all([found.endpoint, found.certificateAuthorities]).apply(([endpoint, cas]) =>
      buildEksKubeconfig({
        clusterName: eks.name,
        region: eks.region,
        endpoint,
        caData: cas[0]?.data ?? "",
        ...(eks.roleArn ? { roleArn: eks.roleArn } : {}),
        ...(eks.profile ? { profile: eks.profile } : {}),
      }),
    );
    args = { ...common, kubeconfig };
  } else if (cluster.kubeconfigSecret) {
    args = { ...common, kubeconfig: requireSecretConfig(cluster.kubeconfigSecret) };
  } else {
    args = { ...common, context: cluster.context };
  }
  return {
    name,
    provider: new k8s.Provider(providerResourceName(name), args),
    apiServer,
    ...(eksAccess ? { eks: eksAccess } : {}),
    ...(oidcIssuer ? { oidcIssuer } : {}),
  };
}
