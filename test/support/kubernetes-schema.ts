// Validates Kubernetes objects against the schemas of one Kubernetes version, as the API server would
// before admission: kubernetes-models' validators (generated from that version's OpenAPI document:
// types, required fields, enums, formats such as quantities) plus a strict pass that rejects fields the
// schema does not define. The generated validators accept unknown fields (the OpenAPI document does not
// forbid them), so the strict pass walks the same package's type declarations with the TypeScript
// checker: a misspelt `spec.replica` is not a field of io.k8s.api.apps.v1.DeploymentSpec there.
import * as path from "node:path";
import * as ts from "typescript";

/** The Kubernetes version kubernetes-models 4.5.x is generated from (its changelog: "schema version v1.33.0"). */
export const KUBERNETES_SCHEMA_VERSION = "1.33.0";
export const SCHEMA_PACKAGE = "kubernetes-models@4.5.1";

export interface SchemaProblem {
  /** JSON-pointer-like path inside the object, `spec.template.spec.containers[0].ports`. */
  readonly path: string;
  readonly message: string;
}

interface AjvLikeError {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

export interface ModelClass {
  new (data: Record<string, unknown>): { validate(): void };
}

/** `apps/v1` + `Deployment` -> the module of kubernetes-models that defines it. */
export function modelModule(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/** True when kubernetes-models knows this apiVersion/kind (built-in kinds); custom resources are not. */
export function isBuiltInKind(apiVersion: string, kind: string): boolean {
  try {
    require.resolve(modelModule(apiVersion, kind));
    return true;
  } catch {
    return false;
  }
}

function pointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce(
      (acc, segment) => (/^\d+$/.test(segment) ? `${acc}[${segment}]` : acc ? `${acc}.${segment}` : segment),
      "",
    );
}

/** The generated validator's verdict: types, required fields, enums and formats. */
export function validateWithModel(object: Record<string, unknown>): SchemaProblem[] {
  const apiVersion = String(object["apiVersion"]);
  const kind = String(object["kind"]);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(modelModule(apiVersion, kind)) as Record<string, ModelClass>;
  return modelProblems(module[kind], object);
}

/** A model class's verdict on an object (kubernetes-models and the CRD model packages share the shape). */
export function modelProblems(Model: ModelClass, object: Record<string, unknown>): SchemaProblem[] {
  try {
    new Model(object).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvLikeError[] }).errors;
    if (!errors) return [{ path: "", message: (err as Error).message }];
    return errors.map((e) => ({
      path: pointerToPath(e.instancePath ?? ""),
      message: `${e.message ?? "invalid"}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`,
    }));
  }
}

/** The strict pass: a TypeScript program over kubernetes-models' declarations, built once per kind set. */
export class UnknownFieldChecker {
  private readonly checker: ts.TypeChecker;
  private readonly rootTypes = new Map<string, ts.Type>();

  /** `resolve` finds a kind's model file (default: kubernetes-models' built-in kinds). */
  constructor(
    kinds: ReadonlyArray<{ apiVersion: string; kind: string }>,
    resolve: (apiVersion: string, kind: string) => string = (apiVersion, kind) =>
      require.resolve(modelModule(apiVersion, kind)),
  ) {
    const files = new Map<string, { apiVersion: string; kind: string }>();
    for (const k of kinds) {
      const js = resolve(k.apiVersion, k.kind);
      files.set(js.replace(/\.js$/, ".d.ts"), k);
    }
    const program = ts.createProgram([...files.keys()], {
      noEmit: true,
      skipLibCheck: true,
      strict: true,
      types: [],
      moduleResolution: ts.ModuleResolutionKind.Node10,
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
    });
    this.checker = program.getTypeChecker();
    for (const [file, k] of files) {
      const source = program.getSourceFile(file);
      if (!source) throw new Error(`kubernetes-models: cannot read ${path.basename(file)}`);
      const declaration = source.statements.find(
        (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === `I${k.kind}`,
      );
      if (!declaration) throw new Error(`kubernetes-models: no interface I${k.kind} in ${file}`);
      this.rootTypes.set(`${k.apiVersion}/${k.kind}`, this.checker.getTypeAtLocation(declaration.name));
    }
  }

  /** Every field of the object the schema of its kind does not define, at any depth. */
  check(object: Record<string, unknown>): SchemaProblem[] {
    const type = this.rootTypes.get(`${String(object["apiVersion"])}/${String(object["kind"])}`);
    if (!type) return [{ path: "", message: "kind not loaded into the unknown-field checker" }];
    const problems: SchemaProblem[] = [];
    this.walk(object, type, "", problems);
    return problems;
  }

  /** `apps/v1 DeploymentSpec`: where kubernetes-models declares the type, as the API reference names it. */
  private typeName(type: ts.Type): string {
    const file = (type.aliasSymbol ?? type.getSymbol())?.declarations?.[0]?.getSourceFile().fileName ?? "";
    const match = /kubernetes-models\/(?:apis\/)?(.+)\/([^/]+)\.d\.ts$/.exec(file);
    return match ? `${match[1]} ${match[2]}` : this.checker.typeToString(type);
  }

  private walk(value: unknown, declared: ts.Type, at: string, problems: SchemaProblem[]): void {
    if (value === null || value === undefined || typeof value !== "object") return; // scalars: the model validator
    let type = this.checker.getNonNullableType(declared);
    if (type.isUnion()) {
      // IntOrString and friends: only an object-shaped member can say anything about an object value.
      const objectMembers = type.types.filter((t) => (t.flags & ts.TypeFlags.Object) !== 0);
      if (objectMembers.length !== 1) return;
      type = objectMembers[0];
    }
    if (Array.isArray(value)) {
      if (!this.checker.isArrayType(type)) return; // the model validator reports the type mismatch
      const element = this.checker.getTypeArguments(type as ts.TypeReference)[0];
      value.forEach((item, index) => this.walk(item, element, `${at}[${index}]`, problems));
      return;
    }
    const stringIndex = this.checker.getIndexTypeOfType(type, ts.IndexKind.String);
    const properties = this.checker.getPropertiesOfType(type);
    if (properties.length === 0 && stringIndex === undefined) return; // free-form (RawExtension, JSON)
    for (const [key, item] of Object.entries(value)) {
      const fieldPath = at ? `${at}.${key}` : key;
      const property = this.checker.getPropertyOfType(type, key);
      if (property) {
        this.walk(item, this.checker.getTypeOfSymbol(property), fieldPath, problems);
      } else if (stringIndex) {
        this.walk(item, stringIndex, fieldPath, problems);
      } else {
        problems.push({
          path: fieldPath,
          message: `unknown field "${key}" (not in ${this.typeName(type)} of Kubernetes ${KUBERNETES_SCHEMA_VERSION})`,
        });
      }
    }
  }
}
