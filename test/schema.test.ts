// Every object of every stack's manifests, as the plan writes them, against the Kubernetes schemas of
// one stated version (kubernetes-models, with unknown fields rejected), plus the API-server rules a
// schema does not carry (tools/manifest-checks.ts).
import { strict as assert } from "node:assert";
import { checkClusterManifests, checkNamespacesExist, formatManifestProblem } from "../tools/manifest-checks";
import {
  isBuiltInKind,
  KUBERNETES_SCHEMA_VERSION,
  SchemaProblem,
  UnknownFieldChecker,
  validateWithModel,
} from "./support/kubernetes-schema";
import { ManifestDocument, plannedStack, readManifests } from "./support/plans";
import {
  crdModelFile,
  CRD_MODELS,
  customResourceFieldChecker,
  isModelledCustomResource,
  validateCustomResource,
} from "./support/crd-schema";
import { projectConfig, STACKS } from "./support/stacks";
import { buildStackSpec } from "../stacks/spec";
import { formatConfigError } from "../stacks/errors";

const describeDoc = (doc: ManifestDocument): string => {
  const metadata = doc.object["metadata"] as { name?: string; namespace?: string } | undefined;
  return `${doc.cluster}: ${String(doc.object["kind"])} ${metadata?.namespace ?? ""}/${metadata?.name ?? ""}`;
};

/** Namespaces a cluster needs before the stack runs (docs/gitops.md): Argo CD's, on the hub. */
function prerequisites(stack: string, cluster: string): string[] {
  const result = buildStackSpec(projectConfig(stack));
  if (!result.ok) throw new Error(result.errors.map(formatConfigError).join("\n"));
  const { spec } = result;
  return spec.argocd && cluster === spec.hub.cluster ? [spec.argocd.namespace] : [];
}

