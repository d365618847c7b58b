// Tenancy: adopted tenant namespaces with quota, limits, isolation and the authenticator binding.
export { Tenant, TenantArgs, tenantNamespaceLabels } from "./tenant";
