// Tenancy: staged tenant namespaces (onboarding, Pod Security, network isolation), quota, limits, binding.
export { Tenant, TenantArgs, TenantConjurAccess } from "./tenant";
export {
  enforcedStage,
  TENANT_OBJECT_NAMES,
  tenantNamespaceAnnotations,
  tenantNamespaceLabels,
  tenantNetworkPolicies,
} from "./isolation";
