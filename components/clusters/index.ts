// Cluster access: one explicit provider per cluster in use.
export {
  AwsProviders,
  ClusterConnection,
  clustersInUse,
  createAwsProviders,
  createClusterConnections,
  providerResourceName,
} from "./providers";
