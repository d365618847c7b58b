// GitOps: the Argo CD registration of converted spokes (hub and spoke sides) and its pure builders.
export { ArgoCdRegistration, ARGOCD_API_VERSION, RegisteredSpoke } from "./registration";
export { ArgoCdSpokeAccess } from "./spoke-access";
export { ArgoCdSpoke } from "./argocd";
