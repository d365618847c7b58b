// The CrossGuard policy pack that `pulumi preview --policy-pack policy` runs: each engine rule wrapped as a
// Pulumi policy. The pack is constructed only under Pulumi's policy host, so tests can import this file.
import * as pulumi from "@pulumi/pulumi";
import {
  PolicyPack,
  type Policies,
  type PolicyConfigSchema,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import {
  environmentFromStackName,
  resourceViolationMessages,
  rules,
  stackContextFor,
  stackNameFromUrn,
  stackRules,
  stackRuleViolations,
} from "./engine";
import type { Environment, PlannedResource, StackContext } from "./types";

export const POLICY_PACK_NAME = "hubspoke";

/** Policy config (`--policy-pack-config`) that overrides what the stack name says about the environment. */
export interface StackContextConfig {
  environment?: Environment;
  protectIrreplaceable?: boolean;
}

export const stackContextConfigSchema: PolicyConfigSchema = {
  properties: {
    environment: {
      type: "string",
      enum: ["dev", "staging", "prod"],
      description: "Overrides the environment read from the stack name.",
    },
    protectIrreplaceable: {
      type: "boolean",
      description:
        "Overrides whether irreplaceable resources must be protected (default: environment is prod).",
    },
  },
};

/**
 * The stack context for a policy run: policy config first, then the stack name. The policy host does not
 * always tell the Node.js runtime the stack, so the stack segment of a resource URN is the next source.
 * An unrecognised stack fails closed to prod.
 */
export function resolveStackContext(
  config: StackContextConfig,
  stackName: string,
  urn?: string,
): StackContext {
  const configured = environmentFromStackName(
    typeof config.environment === "string" ? config.environment : "",
  );
  const fromUrn = urn === undefined ? undefined : environmentFromStackName(stackNameFromUrn(urn) ?? "");
  const environment = configured ?? environmentFromStackName(stackName) ?? fromUrn ?? "prod";
  const protectIrreplaceable =
    typeof config.protectIrreplaceable === "boolean" ? config.protectIrreplaceable : undefined;
  return stackContextFor(environment, { protectIrreplaceable });
}

type PolicyResourceView = Pick<PolicyResource, "type" | "props" | "urn" | "name" | "opts" | "provider">;

/** A PlannedResource from what the policy host passes; the cluster is not known there. */
export function plannedResourceFromPolicyArgs(args: PolicyResourceView): PlannedResource {
  return {
    urn: args.urn,
    type: args.type,
    name: args.name,
    // Still the host's unknown-checking proxy: reading a value computed later throws, and the host
    // reports that policy as "can't run during preview" rather than judging a placeholder.
    props: args.props,
    cluster: null,
    provider: args.provider?.urn ?? null,
    opts: { protect: args.opts.protect },
  };
}

/**
 * Rules the policy host cannot run: @pulumi/policy unwraps secrets before a policy sees the props, so a
 * secret in a ConfigMap is indistinguishable from plain text there. The offline plan keeps the markers.
 */
export const NOT_APPLICABLE_IN_POLICY_HOST: Readonly<Record<string, string>> = {
  "no-secret-outside-secret-objects":
    "the policy host unwraps Pulumi secrets before policies see them; this rule runs on the offline plan (npm run plan)",
};

export function buildPolicies(): Policies {
  const resourcePolicies: ResourceValidationPolicy[] = rules.map((rule) => ({
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.level,
    configSchema: stackContextConfigSchema,
    validateResource: (args, reportViolation) => {
      const blindReason = NOT_APPLICABLE_IN_POLICY_HOST[rule.name];
      if (blindReason !== undefined) args.notApplicable(blindReason);
      const ctx = resolveStackContext(args.getConfig<StackContextConfig>(), pulumi.getStack(), args.urn);
      for (const message of resourceViolationMessages(rule, plannedResourceFromPolicyArgs(args), ctx)) {
        reportViolation(message);
      }
    },
  }));
  const stackPolicies: StackValidationPolicy[] = stackRules.map((rule) => ({
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.level,
    configSchema: stackContextConfigSchema,
    validateStack: (args, reportViolation) => {
      const resources = args.resources.map(plannedResourceFromPolicyArgs);
      const ctx = resolveStackContext(
        args.getConfig<StackContextConfig>(),
        pulumi.getStack(),
        resources[0]?.urn,
      );
      for (const violation of stackRuleViolations(rule, resources, ctx)) {
        reportViolation(violation.message, violation.urn);
      }
    },
  }));
  return [...resourcePolicies, ...stackPolicies];
}

/** True when Pulumi's policy host (`@pulumi/pulumi/cmd/run-policy-pack`) is running this process. */
export function isRunByPolicyHost(): boolean {
  return [require.main?.filename, process.argv[1]].some(
    (entry) => entry !== undefined && /[\\/]run-policy-pack(?:[\\/]|$)/.test(entry),
  );
}

// Constructing the pack starts the analyzer's gRPC server and claims the process; only the host wants that.
if (isRunByPolicyHost()) {
  new PolicyPack(POLICY_PACK_NAME, {
    description:
      "Hub-and-spoke Conjur estate: pod security, secrets hygiene, RBAC, network isolation, providers.",
    policies: buildPolicies(),
  });
}