describe(`manifests against the Kubernetes ${KUBERNETES_SCHEMA_VERSION} schemas`, () => {
  const documents = new Map<string, ManifestDocument[]>();
  let checker: UnknownFieldChecker;
  let crdChecker: UnknownFieldChecker;

  before(async () => {
    for (const stack of STACKS) documents.set(stack, readManifests((await plannedStack(stack)).outDir));
    const kinds = new Map<string, { apiVersion: string; kind: string }>();
    const customKinds = new Map<string, { apiVersion: string; kind: string }>();
    for (const doc of [...documents.values()].flat()) {
      const apiVersion = String(doc.object["apiVersion"]);
      const kind = String(doc.object["kind"]);
      if (isBuiltInKind(apiVersion, kind)) kinds.set(`${apiVersion}/${kind}`, { apiVersion, kind });
      else if (isModelledCustomResource(apiVersion, kind))
        customKinds.set(`${apiVersion}/${kind}`, { apiVersion, kind });
    }
    checker = new UnknownFieldChecker([...kinds.values()]);
    crdChecker = customResourceFieldChecker([...customKinds.values()]);
  });

  const schemaProblems = (object: Record<string, unknown>): SchemaProblem[] => [
    ...validateWithModel(object),
    ...checker.check(object),
  ];

  for (const stack of STACKS) {
    it(`validates every object of stack ${stack}, unknown fields rejected`, () => {
      const docs = documents.get(stack) ?? [];
      assert.ok(docs.length > 20, `${stack} has ${docs.length} documents`);
      const problems: string[] = [];
      for (const doc of docs) {
        const apiVersion = String(doc.object["apiVersion"]);
        const kind = String(doc.object["kind"]);
        if (!isBuiltInKind(apiVersion, kind)) {
          // Custom resources: the published models of their CRDs (Argo CD, External Secrets v1), or
          // the vendored CRD where no model exists (ConjurFollower).
          if (!isModelledCustomResource(apiVersion, kind)) {
            problems.push(`${describeDoc(doc)}: no CRD model for ${apiVersion}/${kind}`);
            continue;
          }
          const unknownFields = crdModelFile(apiVersion, kind) ? crdChecker.check(doc.object) : [];
          for (const p of [...validateCustomResource(doc.object), ...unknownFields])
            problems.push(`${describeDoc(doc)}: ${p.path}: ${p.message}`);
          continue;
        }
        for (const p of schemaProblems(doc.object))
          problems.push(`${describeDoc(doc)}: ${p.path}: ${p.message}`);
      }
      assert.deepEqual(problems, []);
    });

    it(`meets the API server's name, label, port and selector rules in stack ${stack}`, () => {
      const byCluster = new Map<string, Record<string, unknown>[]>();
      for (const doc of documents.get(stack) ?? []) {
        byCluster.set(doc.cluster, [...(byCluster.get(doc.cluster) ?? []), doc.object]);
      }
      const problems = [...byCluster].flatMap(([cluster, objects]) =>
        [
          ...checkClusterManifests(objects),
          ...checkNamespacesExist(objects, prerequisites(stack, cluster)),
        ].map((p) => `${cluster}: ${formatManifestProblem(p)}`),
      );
      assert.deepEqual(problems, []);
    });
  }

  it("accepts the partial Namespace documents of server-side apply patches (adopted tenant namespaces)", () => {
    const patches = [...documents.values()]
      .flat()
      .filter((doc) => doc.comment.includes("server-side apply patch"));
    assert.ok(patches.length > 0, "the stacks adopt at least one namespace by patch");
    for (const patch of patches) {
      assert.equal(patch.object["kind"], "Namespace");
      assert.deepEqual(Object.keys(patch.object).sort(), ["apiVersion", "kind", "metadata"]);
      assert.deepEqual(schemaProblems(patch.object), [], describeDoc(patch));
    }
  });

  describe("catches what the API server would reject", () => {
    const deployment = (): Record<string, unknown> => {
      const found = (documents.get("prod") ?? []).find((doc) => doc.object["kind"] === "Deployment");
      assert.ok(found, "prod has a Deployment");
      return structuredClone(found.object);
    };

    it("a misspelt field: spec.replicas written spec.replica", () => {
      const object = deployment();
      const spec = object["spec"] as Record<string, unknown>;
      spec["replica"] = spec["replicas"];
      delete spec["replicas"];
      const problems = schemaProblems(object);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0].path, "spec.replica");
      assert.match(problems[0].message, /unknown field "replica"/);
      assert.match(
        problems[0].message,
        new RegExp(`DeploymentSpec of Kubernetes ${KUBERNETES_SCHEMA_VERSION}`),
      );
    });

    it("a misspelt field deep in the pod template", () => {
      const object = deployment();
      const container = (object as any).spec.template.spec.containers[0];
      container.readinesProbe = container.readinessProbe;
      assert.deepEqual(
        checker.check(object).map((p) => p.path),
        ["spec.template.spec.containers[0].readinesProbe"],
      );
    });

    it("a wrong type, a missing required field and a malformed quantity", () => {
      const object = deployment() as any;
      object.spec.replicas = "two";
      delete object.spec.template.spec.containers[0].name;
      object.spec.template.spec.containers[0].resources.limits.memory = "lots";
      const paths = new Set(validateWithModel(object).map((p) => p.path));
      for (const path of [
        "spec.replicas",
        "spec.template.spec.containers[0]",
        "spec.template.spec.containers[0].resources.limits.memory",
      ]) {
        assert.ok(paths.has(path), `${path} not reported: ${[...paths].join(", ")}`);
      }
    });

    it("a selector that no longer matches its template", () => {
      const object = deployment() as any;
      object.spec.template.metadata.labels["app.kubernetes.io/name"] = "renamed";
      const problems = checkClusterManifests([object]).map((p) => p.path);
      assert.ok(problems.includes("spec.selector"), problems.join(", "));
    });
  });
  describe("custom resources against the published CRD models", () => {
    const customResource = (kind: string): Record<string, unknown> => {
      const found = (documents.get("staging") ?? []).find((doc) => doc.object["kind"] === kind);
      assert.ok(found, `staging has a ${kind}`);
      return structuredClone(found.object);
    };

    it("covers Argo CD argoproj.io/v1alpha1 and External Secrets external-secrets.io/v1", () => {
      assert.deepEqual(Object.keys(CRD_MODELS).sort(), ["argoproj.io/v1alpha1", "external-secrets.io/v1"]);
      for (const [apiVersion, kind] of [
        ["argoproj.io/v1alpha1", "AppProject"],
        ["argoproj.io/v1alpha1", "ApplicationSet"],
        ["external-secrets.io/v1", "SecretStore"],
        ["external-secrets.io/v1", "ExternalSecret"],
      ])
        assert.ok(isModelledCustomResource(apiVersion, kind), `${apiVersion}/${kind}`);
      assert.equal(isModelledCustomResource("external-secrets.io/v1beta2", "SecretStore"), false);
      assert.ok(isModelledCustomResource("conjur.cyberark.com/v1", "ConjurFollower"), "vendored CRD");
    });

    it("validates the ConjurFollower against CyberArk's CRD: a misspelt field and a wrong type are refused", () => {
      const object = customResource("ConjurFollower") as any;
      assert.deepEqual(validateCustomResource(object), []);
      object.spec.replica = object.spec.replicas;
      object.spec.replicas = "three";
      const problems = validateCustomResource(object);
      assert.ok(
        problems.some((p) => p.path === "/spec/replicas"),
        JSON.stringify(problems),
      );
      assert.ok(
        problems.some((p) => /replica"/.test(p.message)),
        JSON.stringify(problems),
      );
    });

    it("rejects a misspelt field and a wrong type in the ApplicationSet", () => {
      const object = customResource("ApplicationSet") as any;
      object.spec.generators[0].cluster = object.spec.generators[0].clusters;
      delete object.spec.generators[0].clusters;
      object.spec.goTemplate = "yes";
      assert.deepEqual(
        crdChecker.check(object).map((p) => p.path),
        ["spec.generators[0].cluster"],
      );
      assert.ok(validateCustomResource(object).some((p) => p.path === "spec.goTemplate"));
    });

    it("rejects an AppProject destination with an unknown field", () => {
      const object = customResource("AppProject") as any;
      object.spec.destinations[0].namespaces = ["x"];
      assert.deepEqual(
        crdChecker.check(object).map((p) => p.path),
        ["spec.destinations[0].namespaces"],
      );
    });
  });
});
