// External Secrets: the tenant-side objects, their pure builders, and the Conjur policy they need.
export { ExternalSecretsSync } from "./sync";
export { ConjurEndpoint, ESO_API_VERSION, esoConjurEndpoint, esoToFollowerIngressRule } from "./documents";
