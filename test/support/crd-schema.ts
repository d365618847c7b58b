// Validates the custom resources the stack writes (Argo CD, External Secrets) against the published
// models of their CRDs, as kubernetes-schema.ts does for built-in kinds: the generated validator
// (types, required fields, enums) plus the strict unknown-field pass over the same package's type
// declarations. The packages ship ES modules with an `import`-only export map, so their files are
// loaded by path (Node 20.19+ loads ES modules through require).
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelClass, modelProblems, SchemaProblem, UnknownFieldChecker } from "./kubernetes-schema";

/** apiVersion -> package and folder of its models. External Secrets: v1 (v1beta1 is no longer served). */
export const CRD_MODELS: Readonly<Record<string, { readonly pkg: string; readonly folder: string }>> = {
  "argoproj.io/v1alpha1": { pkg: "@kubernetes-models/argo-cd", folder: "argoproj.io/v1alpha1" },
  "external-secrets.io/v1": { pkg: "@kubernetes-models/external-secrets", folder: "external-secrets.io/v1" },
};

function packageDir(pkg: string): string {
  for (const base of require.resolve.paths(pkg) ?? []) {
    const dir = path.join(base, pkg);
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
  }
  throw new Error(`${pkg} is not installed (a devDependency)`);
}

/** The model file of a custom resource kind, or undefined when no CRD model covers it. */
export function crdModelFile(apiVersion: string, kind: string): string | undefined {
  const model = CRD_MODELS[apiVersion];
  if (!model) return undefined;
  const file = path.join(packageDir(model.pkg), model.folder, `${kind}.js`);
  return fs.existsSync(file) ? file : undefined;
}

export function isModelledCustomResource(apiVersion: string, kind: string): boolean {
  return crdModelFile(apiVersion, kind) !== undefined;
}

/** The CRD model's verdict on one object. */
export function validateCustomResource(object: Record<string, unknown>): SchemaProblem[] {
  const apiVersion = String(object["apiVersion"]);
  const kind = String(object["kind"]);
  const file = crdModelFile(apiVersion, kind);
  if (!file) return [{ path: "", message: `no CRD model for ${apiVersion}/${kind}` }];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return modelProblems((require(file) as Record<string, ModelClass>)[kind], object);
}

/** The strict unknown-field pass for custom resources. */
export function customResourceFieldChecker(
  kinds: ReadonlyArray<{ apiVersion: string; kind: string }>,
): UnknownFieldChecker {
  return new UnknownFieldChecker(kinds, (apiVersion, kind) => {
    const file = crdModelFile(apiVersion, kind);
    if (!file) throw new Error(`no CRD model for ${apiVersion}/${kind}`);
    return file;
  });
}
