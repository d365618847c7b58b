// Test program (negative control for the secret-sentinel test): the real stack plus a generated
// password leaked three ways: still marked secret but in a ConfigMap, unmarked in another ConfigMap,
// and as a plain stack output.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as k8s from "@pulumi/kubernetes";
import { loadStackSpec } from "../../../stacks/load";

export * from "../../../index";

const hubCluster = loadStackSpec().hub.cluster;
const hub = new k8s.Provider("leaky-hub", { context: hubCluster, clusterIdentifier: hubCluster });
const password = new random.RandomPassword("leaky-password", { length: 24 });

// Separate objects: Pulumi marks a whole top-level input secret when any value inside it is.
new k8s.core.v1.ConfigMap(
  "leaky-marked",
  { metadata: { name: "leaky-marked", namespace: "conjur-system" }, data: { password: password.result } },
  { provider: hub },
);
new k8s.core.v1.ConfigMap(
  "leaky-unmarked",
  {
    metadata: { name: "leaky-unmarked", namespace: "conjur-system" },
    data: { password: pulumi.unsecret(password.result) },
  },
  { provider: hub },
);

export const leakedPassword = pulumi.unsecret(password.result);
