// Names, ports and labels shared by more than one component. Several of these are public
// contracts (the follower Service name is FOLLOWER_HOSTNAME; authenticator ids are in policy):
// change them only with aliases and a migration note.

// The names the stack spec also validates against are defined below it, in stacks/reserved.ts.
export {
  CONJUR_NAMESPACE,
  GITOPS_NAMESPACE,
  HUB_AUTHENTICATOR_ID,
  LOGGING_NAMESPACE,
  MONITORING_NAMESPACE,
  OBJECT_PREFIX,
} from "../stacks/reserved";

export const PRIMARY_SERVICE = "conjur-primary";
export const PRIMARY_EXTERNAL_SERVICE = "conjur-primary-external";
export const POSTGRES_SERVICE = "conjur-postgres";
export const FOLLOWER_SERVICE = "conjur-follower";
export const FOLLOWER_SERVICE_ACCOUNT = "conjur-follower";
export const FOLLOWER_DEPLOYMENT = "conjur-follower";
export const PROMETHEUS_SERVICE = "prometheus";
export const LOG_SINK_SERVICE = "log-sink";

export const HTTPS_PORT = 443;
/** nginx (unprivileged) terminates TLS on this port in the primary pod. */
export const NGINX_TLS_PORT = 9443;
/** Conjur OSS listens on plain HTTP inside the pod only. */
export const CONJUR_HTTP_PORT = 8080;
export const POSTGRES_PORT = 5432;
export const FOLLOWER_HTTPS_PORT = 443;
/**
 * The ports each follower kind's pods listen on: NetworkPolicies match the pod's port, not the
 * Service's. The Kubernetes Follower's nginx listens on 9443 behind Service port 443 (CyberArk's
 * conjurdemos/conjur-intro `conjur-follower-node-port.yaml` targets 9443); the appliance on 443.
 */
export const FOLLOWER_POD_HTTPS_PORT = { kubernetes: 9443, appliance: 443 } as const;

export const CLUSTER_DOMAIN = "cluster.local";

export const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_PART_OF = "app.kubernetes.io/part-of";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const PART_OF = "hubspoke";
/** Label on tenant namespaces, a marker only: access is granted by namespace name, never by this label. */
export const LABEL_TENANT = "hubspoke.io/tenant";
/** The label the API server sets on every namespace (immutable): what policies select namespaces by. */
export const LABEL_NAMESPACE_NAME = "kubernetes.io/metadata.name";
/** Annotation on a tenant namespace stating its network isolation stage; the policy pack reads it. */
export const ANNOTATION_NETWORK_ISOLATION = "hubspoke.io/network-isolation";

/** In-cluster DNS names of a Service, shortest first (all go into certificates). */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.${CLUSTER_DOMAIN}`,
  ];
}

/** Labels every object of one workload carries; `name` is also its selector. */
export function workloadLabels(name: string, component: string): Record<string, string> {
  return {
    [LABEL_NAME]: name,
    [LABEL_COMPONENT]: component,
    [LABEL_PART_OF]: PART_OF,
    [LABEL_MANAGED_BY]: "pulumi",
  };
}

export function selectorLabels(name: string): Record<string, string> {
  return { [LABEL_NAME]: name };
}
