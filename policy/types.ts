// The policy pack's shared vocabulary: what a rule reads (a planned resource and its stack's context)
// and what it reports. Below the rules and the engine; imports nothing.

export type EnforcementLevel = "mandatory" | "advisory";

export interface PlannedResource {
  urn: string;
  type: string; // Pulumi type token e.g. "kubernetes:apps/v1:Deployment"
  name: string;
  /** Resource inputs (Kubernetes object fields: metadata, spec, data, rules, ...). */
  props: Record<string, unknown>;
  /** Cluster name for Kubernetes resources (null where unknown, as inside the policy pack). */
  cluster: string | null;
  /** Provider reference (urn::id, or the provider URN) or null when none was given. */
  provider: string | null;
  opts: { protect?: boolean; retainOnDelete?: boolean };
}

export type Environment = "dev" | "staging" | "prod";

export interface StackContext {
  environment: Environment;
  protectIrreplaceable: boolean;
}

export interface Violation {
  rule: string;
  level: EnforcementLevel;
  urn: string;
  message: string;
}

/** One failed sub-check of a rule, so an exemption can waive some sub-checks and keep the rest. */
export interface SubCheckFinding {
  subCheck: string;
  message: string;
}

export interface Rule {
  name: string;
  description: string;
  level: EnforcementLevel;
  /** Messages for one resource; [] = pass. */
  check(resource: PlannedResource, ctx: StackContext): string[];
  /** Same result as check, tagged by sub-check; rules that support partial exemptions provide it. */
  findings?(resource: PlannedResource, ctx: StackContext): SubCheckFinding[];
}

export interface StackRule {
  name: string;
  description: string;
  level: EnforcementLevel;
  checkStack(resources: PlannedResource[], ctx: StackContext): Violation[];
}
