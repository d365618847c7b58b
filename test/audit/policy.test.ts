import { strict as assert } from "node:assert";
import * as YAML from "yaml";
import {
  buildAuditPolicy,
  renderAuditPolicy,
  validateAuditPolicy,
  type AuditPolicy,
  type AuditPolicyRule,
} from "../../components/audit/policy";

function indexOfRule(policy: AuditPolicy, predicate: (rule: AuditPolicyRule) => boolean): number {
  const index = policy.rules.findIndex(predicate);
  assert.ok(index >= 0, "rule not found");
  return index;
}

const coversResource =
  (group: string, resource: string) =>
  (rule: AuditPolicyRule): boolean =>
    (rule.resources ?? []).some(
      (gr) => (gr.group ?? "") === group && (gr.resources ?? []).includes(resource),
    );

describe("audit policy builder", () => {
  it("builds an audit.k8s.io/v1 Policy that passes its own validation", () => {
    const policy = buildAuditPolicy();
    assert.equal(policy.apiVersion, "audit.k8s.io/v1");
    assert.equal(policy.kind, "Policy");
    assert.deepEqual(policy.omitStages, ["RequestReceived"]);
    assert.deepEqual(validateAuditPolicy(policy), []);
  });

  it("silences noisy read-only endpoints, kube-proxy watches and event reads first", () => {
    const [probes, kubeProxy, events] = buildAuditPolicy().rules;
    assert.equal(probes.level, "None");
    assert.deepEqual(probes.nonResourceURLs, ["/healthz*", "/readyz*", "/livez*", "/metrics", "/version"]);
    assert.deepEqual(probes.verbs, ["get"]);
    assert.equal(kubeProxy.level, "None");
    assert.deepEqual(kubeProxy.users, ["system:kube-proxy"]);
    assert.deepEqual(kubeProxy.verbs, ["watch"]);
    assert.ok(coversResource("", "endpoints")(kubeProxy) && coversResource("", "services")(kubeProxy));
    assert.equal(events.level, "None");
    assert.deepEqual(events.verbs, ["get"]);
    assert.ok(coversResource("", "events")(events));
  });

  it("logs secrets, configmaps and tokenreviews at Metadata before any Request rule", () => {
    const policy = buildAuditPolicy();
    const metadataRule = indexOfRule(
      policy,
      (rule) => rule.level === "Metadata" && coversResource("", "secrets")(rule),
    );
    const rule = policy.rules[metadataRule];
    assert.ok(coversResource("", "configmaps")(rule));
    assert.ok(coversResource("authentication.k8s.io", "tokenreviews")(rule));
    const firstRequest = indexOfRule(policy, (r) => r.level === "Request" || r.level === "RequestResponse");
    assert.ok(metadataRule < firstRequest);
    assert.ok(policy.rules.every((r) => r.level !== "RequestResponse"));
  });

  it("logs RBAC changes and pods/exec at Request, and ends with a catch-all Metadata", () => {
    const policy = buildAuditPolicy();
    const rbac =
      policy.rules[indexOfRule(policy, coversResource("rbac.authorization.k8s.io", "clusterrolebindings"))];
    assert.equal(rbac.level, "Request");
    assert.ok(rbac.verbs?.includes("create") && !rbac.verbs.includes("get"));
    assert.equal(policy.rules[indexOfRule(policy, coversResource("", "pods/exec"))].level, "Request");
    assert.deepEqual(policy.rules[policy.rules.length - 1], { level: "Metadata" });
  });

  it("adds read-only None rules for extra users and stays valid", () => {
    const policy = buildAuditPolicy({ extraNoneUsers: ["system:serviceaccount:monitoring:prometheus"] });
    const rule = policy.rules.find((r) => r.users?.includes("system:serviceaccount:monitoring:prometheus"));
    assert.ok(rule);
    assert.equal(rule.level, "None");
    assert.deepEqual(rule.verbs, ["get", "list", "watch"]);
    assert.deepEqual(validateAuditPolicy(policy), []);
  });
});

describe("audit policy validation", () => {
  it("rejects a misspelt field (omitStage)", () => {
    const { omitStages, ...rest } = buildAuditPolicy();
    const problems = validateAuditPolicy({ ...rest, omitStage: omitStages });
    assert.deepEqual(problems, ['(policy): Unrecognized key: "omitStage"']);
  });

  it("rejects unknown levels, stages and rule fields with their paths", () => {
    const policy = buildAuditPolicy();
    const candidate = {
      ...policy,
      omitStages: ["RequestRecieved"],
      rules: [{ level: "Everything" }, { level: "Metadata", resource: [{ group: "" }] }, ...policy.rules],
    };
    const problems = validateAuditPolicy(candidate);
    assert.equal(problems.length, 3);
    assert.match(problems[0], /^rules\[0\]\.level: /);
    assert.match(problems[1], /^rules\[1\]: Unrecognized key: "resource"/);
    assert.match(problems[2], /^omitStages\[0\]: /);
  });

  it("fails the ordering check when a Request rule for secrets comes before the Metadata rule", () => {
    const policy = buildAuditPolicy();
    const leaky: AuditPolicyRule = { level: "Request", resources: [{ group: "", resources: ["secrets"] }] };
    const problems = validateAuditPolicy({ ...policy, rules: [leaky, ...policy.rules] });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^rules\[0\]: level Request may match secrets before/);
  });

  it("fails when a broad RequestResponse rule (all resources for one user) precedes the Metadata rule", () => {
    const policy = buildAuditPolicy();
    const debugUser: AuditPolicyRule = { level: "RequestResponse", users: ["admin@example.com"] };
    const problems = validateAuditPolicy({ ...policy, rules: [debugUser, ...policy.rules] });
    assert.ok(problems.some((p) => p.includes("may match secrets")));
    assert.ok(problems.some((p) => p.includes("may match tokenreviews.authentication.k8s.io")));
  });

  it("accepts a Request rule for secrets placed after the Metadata rule (it can never match)", () => {
    const policy = buildAuditPolicy();
    const rules = [...policy.rules];
    rules.splice(rules.length - 1, 0, {
      level: "Request",
      resources: [{ group: "", resources: ["secrets"] }],
    });
    assert.deepEqual(validateAuditPolicy({ ...policy, rules }), []);
  });

  it("requires a catch-all Metadata rule last", () => {
    const policy = buildAuditPolicy();
    const problems = validateAuditPolicy({ ...policy, rules: policy.rules.slice(0, -1) });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /last rule must be a catch-all at level Metadata/);
  });
});

describe("audit policy rendering", () => {
  it("round-trips through YAML unchanged and still validates", () => {
    const policy = buildAuditPolicy({ extraNoneUsers: ["system:kube-scheduler"] });
    const text = renderAuditPolicy(policy);
    assert.match(text, /^apiVersion: audit\.k8s\.io\/v1\nkind: Policy\n/);
    const parsed: unknown = YAML.parse(text);
    assert.deepEqual(parsed, policy);
    assert.deepEqual(validateAuditPolicy(parsed), []);
  });
});
