// The audit area: what other areas (cluster providers, docs, the plan) may use of the audit policy builder.
export {
  buildAuditPolicy,
  renderAuditPolicy,
  validateAuditPolicy,
  SECRET_BEARING_RESOURCES,
  NOISY_READ_ONLY_URLS,
} from "./policy";
export type {
  AuditPolicy,
  AuditPolicyRule,
  AuditPolicyOptions,
  GroupResources,
  AuditLevel,
  AuditStage,
} from "./policy";
