// Validates the custom resources the stack writes (Argo CD, External Secrets) against the published
// models of their CRDs, as kubernetes-schema.ts does for built-in kinds: the generated validator
// (types, required fields, enums) plus the strict unknown-field pass over the same package's type
// declarations. Kinds with no published model (CyberArk's ConjurFollower) are checked with ajv
// against their CRD as the maker ships it (vendored under test/fixtures/crds), closed to fields the
// structural schema does not list. The packages ship ES modules with an `import`-only export map, so their files are
// loaded by path (Node 20.19+ loads ES modules through require).
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import * as YAML from "yaml";
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

/** `apiVersion/kind` -> the vendored CRD of a custom resource no model package covers. */
export const CRD_FIXTURES: Readonly<Record<string, string>> = {
  "conjur.cyberark.com/v1/ConjurFollower": "conjurfollowers.conjur.cyberark.com.yaml",
};

const fixtureValidators = new Map<string, ValidateFunction>();

/** The vendored CRD's schema for its served version, closed like the API server's structural pruning. */
export function crdFixtureValidator(apiVersion: string, kind: string): ValidateFunction | undefined {
  const key = `${apiVersion}/${kind}`;
  const fixture = CRD_FIXTURES[key];
  if (!fixture) return undefined;
  const cached = fixtureValidators.get(key);
  if (cached) return cached;
  const crd = YAML.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "crds", fixture), "utf8"));
  const version = crd.spec.versions.find(
    (v: { name: string }) => `${crd.spec.group}/${v.name}` === apiVersion,
  );
  if (!version) throw new Error(`${fixture} serves no ${apiVersion}`);
  // Structural schemas reject fields they do not list, as the API server prunes or refuses them.
  const closed = (schema: unknown): unknown => {
    if (schema && typeof schema === "object") {
      const node = schema as Record<string, unknown>;
      if (node["type"] === "object" && node["properties"] && node["additionalProperties"] === undefined)
        node["additionalProperties"] = false;
      for (const value of Object.values(node)) closed(value);
    }
    return schema;
  };
  const validate = new Ajv({ strict: false, allErrors: true }).compile(
    closed(structuredClone(version.schema.openAPIV3Schema)) as object,
  );
  fixtureValidators.set(key, validate);
  return validate;
}

export function isModelledCustomResource(apiVersion: string, kind: string): boolean {
  return crdModelFile(apiVersion, kind) !== undefined || CRD_FIXTURES[`${apiVersion}/${kind}`] !== undefined;
}

/** The CRD model's (or the vendored CRD's) verdict on one object. */
export function validateCustomResource(object: Record<string, unknown>): SchemaProblem[] {
  const apiVersion = String(object["apiVersion"]);
  const kind = String(object["kind"]);
  const fixture = crdFixtureValidator(apiVersion, kind);
  if (fixture) {
    if (fixture(object)) return [];
    return (fixture.errors ?? []).map((e) => ({
      path: e.instancePath,
      message: `${e.message ?? "invalid"}${e.keyword === "additionalProperties" ? ` (${JSON.stringify(e.params)})` : ""}`,
    }));
  }
  const file = crdModelFile(apiVersion, kind);
  if (!file) return [{ path: "", message: `no CRD model for ${apiVersion}/${kind}` }];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return modelProblems((require(file) as Record<string, ModelClass>)[kind], object);
}

/**
 * The strict unknown-field pass for custom resources with a model package (a vendored CRD is closed
 * to unknown fields by its own validator).
 */
export function customResourceFieldChecker(
  kinds: ReadonlyArray<{ apiVersion: string; kind: string }>,
): UnknownFieldChecker {
  const modelled = kinds.filter((k) => crdModelFile(k.apiVersion, k.kind) !== undefined);
  return new UnknownFieldChecker(modelled, (apiVersion, kind) => {
    const file = crdModelFile(apiVersion, kind);
    if (!file) throw new Error(`no CRD model for ${apiVersion}/${kind}`);
    return file;
  });
}
