// Cluster access: one explicit provider per cluster in use.
export {
  ClusterConnection,
  clustersInUse,
  createClusterConnections,
  providerResourceName,
} from "./providers";
