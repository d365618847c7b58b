// Observability: Prometheus federation and Fluent Bit log forwarding. The pure builders (configs,
// rules, dashboard) and the components that deploy them on the hub and on each spoke.
export { ObservabilitySecrets, ObservabilitySecretsArgs } from "./secrets";
export { SpokeObservability, SpokeObservabilityArgs, FLUENT_BIT_NAME } from "./spoke";
export { federationHostPort } from "./workloads";
export { HubObservability, HubObservabilityArgs, GRAFANA_DASHBOARD_LABEL } from "./hub";
