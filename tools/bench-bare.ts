// The benchmark's baseline: a bare program registering HUBSPOKE_BENCH_COUNT plain resources (one
// provider and ConfigMaps) under the same mocks, so the ratio isolates this program's own cost.
import * as k8s from "@pulumi/kubernetes";

const count = Number(process.env["HUBSPOKE_BENCH_COUNT"] ?? "0");
const provider = new k8s.Provider("bare", { context: "bare", clusterIdentifier: "bare" });
for (let i = 1; i < count; i++) {
  new k8s.core.v1.ConfigMap(
    `bare-${i}`,
    { metadata: { name: `bare-${i}`, namespace: "default" }, data: { i: String(i) } },
    { provider },
  );
}
