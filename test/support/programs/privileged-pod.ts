// Test program: the real stack plus one deliberately unsafe object, a privileged container on the
// hub cluster, otherwise hardened so that only the Pod Security rule has reason to object.
import * as k8s from "@pulumi/kubernetes";
import { loadStackSpec } from "../../../stacks/load";

export * from "../../../index";

const hubCluster = loadStackSpec().hub.cluster;
// The program's own providers are not exported; a second one with the hub's clusterIdentifier lands
// on the same cluster, which is what the plan reports.
const hub = new k8s.Provider("unsafe-hub", { context: hubCluster, clusterIdentifier: hubCluster });

new k8s.core.v1.Pod(
  "unsafe-debug-shell",
  {
    metadata: { name: "debug-shell", namespace: "conjur-system" },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "shell",
          image: "busybox:1.36.1",
          command: ["sleep", "3600"],
          securityContext: {
            privileged: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
          resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
          livenessProbe: { exec: { command: ["true"] } },
          readinessProbe: { exec: { command: ["true"] } },
        },
      ],
    },
  },
  { provider: hub },
);
