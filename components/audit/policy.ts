// Pure builder and validator of the Kubernetes API server audit policy (audit.k8s.io/v1 Policy).
// Self-managed clusters load it through --audit-policy-file; managed ones take the same intent via their settings.
import { z } from "zod";
import * as YAML from "yaml";

/** Audit levels, from nothing to full request and response bodies. */
export const auditLevelSchema = z.enum(["None", "Metadata", "Request", "RequestResponse"]);
/** Request stages the API server can emit an audit event for. */
export const auditStageSchema = z.enum(["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"]);

/** audit.k8s.io/v1 GroupResources: an API group ("" is core) and resources in it. */
export const groupResourcesSchema = z.strictObject({
  group: z.string().optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
});

/** audit.k8s.io/v1 PolicyRule: every field but `level` narrows which requests the rule matches. */
export const auditPolicyRuleSchema = z.strictObject({
  level: auditLevelSchema,
  users: z.array(z.string()).optional(),
  userGroups: z.array(z.string()).optional(),
  verbs: z.array(z.string()).optional(),
  resources: z.array(groupResourcesSchema).optional(),
  namespaces: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
  omitStages: z.array(auditStageSchema).optional(),
  omitManagedFields: z.boolean().optional(),
});

/** audit.k8s.io/v1 Policy; unknown fields are rejected because the API server silently ignores typos. */
export const auditPolicySchema = z.strictObject({
  apiVersion: z.literal("audit.k8s.io/v1"),
  kind: z.literal("Policy"),
  metadata: z
    .strictObject({
      name: z.string().optional(),
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  rules: z.array(auditPolicyRuleSchema).min(1),
  omitStages: z.array(auditStageSchema).optional(),
  omitManagedFields: z.boolean().optional(),
});

export type AuditLevel = z.infer<typeof auditLevelSchema>;
export type AuditStage = z.infer<typeof auditStageSchema>;
export type GroupResources = z.infer<typeof groupResourcesSchema>;
export type AuditPolicyRule = z.infer<typeof auditPolicyRuleSchema>;
export type AuditPolicy = z.infer<typeof auditPolicySchema>;

/** Name of the ConfigMap each cluster gets (ClusterAudit), and the key of the policy inside it. */
export const AUDIT_POLICY_CONFIGMAP = "hubspoke-audit-policy";
export const AUDIT_POLICY_FILE = "audit-policy.yaml";

/** A resource whose request or response bodies carry secret material (group "" is core). */
export interface SecretBearingResource {
  readonly group: string;
  readonly resource: string;
}

/**
 * Resources that must never be logged above Metadata: Secret data, ConfigMaps (which too often hold
 * credentials), TokenReview bodies (bearer tokens) and TokenRequest responses (service account tokens).
 */
export const SECRET_BEARING_RESOURCES: readonly SecretBearingResource[] = [
  { group: "", resource: "secrets" },
  { group: "", resource: "configmaps" },
  { group: "authentication.k8s.io", resource: "tokenreviews" },
  { group: "", resource: "serviceaccounts/token" },
];

/** Non-resource endpoints that probes and scrapers hit every few seconds; logging them is noise. */
export const NOISY_READ_ONLY_URLS: readonly string[] = [
  "/healthz*",
  "/readyz*",
  "/livez*",
  "/metrics",
  "/version",
];

const READ_ONLY_VERBS = ["get", "list", "watch"];
const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection"];

export interface AuditPolicyOptions {
  /** Users whose read-only requests are not logged (noisy controllers); their writes are still logged. */
  readonly extraNoneUsers?: readonly string[];
}

/** Builds the audit policy: first matching rule wins, so the order below is the policy. */
export function buildAuditPolicy(opts: AuditPolicyOptions = {}): AuditPolicy {
  const extraNoneUsers = [...(opts.extraNoneUsers ?? [])];
  const rules: AuditPolicyRule[] = [
    { level: "None", verbs: ["get"], nonResourceURLs: [...NOISY_READ_ONLY_URLS] },
    {
      level: "None",
      users: ["system:kube-proxy"],
      verbs: ["watch"],
      resources: [
        { group: "", resources: ["endpoints", "services", "services/status"] },
        { group: "discovery.k8s.io", resources: ["endpointslices"] },
      ],
    },
    {
      level: "None",
      verbs: ["get"],
      resources: [
        { group: "", resources: ["events"] },
        { group: "events.k8s.io", resources: ["events"] },
      ],
    },
    // Read-only only: silencing a user's writes would hide exactly what an audit is for.
    ...(extraNoneUsers.length > 0
      ? [{ level: "None" as const, users: extraNoneUsers, verbs: [...READ_ONLY_VERBS] }]
      : []),
    // Before any Request rule: the bodies of these requests and responses contain secret material.
    { level: "Metadata", resources: groupResourcesOf(SECRET_BEARING_RESOURCES) },
    {
      level: "Request",
      verbs: [...WRITE_VERBS],
      resources: [
        {
          group: "rbac.authorization.k8s.io",
          resources: ["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
        },
      ],
    },
    // Interactive access into pods: who ran what, in which container.
    {
      level: "Request",
      resources: [{ group: "", resources: ["pods/exec", "pods/attach", "pods/portforward"] }],
    },
    { level: "Metadata" },
  ];
  return { apiVersion: "audit.k8s.io/v1", kind: "Policy", omitStages: ["RequestReceived"], rules };
}

/** Serialises the policy as the YAML document the API server reads. */
export function renderAuditPolicy(policy: AuditPolicy): string {
  return YAML.stringify(policy);
}

/**
 * Validates a candidate policy: the audit.k8s.io/v1 schema (unknown fields rejected) and the ordering
 * invariants. Returns one message per problem, [] when the policy is sound.
 */
export function validateAuditPolicy(candidate: unknown): string[] {
  const parsed = auditPolicySchema.safeParse(candidate);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  }
  return orderingProblems(parsed.data.rules);
}

function orderingProblems(rules: readonly AuditPolicyRule[]): string[] {
  const problems: string[] = [];
  for (const target of SECRET_BEARING_RESOURCES) {
    const label = target.group === "" ? target.resource : `${target.resource}.${target.group}`;
    for (const [index, rule] of rules.entries()) {
      if (!ruleMayMatchResource(rule, target)) continue;
      const bodyLogged = rule.level === "Request" || rule.level === "RequestResponse";
      if (bodyLogged) {
        problems.push(
          `rules[${index}]: level ${rule.level} may match ${label} before a rule that captures every ` +
            `${label} request at Metadata or None; their bodies carry secret material`,
        );
      }
      // Once a rule takes every request for the resource, later rules never see it.
      if (ruleAlwaysMatchesResource(rule, target)) break;
    }
  }
  const last = rules[rules.length - 1];
  if (last === undefined || last.level !== "Metadata" || !isUnrestricted(last)) {
    problems.push(`rules[${rules.length - 1}]: the last rule must be a catch-all at level Metadata`);
  }
  return problems;
}

// Mirrors the API server's matcher (apiserver/pkg/audit/policy/checker.go): users, groups, verbs and
// namespaces only narrow a rule, so they make it "may match", never "always matches".
function ruleMayMatchResource(rule: AuditPolicyRule, target: SecretBearingResource): boolean {
  const resourceScoped = (rule.resources?.length ?? 0) > 0 || (rule.namespaces?.length ?? 0) > 0;
  if (!resourceScoped) return (rule.nonResourceURLs?.length ?? 0) === 0;
  if ((rule.resources?.length ?? 0) === 0) return true;
  return (rule.resources ?? []).some((gr) => groupResourcesMatch(gr, target, false));
}

function ruleAlwaysMatchesResource(rule: AuditPolicyRule, target: SecretBearingResource): boolean {
  const narrowed =
    (rule.users?.length ?? 0) > 0 ||
    (rule.userGroups?.length ?? 0) > 0 ||
    (rule.verbs?.length ?? 0) > 0 ||
    (rule.namespaces?.length ?? 0) > 0;
  if (narrowed) return false;
  if ((rule.resources?.length ?? 0) === 0) return (rule.nonResourceURLs?.length ?? 0) === 0;
  return (rule.resources ?? []).some((gr) => groupResourcesMatch(gr, target, true));
}

function groupResourcesMatch(gr: GroupResources, target: SecretBearingResource, always: boolean): boolean {
  if ((gr.group ?? "") !== target.group) return false;
  if (always && (gr.resourceNames?.length ?? 0) > 0) return false;
  const resources = gr.resources ?? [];
  if (resources.length === 0) return true;
  const [resource, subresource] = target.resource.split("/");
  return resources.some(
    (pattern) =>
      pattern === target.resource ||
      pattern === "*" ||
      (subresource !== undefined && pattern === `*/${subresource}`) ||
      (pattern.endsWith("/*") && pattern.slice(0, -2) === resource),
  );
}

function isUnrestricted(rule: AuditPolicyRule): boolean {
  return (
    (rule.users?.length ?? 0) === 0 &&
    (rule.userGroups?.length ?? 0) === 0 &&
    (rule.verbs?.length ?? 0) === 0 &&
    (rule.resources?.length ?? 0) === 0 &&
    (rule.namespaces?.length ?? 0) === 0 &&
    (rule.nonResourceURLs?.length ?? 0) === 0
  );
}

function groupResourcesOf(targets: readonly SecretBearingResource[]): GroupResources[] {
  const byGroup = new Map<string, string[]>();
  for (const { group, resource } of targets) {
    byGroup.set(group, [...(byGroup.get(group) ?? []), resource]);
  }
  return [...byGroup.entries()].map(([group, resources]) => ({ group, resources }));
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(policy)";
  return path
    .map((segment, i) =>
      typeof segment === "number" ? `[${segment}]` : `${i === 0 ? "" : "."}${String(segment)}`,
    )
    .join("");
}
