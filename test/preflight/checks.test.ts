// Each preflight category on small inventories: cases that pass and cases that must be reported.
import { strict as assert } from "node:assert";
import type { TenantSpec } from "../../stacks/spec";
import { resolveTenantStage } from "../../stacks/tenancy";
import { tenantSchema } from "../../stacks/schema";
import { Inventory, parseInventory, InventoryError, type KubeObject } from "../../tools/preflight/inventory";
import {
  labelConflictFindings,
  nameCollisionFindings,
  podSecurityFindings,
  quotaFindings,
} from "../../tools/preflight/checks";
import type { PlanObject } from "../../tools/preflight/objects";

type Json = any;

function tenant(name: string, stage: Json = {}, extra: Partial<TenantSpec> = {}): TenantSpec {
  return {
    name,
    existing: true,
    adopt: "patch",
    applications: [],
    externalSecrets: false,
    stage: resolveTenantStage(tenantSchema.parse({ name, existing: true, ...stage }), undefined),
    acknowledge: [],
    ...extra,
  };
}

const restricted = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
};

function deployment(ns: string, name: string, podSpec: Json, podOverride?: Json): KubeObject[] {
  const template = { metadata: { labels: { app: name } }, spec: podSpec };
  const objects: KubeObject[] = [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: ns },
      spec: { template },
    },
    {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: `${name}-abc`, namespace: ns, ownerReferences: [{ kind: "Deployment", name }] },
      spec: { template },
    },
  ];
  objects.push({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${name}-abc-1`,
      namespace: ns,
      labels: { app: name },
      ownerReferences: [{ kind: "ReplicaSet", name: `${name}-abc` }],
    },
    spec: podOverride ?? podSpec,
    status: { phase: "Running" },
  });
  return objects;
}

const ns = (name: string, labels: Record<string, string> = {}, managedFields?: Json[]): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels, ...(managedFields ? { managedFields } : {}) },
});
const container = (name: string, extra: Json = {}) => ({ name, image: `${name}:1.0`, ...extra });
const planObject = (
  kind: string,
  name: string,
  namespace: string | undefined,
  props: Json,
  extra: Partial<PlanObject> = {},
): PlanObject => ({
  kind,
  group: kind === "NetworkPolicy" ? "networking.k8s.io" : "",
  ...(namespace ? { namespace } : {}),
  name,
  patch: false,
  imported: false,
  props: { metadata: { name, ...(namespace ? { namespace } : {}) }, ...props },
  urn: `urn:${kind}:${name}`,
  ...extra,
});

describe("preflight checks", () => {
  describe("inventory files", () => {
    it("reads a kind: List and refuses anything else, naming the file", () => {
      const inventory = parseInventory(
        "x.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n",
      );
      assert.ok(inventory.hasNamespace("a"));
      assert.throws(
        () => parseInventory("pods.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"),
        (e: InventoryError) => e.file === "pods.yaml" && /not a kind: List/.test(e.message),
      );
      assert.throws(
        () => parseInventory("bad.yaml", "kind: List\nitems:\n- kind: Pod\n"),
        /items\[0\] is not a Kubernetes object/,
      );
      assert.throws(() => parseInventory("bad.yaml", "kind: [List"), /not YAML/);
    });
  });

  describe("pod-security (the project's own PSS rule, baseline and restricted)", () => {
    const inventory = new Inventory("t.yaml", [
      ns("t"),
      ...deployment("t", "compliant", {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        containers: [container("app", { securityContext: restricted })],
      }),
      ...deployment("t", "root", { containers: [container("app")] }),
      ...deployment("t", "hostpath", {
        containers: [container("app")],
        volumes: [{ name: "logs", hostPath: { path: "/var/log" } }],
      }),
      // Clean template, but the live pod carries an injected istio-init with NET_ADMIN.
      ...deployment(
        "t",
        "meshed",
        {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          containers: [container("app", { securityContext: restricted })],
        },
        {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          initContainers: [
            container("istio-init", {
              securityContext: {
                runAsUser: 0,
                runAsNonRoot: false,
                capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] },
                allowPrivilegeEscalation: false,
              },
            }),
          ],
          containers: [container("app", { securityContext: restricted })],
        },
      ),
      {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "report", namespace: "t" },
        spec: { jobTemplate: { spec: { template: { spec: { containers: [container("report")] } } } } },
      },
    ]);
    const names = (findings: { name: string }[]) => findings.map((f) => f.name).sort();

    it("enforce restricted: every non-compliant workload is an error, judged on templates (CronJobs too) and live pods", () => {
      const findings = podSecurityFindings(
        inventory,
        "c",
        tenant("t", { podSecurity: { enforce: "restricted" } }),
      );
      assert.deepEqual(names(findings), ["hostpath", "meshed", "report", "root"]);
      assert.ok(findings.every((f) => f.severity === "error" && f.category === "pod-security"));
      const meshed = findings.find((f) => f.name === "meshed");
      assert.match(meshed?.detail ?? "", /capabilities \(init container "istio-init"\)/);
      assert.match(findings.find((f) => f.name === "report")?.detail ?? "", /at its next run/);
    });

    it("enforce baseline: root passes, hostPath and NET_ADMIN do not", () => {
      const findings = podSecurityFindings(
        inventory,
        "c",
        tenant("t", { podSecurity: { enforce: "baseline", audit: "baseline", warn: "baseline" } }),
      );
      assert.deepEqual(names(findings), ["hostpath", "meshed"]);
    });

    it("enforce kept: what audit/warn restricted would reject is a warning, never an error", () => {
      const findings = podSecurityFindings(inventory, "c", tenant("t"));
      assert.deepEqual(names(findings), ["hostpath", "meshed", "report", "root"]);
      assert.ok(findings.every((f) => f.severity === "warning"));
    });

    it("privileged everywhere: nothing to report", () => {
      assert.deepEqual(
        podSecurityFindings(
          inventory,
          "c",
          tenant("t", { podSecurity: { enforce: "privileged", audit: "privileged", warn: "privileged" } }),
        ),
        [],
      );
    });
  });

  describe("quota", () => {
    const noLimits = {
      containers: [container("app", { resources: { requests: { cpu: "500m", memory: "1Gi" } } })],
    };
    const quota = (hard: Record<string, string>) =>
      planObject("ResourceQuota", "hubspoke-quota", "t", { spec: { hard } });
    const limits = (item: Json) =>
      planObject("LimitRange", "hubspoke-limits", "t", {
        spec: { limits: [{ type: "Container", ...item }] },
      });
    const inventory = (extra: KubeObject[] = []) =>
      new Inventory("t.yaml", [ns("t"), ...deployment("t", "app", noLimits), ...extra]);

    it("passes a quota on requests only, and a limits quota whose LimitRange defaults the limits above every request", () => {
      assert.deepEqual(
        quotaFindings(inventory(), "c", tenant("t"), [quota({ "requests.cpu": "8", pods: "20" })]),
        [],
      );
      assert.deepEqual(
        quotaFindings(inventory(), "c", tenant("t"), [
          quota({ "limits.memory": "16Gi" }),
          limits({ default: { cpu: "1", memory: "2Gi" } }),
        ]),
        [],
      );
    });

    it("reports a quota on limits.* with containers that set none and no LimitRange default", () => {
      const [finding] = quotaFindings(inventory(), "c", tenant("t"), [quota({ "limits.cpu": "16" })]);
      assert.equal(finding.severity, "error");
      assert.match(finding.detail, /tracks limits\.cpu: container "app" sets none/);
    });

    it("reports a LimitRange default limit below an existing request, and a second LimitRange", () => {
      const existing = {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: { name: "defaults", namespace: "t" },
        spec: { limits: [{ type: "Container", defaultRequest: { memory: "256Mi" } }] },
      } as KubeObject;
      const findings = quotaFindings(inventory([existing]), "c", tenant("t"), [
        limits({ default: { memory: "512Mi" } }),
      ]);
      assert.equal(findings.length, 2);
      assert.match(
        findings.find((f) => f.kind === "Deployment")?.detail ?? "",
        /512Mi, below its request 1Gi/,
      );
      assert.match(findings.find((f) => f.kind === "LimitRange")?.detail ?? "", /not deterministic/);
    });

    it("reports current usage above a new hard limit", () => {
      const [finding] = quotaFindings(inventory(), "c", tenant("t"), [quota({ "requests.memory": "512Mi" })]);
      assert.equal(finding.kind, "ResourceQuota");
      assert.match(finding.detail, /requests\.memory in use 1Gi exceeds the new hard limit 512Mi/);
    });
  });

  describe("name-collision", () => {
    const inventory = new Inventory("t.yaml", [
      ns("conjur-system"),
      ns("t"),
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "hubspoke-default-deny", namespace: "t" },
      },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "default-deny", namespace: "t" },
      },
    ]);

    it("reports an object the stack creates that exists (error), and one the enforce stage would create (warning)", () => {
      const planned = [
        planObject("Namespace", "conjur-system", undefined, {}),
        planObject("NetworkPolicy", "default-deny", "conjur-system", {}),
      ];
      const wouldRender = [planObject("NetworkPolicy", "hubspoke-default-deny", "t", {})];
      const findings = nameCollisionFindings(inventory, "c", planned, wouldRender, new Set(["t"]));
      assert.deepEqual(
        findings.map((f) => [f.kind, f.namespace, f.name, f.severity]),
        [
          ["Namespace", "conjur-system", "conjur-system", "error"],
          ["NetworkPolicy", "t", "hubspoke-default-deny", "warning"],
        ],
      );
    });

    it("passes patches and imports (they target existing objects by design) and prefixed names next to the tenant's own", () => {
      const planned = [
        planObject("Namespace", "t", undefined, {}, { patch: true }),
        planObject("Namespace", "t", undefined, {}, { imported: true }),
        planObject("NetworkPolicy", "hubspoke-allow-ingress", "t", {}),
      ];
      assert.deepEqual(nameCollisionFindings(inventory, "c", planned, [], new Set(["t"])), []);
    });
  });

  describe("label-conflict", () => {
    const managed = (manager: string, key: string) => ({
      manager,
      operation: "Apply",
      fieldsV1: { "f:metadata": { "f:labels": { [`f:${key}`]: {} } } },
    });
    const patch = planObject(
      "Namespace",
      "t",
      undefined,
      {
        metadata: {
          name: "t",
          labels: { "pod-security.kubernetes.io/audit": "restricted", "hubspoke.io/tenant": "t" },
        },
      },
      { patch: true },
    );

    it("passes new labels and labels already set to the same value by another manager", () => {
      const inventory = new Inventory("t.yaml", [
        ns("t", { "pod-security.kubernetes.io/audit": "restricted" }, [
          managed("kubectl-label", "pod-security.kubernetes.io/audit"),
        ]),
      ]);
      assert.deepEqual(labelConflictFindings(inventory, "c", [patch]), []);
    });

    it("reports a label with another value (the apply would be refused) as an error, naming its manager", () => {
      const inventory = new Inventory("t.yaml", [
        ns("t", { "pod-security.kubernetes.io/audit": "baseline" }, [
          managed("argocd-controller", "pod-security.kubernetes.io/audit"),
        ]),
      ]);
      const [finding] = labelConflictFindings(inventory, "c", [patch]);
      assert.equal(finding.severity, "error");
      assert.match(
        finding.detail,
        /is "baseline" \(managed by argocd-controller\), the stack sets "restricted"/,
      );
    });

    it("warns about a same-value label no manager owns (destroy would remove it), only when managed fields are listed", () => {
      const unowned = new Inventory("t.yaml", [
        ns("t", { "pod-security.kubernetes.io/audit": "restricted" }, []),
      ]);
      assert.equal(labelConflictFindings(unowned, "c", [patch])[0]?.severity, "warning");
      const unknown = new Inventory("t.yaml", [
        ns("t", { "pod-security.kubernetes.io/audit": "restricted" }),
      ]);
      assert.deepEqual(labelConflictFindings(unknown, "c", [patch]), []);
    });
  });
});
