// The backup's network paths on the hub, and the kube-state-metrics that reports its CronJob to the
// hub Prometheus (kube_cronjob_status_last_successful_time). NetworkPolicies add up: these open only
// the backup's own flows next to the hub's default deny, without editing the hub's policies.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BackupSpec, StackSpec } from "../../stacks/spec";
import {
  dnsEgressRule,
  ipBlocks,
  kubeApiEgressRule,
  namespacedMeta,
  namespaceSelectorFor,
  podEgressRule,
  resourceRequirements,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tcpPorts,
} from "../kube";
import { networkPolicyFactory } from "../namespace";
import {
  CONJUR_NAMESPACE,
  MONITORING_NAMESPACE,
  POSTGRES_PORT,
  POSTGRES_SERVICE,
  PROMETHEUS_SERVICE,
  selectorLabels,
  workloadLabels,
} from "../naming";
import { BACKUP_NAMES, BACKUP_STATE_METRICS } from "./workloads";

/**
 * EKS Pod Identity's agent answers credential requests on this link-local address, port 80
 * (AWS EKS user guide, "EKS Pod Identity": AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials).
 */
export const POD_IDENTITY_AGENT = { cidr: "169.254.170.23/32", port: 80 } as const;

const KSM_UID = 65534;

export function backupNetworkPolicies(
  name: string,
  backup: BackupSpec,
  opts: pulumi.CustomResourceOptions,
): void {
  const meta = namespacedMeta(CONJUR_NAMESPACE);
  const netpol = networkPolicyFactory(`${name}-netpol`, meta, opts);
  const runs = [BACKUP_NAMES.cronJob, BACKUP_NAMES.restore];
  for (const run of runs) {
    netpol(run, run, {
      podSelector: { matchLabels: selectorLabels(run) },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [
        podEgressRule(POSTGRES_SERVICE, POSTGRES_PORT),
        dnsEgressRule(),
        // S3, KMS and STS over HTTPS (or their VPC endpoints, when given).
        { to: ipBlocks(backup.endpointCidrs), ports: tcpPorts(443) },
        ...(backup.credentials.kind === "podIdentity"
          ? [{ to: ipBlocks([POD_IDENTITY_AGENT.cidr]), ports: tcpPorts(POD_IDENTITY_AGENT.port) }]
          : []),
      ],
    });
  }
  // The hub's own Postgres policy admits the primary and the bootstrap; this one adds the two runs.
  netpol("postgres-from-backup", `${POSTGRES_SERVICE}-from-backup`, {
    podSelector: { matchLabels: selectorLabels(POSTGRES_SERVICE) },
    policyTypes: ["Ingress"],
    ingress: [
      {
        from: runs.map((run) => ({ podSelector: { matchLabels: selectorLabels(run) } })),
        ports: tcpPorts(POSTGRES_PORT),
      },
    ],
  });
}

/**
 * kube-state-metrics limited to CronJobs and Jobs of the Conjur namespace (a Role, not a
 * ClusterRole), as its own examples/standard manifests run it: uid 65534, read-only root,
 * /livez on the metrics port and /readyz on the telemetry port.
 */
export function backupStateMetrics(name: string, spec: StackSpec, opts: pulumi.CustomResourceOptions): void {
  const meta = namespacedMeta(CONJUR_NAMESPACE);
  const ksm = BACKUP_STATE_METRICS.name;
  const serviceAccount = new k8s.core.v1.ServiceAccount(
    `${name}-metrics-sa`,
    { metadata: meta(ksm, "metrics"), automountServiceAccountToken: true },
    opts,
  );
  const role = new k8s.rbac.v1.Role(
    `${name}-metrics-role`,
    {
      metadata: meta(ksm, "rbac"),
      rules: [{ apiGroups: ["batch"], resources: ["cronjobs", "jobs"], verbs: ["list", "watch"] }],
    },
    opts,
  );
  new k8s.rbac.v1.RoleBinding(
    `${name}-metrics-binding`,
    {
      metadata: meta(ksm, "rbac"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: ksm, namespace: CONJUR_NAMESPACE }],
    },
    opts,
  );
  new k8s.apps.v1.Deployment(
    `${name}-metrics`,
    {
      metadata: meta(ksm, "metrics"),
      spec: {
        replicas: 1,
        selector: { matchLabels: selectorLabels(ksm) },
        template: {
          metadata: {
            labels: workloadLabels(ksm, "metrics"),
            annotations: { "hubspoke.io/calls-kube-api": "true" },
          },
          spec: {
            serviceAccountName: serviceAccount.metadata.name,
            automountServiceAccountToken: true,
            securityContext: restrictedPodSecurityContext(KSM_UID, KSM_UID),
            containers: [
              {
                name: "kube-state-metrics",
                image: spec.images.kubeStateMetrics,
                args: [
                  "--resources=cronjobs,jobs",
                  `--namespaces=${CONJUR_NAMESPACE}`,
                  `--port=${BACKUP_STATE_METRICS.port}`,
                  `--telemetry-port=${BACKUP_STATE_METRICS.telemetryPort}`,
                ],
                ports: [
                  { name: "http-metrics", containerPort: BACKUP_STATE_METRICS.port },
                  { name: "telemetry", containerPort: BACKUP_STATE_METRICS.telemetryPort },
                ],
                livenessProbe: {
                  httpGet: { path: "/livez", port: "http-metrics" },
                  initialDelaySeconds: 5,
                  timeoutSeconds: 5,
                },
                readinessProbe: {
                  httpGet: { path: "/readyz", port: "telemetry" },
                  initialDelaySeconds: 5,
                  timeoutSeconds: 5,
                },
                resources: resourceRequirements({
                  cpuRequest: "10m",
                  memoryRequest: "32Mi",
                  cpuLimit: "100m",
                  memoryLimit: "128Mi",
                }),
                securityContext: restrictedContainerSecurityContext(),
              },
            ],
          },
        },
      },
    },
    opts,
  );
  new k8s.core.v1.Service(
    `${name}-metrics-service`,
    {
      metadata: meta(ksm, "metrics"),
      spec: {
        type: "ClusterIP",
        selector: selectorLabels(ksm),
        ports: [{ name: "http-metrics", port: BACKUP_STATE_METRICS.port, targetPort: "http-metrics" }],
      },
    },
    opts,
  );
  const netpol = networkPolicyFactory(`${name}-netpol`, meta, opts);
  const prometheusPods = {
    namespaceSelector: namespaceSelectorFor(MONITORING_NAMESPACE),
    podSelector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
  };
  netpol("metrics", ksm, {
    podSelector: { matchLabels: selectorLabels(ksm) },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from: [prometheusPods], ports: tcpPorts(BACKUP_STATE_METRICS.port) }],
    egress: [dnsEgressRule(), kubeApiEgressRule()],
  });
  // The hub Prometheus's own policy (observability) does not know this target: this one adds it.
  const monitoringPolicy = networkPolicyFactory(
    `${name}-monitoring-netpol`,
    namespacedMeta(MONITORING_NAMESPACE),
    opts,
  );
  monitoringPolicy("prometheus-to-backup-metrics", `${PROMETHEUS_SERVICE}-to-backup-metrics`, {
    podSelector: { matchLabels: selectorLabels(PROMETHEUS_SERVICE) },
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: namespaceSelectorFor(CONJUR_NAMESPACE),
            podSelector: { matchLabels: selectorLabels(ksm) },
          },
        ],
        ports: tcpPorts(BACKUP_STATE_METRICS.port),
      },
    ],
  });
}
