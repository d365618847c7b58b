// Test program: the real stack plus a ClusterAudit on every cluster it manages, as index.ts wires it
// (there through each cluster's own provider; here through a second provider with the same
// clusterIdentifier, since the program does not export its providers).
import * as k8s from "@pulumi/kubernetes";
import { ClusterAudit } from "../../../components/audit";
import { clustersInUse } from "../../../components/clusters/providers";
import { loadStackSpec } from "../../../stacks/load";

export * from "../../../index";

for (const cluster of clustersInUse(loadStackSpec())) {
  const provider = new k8s.Provider(`audit-${cluster}`, { context: cluster, clusterIdentifier: cluster });
  new ClusterAudit(`audit-${cluster}`, { provider });
}
