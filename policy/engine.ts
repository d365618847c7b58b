// The policy engine: pure rules over planned resources, shared by the CrossGuard pack (policy/index.ts),
// the offline plan's recorded resources and the unit tests. No Pulumi import here, so all three agree.
// Layers, top-down: engine -> rules/* and exemptions -> kubernetes, selectors -> types. Nothing below
// the engine imports it.
import { exemptions, type Exemption } from "./exemptions";
import { asRecord, asString, field, kubernetesKind } from "./kubernetes";
import { explicitProvider } from "./rules/providers";
import { imageTagPinned, probesLivenessAndReadiness, resourcesRequestsAndLimits } from "./rules/workloads";
import {
  automountTokenOnlyWhenNeeded,
  podSecurityRestricted,
  readOnlyRootFilesystem,
} from "./rules/podSecurity";
import { noSecretLookingValues, noSecretOutsideSecretObjects } from "./rules/secrets";
import { rbacNoClusterAdmin, rbacNoWildcards } from "./rules/rbac";
import { namespaceDefaultDeny, namespaceDefaultDenyStaged, noNodePortServices } from "./rules/network";
import { irreplaceableProtected } from "./rules/protection";
import { backupBucketProtected } from "./rules/backup-storage";
import { pdbForReplicatedWorkloads } from "./rules/availability";
import type { Environment, PlannedResource, Rule, StackContext, StackRule, Violation } from "./types";

export const rules: Rule[] = [
  podSecurityRestricted,
  resourcesRequestsAndLimits,
  imageTagPinned,
  probesLivenessAndReadiness,
  noSecretLookingValues,
  noSecretOutsideSecretObjects,
  rbacNoWildcards,
  rbacNoClusterAdmin,
  noNodePortServices,
  explicitProvider,
  readOnlyRootFilesystem,
  automountTokenOnlyWhenNeeded,
];

export const stackRules: StackRule[] = [
  namespaceDefaultDeny,
  namespaceDefaultDenyStaged,
  irreplaceableProtected,
  pdbForReplicatedWorkloads,
  backupBucketProtected,
];

/** The exemption that applies to this rule and object, matched on Kubernetes kind/namespace/name. */
export function findExemption(ruleName: string, resource: PlannedResource): Exemption | undefined {
  const kind = kubernetesKind(resource);
  if (kind === undefined) return undefined;
  const namespace = asString(field(resource.props, "metadata", "namespace")) ?? "";
  const name = asString(field(resource.props, "metadata", "name"));
  return exemptions.find(
    (exemption) =>
      exemption.rule === ruleName &&
      exemption.kind === kind &&
      exemption.namespace === namespace &&
      exemption.name === name &&
      (exemption.cluster === undefined || exemption.cluster === resource.cluster),
  );
}

/**
 * A rule's messages for one resource after exemptions: a whole-rule exemption silences it; one with
 * `waive` drops only those sub-checks. A waiver on a rule without sub-checks silences nothing.
 */
export function resourceViolationMessages(
  rule: Rule,
  resource: PlannedResource,
  ctx: StackContext,
): string[] {
  const exemption = findExemption(rule.name, resource);
  if (exemption === undefined) return rule.check(resource, ctx);
  const waived = exemption.waive;
  if (waived === undefined) return [];
  if (rule.findings === undefined) return rule.check(resource, ctx);
  return rule
    .findings(resource, ctx)
    .filter((finding) => !waived.includes(finding.subCheck))
    .map((finding) => finding.message);
}

/** A stack rule's violations after exemptions (matched on the violating resource). */
export function stackRuleViolations(
  rule: StackRule,
  resources: PlannedResource[],
  ctx: StackContext,
): Violation[] {
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  return rule.checkStack(resources, ctx).filter((violation) => {
    const resource = byUrn.get(violation.urn);
    return resource === undefined || findExemption(rule.name, resource) === undefined;
  });
}

/** Every violation of every rule over a set of planned resources, exemptions applied. */
export function evaluate(resources: PlannedResource[], ctx: StackContext): Violation[] {
  const violations: Violation[] = [];
  for (const resource of resources) {
    for (const rule of rules) {
      for (const message of resourceViolationMessages(rule, resource, ctx)) {
        violations.push({ rule: rule.name, level: rule.level, urn: resource.urn, message });
      }
    }
  }
  for (const rule of stackRules) {
    violations.push(...stackRuleViolations(rule, resources, ctx));
  }
  return violations;
}

const ENVIRONMENTS: readonly Environment[] = ["dev", "staging", "prod"];

/** `prod`, `org/project/prod` -> "prod"; anything else -> undefined. */
export function environmentFromStackName(stackName: string): Environment | undefined {
  const shortName = stackName.split("/").pop() ?? "";
  return ENVIRONMENTS.find((environment) => environment === shortName);
}

/** The stack name inside a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackNameFromUrn(urn: string): string | undefined {
  const match = /^urn:pulumi:([^:]+)::/.exec(urn);
  return match === null ? undefined : match[1];
}

export function stackContextFor(
  environment: Environment,
  overrides: { protectIrreplaceable?: boolean } = {},
): StackContext {
  return { environment, protectIrreplaceable: overrides.protectIrreplaceable ?? environment === "prod" };
}

/** One entry of the offline plan (plan.json); provider and opts are read when the plan records them. */
export interface PlanEntry {
  urn: string;
  type: string;
  name: string;
  cluster: string | null;
  inputs: Record<string, unknown>;
  provider?: string | null;
  opts?: { protect?: boolean; retainOnDelete?: boolean };
}

export function plannedResourceFromPlanEntry(entry: PlanEntry): PlannedResource {
  const opts = asRecord(entry.opts) ?? {};
  return {
    urn: entry.urn,
    type: entry.type,
    name: entry.name,
    props: asRecord(entry.inputs) ?? {},
    cluster: entry.cluster ?? null,
    provider: entry.provider ?? null,
    opts: {
      protect: typeof opts.protect === "boolean" ? opts.protect : undefined,
      retainOnDelete: typeof opts.retainOnDelete === "boolean" ? opts.retainOnDelete : undefined,
    },
  };
}

export { exemptions, listExemptions, exemptionsMarkdown } from "./exemptions";
export type { Exemption } from "./exemptions";
export { IRREPLACEABLE, isIrreplaceable } from "./rules/protection";
export type { IrreplaceableMatcher } from "./rules/protection";
export { CALLS_KUBE_API_ANNOTATION } from "./pod-security";
export { isSecretValue, isUnknownValue } from "./kubernetes";
export type {
  EnforcementLevel,
  Environment,
  PlannedResource,
  Rule,
  StackContext,
  StackRule,
  SubCheckFinding,
  Violation,
} from "./types";
