// The audit area: the audit policy builder (pure) and ClusterAudit, which ships it to a cluster.
export {
  buildAuditPolicy,
  renderAuditPolicy,
  validateAuditPolicy,
  SECRET_BEARING_RESOURCES,
  NOISY_READ_ONLY_URLS,
  AUDIT_POLICY_CONFIGMAP,
  AUDIT_POLICY_FILE,
} from "./policy";
export type {
  AuditPolicy,
  AuditPolicyRule,
  AuditPolicyOptions,
  GroupResources,
  AuditLevel,
  AuditStage,
} from "./policy";
export { ClusterAudit } from "./cluster-audit";
export type { ClusterAuditArgs } from "./cluster-audit";
