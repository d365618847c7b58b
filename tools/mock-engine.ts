// Runs the real program (index.ts, unchanged) on Pulumi's mock runtime and records every resource
// registration: type, name, inputs (secrets still marked), provider, parent, the resource options as
// the engine receives them, and which input paths carry another resource's outputs. The plan tool,
// the benchmark and the tests all evaluate stacks through this one function.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { formatPropertyPath, PathSegment } from "./property-path";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Marker for every computed value the mock invents, so no placeholder passes for real material. */
export const PLACEHOLDER = "PLACEHOLDER";

/** Resource options as the engine receives them (`protect` after inheritance from the parent). */
export interface RecordedOptions {
  /** A read of an existing object (`Resource.get`): the stack does not manage it. */
  readonly read: boolean;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly import?: string;
  readonly ignoreChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  /** URNs named in `dependsOn`, as written (a component stays a component). */
  readonly dependsOn: readonly string[];
  readonly replaceOnChanges: readonly string[];
  /** Earlier URNs of this resource (`aliases`), resolved to full URNs. */
  readonly aliases: readonly string[];
}

export const NO_OPTIONS: RecordedOptions = {
  read: false,
  protect: false,
  retainOnDelete: false,
  ignoreChanges: [],
  deleteBeforeReplace: false,
  dependsOn: [],
  replaceOnChanges: [],
  aliases: [],
};

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** Inputs as the provider would receive them; secret values are wrapped (see isSecretWrapper). */
  readonly inputs: Record<string, unknown>;
  /** Provider reference (`urn::id`) or undefined when the resource named none. */
  readonly provider: string | undefined;
  /** `type::name` of the parent resource, undefined for the stack's direct children. */
  readonly parent: string | undefined;
  readonly options: RecordedOptions;
  /**
   * Input path (Pulumi property-path syntax, `spec.template.spec.volumes[0].secret.secretName`) ->
   * URNs of the custom resources whose outputs flow into it: what becomes unknown in a preview when
   * one of them is replaced. Components are expanded to their custom descendants, as the engine does.
   */
  readonly dependencies: Readonly<Record<string, readonly string[]>>;
}

export interface Evaluation {
  readonly stack: string;
  readonly resources: RecordedResource[];
  /** Stack outputs, secret ones wrapped like inputs. */
  readonly outputs: Record<string, unknown>;
}

export interface EvaluateArgs {
  readonly stack: string;
  /** `namespace:key` -> value as in a stack file (objects stay objects). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Keys whose values are secret (from `secure:` entries). */
  readonly secretKeys?: readonly string[];
  /** Program entry; default the project's index.ts. */
  readonly program?: string;
  /**
   * What each `pulumi.StackReference` reads, by stack name: a shard's hub stack, from the hub plan's
   * outputs.json (tools/stack-references.ts). A reference to a stack not listed fails the evaluation.
   */
  readonly stackReferences?: Readonly<
    Record<string, { readonly outputs: Record<string, unknown>; readonly secretOutputNames: string[] }>
  >;
  /** Overrides for computed values, e.g. the secret-sentinel test. */
  readonly computed?: (
    type: string,
    name: string,
    inputs: Record<string, unknown>,
  ) => Record<string, unknown> | undefined;
}

export const PROJECT_ROOT = path.resolve(__dirname, "..");
export const PROJECT_NAME = "hubspoke";

export function isSecretWrapper(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** The region stand-in ARNs name (the mock does not know a resource's provider region). */
const PLACEHOLDER_AWS_REGION = "aws-region";

/** Clearly marked stand-ins for what providers compute (keys, certificates, random values). */
export function placeholderOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const pem = (label: string) => `-----BEGIN ${label}-----\n${PLACEHOLDER} ${name}\n-----END ${label}-----\n`;
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return {
        privateKeyPem: pem("PRIVATE KEY"),
        privateKeyPemPkcs8: pem("PRIVATE KEY"),
        publicKeyPem: pem("PUBLIC KEY"),
        publicKeyOpenssh: `ssh-rsa ${PLACEHOLDER}-${name}`,
        publicKeyFingerprintSha256: `${PLACEHOLDER}-${name}`,
      };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { certPem: pem("CERTIFICATE"), readyForRenewal: false, validityEndTime: "2036-01-01T00:00:00Z" };
    case "tls:index/certRequest:CertRequest":
      return { certRequestPem: pem("CERTIFICATE REQUEST") };
    case "random:index/randomBytes:RandomBytes": {
      const bytes = Buffer.alloc(Number(inputs["length"] ?? 32));
      Buffer.from(`${PLACEHOLDER}:${name}`).copy(bytes);
      return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    case "random:index/randomPassword:RandomPassword":
      return { result: `${PLACEHOLDER}-password-${name}`, bcryptHash: `${PLACEHOLDER}-bcrypt-${name}` };
    case "aws:kms/key:Key":
      return {
        keyId: `${PLACEHOLDER}-${name}`,
        arn: `arn:aws:kms:${PLACEHOLDER_AWS_REGION}:000000000000:key/${PLACEHOLDER}-${name}`,
      };
    default:
      // AWS resources the program reads an ARN of (roles, secrets): a recognisable stand-in.
      if (type.startsWith("aws:") && !type.startsWith("aws:s3/")) {
        const service = type.slice(4, type.indexOf("/"));
        return { arn: `arn:aws:${service}:${PLACEHOLDER_AWS_REGION}:000000000000:${PLACEHOLDER}-${name}` };
      }
      return {};
  }
}

/** Fields the API server sets on every object it stores (a uid), so `apply`s on them resolve. */
export function kubernetesServerFields(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  if (!type.startsWith("kubernetes:")) return {};
  const metadata =
    typeof inputs["metadata"] === "object" && inputs["metadata"] !== null ? inputs["metadata"] : {};
  return { metadata: { ...metadata, uid: `${PLACEHOLDER}-uid-${name}` } };
}

/** What reading an existing object returns: the objects the program reads back from a cluster. */
export function placeholderReadState(type: string, name: string): Record<string, unknown> {
  if (type === "kubernetes:core/v1:Secret") {
    // A service-account token Secret, filled by the token controller.
    return { data: { token: Buffer.from(`${PLACEHOLDER}-token-${name}`).toString("base64") } };
  }
  if (type === "kubernetes:core/v1:ConfigMap") {
    // kube-root-ca.crt: the cluster's public CA.
    return {
      data: { "ca.crt": `-----BEGIN CERTIFICATE-----\n${PLACEHOLDER} ${name}\n-----END CERTIFICATE-----\n` },
    };
  }
  return {};
}

/** Stand-ins for provider functions the program calls (EKS cluster lookup). */
export function placeholderInvoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (token === "aws:eks/getCluster:getCluster") {
    const name = typeof inputs["name"] === "string" ? inputs["name"] : "cluster";
    const region = typeof inputs["region"] === "string" ? inputs["region"] : "us-east-1";
    return {
      name,
      endpoint: `https://${name}.${PLACEHOLDER.toLowerCase()}.${region}.eks.amazonaws.com`,
      certificateAuthorities: [{ data: Buffer.from(`${PLACEHOLDER} ${name} cluster CA`).toString("base64") }],
      arn: `arn:aws:eks:${region}:000000000000:cluster/${name}`,
      identities: [
        { oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${PLACEHOLDER}-${name}` }] },
      ],
      id: name,
    };
  }
  return {};
}

/** Pulumi hands config to programs as strings: objects as JSON, scalars as text. */
export function configAsStrings(config: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

function clearProgramModules(): void {
  const nodeModules = `${path.sep}node_modules${path.sep}`;
  for (const key of Object.keys(require.cache)) {
    if (
      key.startsWith(PROJECT_ROOT) &&
      !key.includes(nodeModules) &&
      !key.includes(`${path.sep}tools${path.sep}`)
    ) {
      delete require.cache[key];
    }
  }
}

/** Waits until no new registration has arrived for a few turns of the event loop. */
async function settle(count: () => number): Promise<void> {
  let last = -1;
  let stableTurns = 0;
  while (stableTurns < 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const now = count();
    stableTurns = now === last ? stableTurns + 1 : 0;
    last = now;
  }
}

const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";

/** A StackReference's state as the engine reads it: the referenced stack's outputs. */
function stackReference(m: pulumi.runtime.MockResourceArgs, args: EvaluateArgs) {
  const given: unknown = (m.inputs as Record<string, unknown>)["name"];
  const name = typeof given === "string" ? given : m.name;
  const referenced = args.stackReferences?.[name];
  if (!referenced)
    throw new Error(`no outputs for the stack reference ${name} (plan the referenced stack first)`);
  return { id: name, state: { name, ...referenced } };
}

/**
 * Evaluates the program for one stack under the mocks. Throws what the program throws (a
 * ConfigValidationError for invalid config) before any resource is registered.
 */
export async function evaluateStack(args: EvaluateArgs): Promise<Evaluation> {
  // The program limits stack traces for itself (stacks/stack-traces.ts); the process that
  // evaluates it (a test run, the offline plan) gets its own setting back afterwards.
  const stackTraceLimit = Error.stackTraceLimit;
  try {
    return await evaluateProgram(args);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

async function evaluateProgram(args: EvaluateArgs): Promise<Evaluation> {
  const recorded = new Map<string, Omit<RecordedResource, "parent" | "options" | "dependencies">>();
  const options = new Map<string, { parent: string | undefined; transformOptions: TransformOptions }>();
  const engineOptions = new Map<string, EngineOptions>();
  const outputPaths = new Map<string, OutputAt[]>();
  const resourceKeys = new WeakMap<pulumi.Resource, string>();
  // `additionalSecretOutputs` per resource: the engine marks these outputs secret (random results,
  // private keys); Pulumi's mock monitor ignores the option, so the mock does it here.
  const secretOutputs = new Map<string, readonly string[]>();

  const mocks: pulumi.runtime.Mocks = {
    newResource(m: pulumi.runtime.MockResourceArgs) {
      const inputs = m.inputs as Record<string, unknown>;
      const read = options.get(`${m.type}::${m.name}`)?.transformOptions.read ?? false;
      const state = {
        ...inputs,
        ...kubernetesServerFields(m.type, m.name, inputs),
        ...placeholderOutputs(m.type, m.name, inputs),
        ...(read ? placeholderReadState(m.type, m.name) : {}),
        ...(args.computed?.(m.type, m.name, inputs) ?? {}),
      };
      const key = `${m.type}::${m.name}`;
      for (const field of secretOutputs.get(key) ?? []) {
        if (state[field] !== undefined) state[field] = pulumi.secret(state[field]);
      }
      recorded.set(key, {
        urn: "",
        type: m.type,
        name: m.name,
        custom: m.custom ?? true,
        inputs,
        provider: m.provider || undefined,
      });
      if (m.type === STACK_REFERENCE_TYPE) return stackReference(m, args);
      return { id: m.id || `${m.name}-id`, state };
    },
    call(c: pulumi.runtime.MockCallArgs) {
      return placeholderInvoke(c.token, c.inputs as Record<string, unknown>);
    },
  };

  await pulumi.runtime.setMocks(mocks, PROJECT_NAME, args.stack, true);
  recordEngineOptions(engineOptions);
  pulumi.runtime.setAllConfig(configAsStrings(args.config), [...(args.secretKeys ?? [])]);
  clearProgramModules();
  const program = args.program ?? path.join(PROJECT_ROOT, "index.ts");

  let exported: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(() => {
    pulumi.runtime.registerStackTransformation((t) => {
      const key = `${t.type}::${t.name}`;
      resourceKeys.set(t.resource, key);
      const parent = t.opts.parent ? resourceKeys.get(t.opts.parent) : undefined;
      const opts = t.opts as pulumi.CustomResourceOptions;
      if (opts.additionalSecretOutputs?.length) secretOutputs.set(key, opts.additionalSecretOutputs);
      outputPaths.set(key, outputsIn(t.props));
      options.set(key, {
        parent: parent && !parent.startsWith("pulumi:pulumi:Stack::") ? parent : undefined,
        transformOptions: {
          read: typeof opts.id === "string" || pulumi.Output.isInstance(opts.id),
          dependsOn: dependsOnResources(opts.dependsOn)
            .map((r) => resourceKeys.get(r))
            .filter((k): k is string => k !== undefined),
        },
      });
      return undefined;
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exported = { ...(require(program) as Record<string, unknown>) };
    return Promise.resolve(exported);
  });
  await settle(() => recorded.size);

  const outputs: Record<string, unknown> = {};
  // Resolved from the module's own exports: the stack's resolved outputs no longer say what is secret.
  for (const [key, value] of Object.entries(exported)) {
    outputs[key] = await resolveOutput(value);
  }

  const urnOf = (key: string) => buildUrn(args.stack, key, options);
  const customDescendants = descendantsOf(recorded, options);
  const resources: RecordedResource[] = [];
  for (const [key, r] of recorded) {
    const meta = options.get(key);
    const engine = engineOptions.get(key);
    const parentKey = meta?.parent;
    const dependencies: Record<string, string[]> = {};
    for (const { path: at, resources: sources } of await resolveOutputsAt(outputPaths.get(key) ?? [])) {
      const keys = new Set<string>();
      for (const source of sources) {
        const sourceKey = resourceKeys.get(source);
        if (sourceKey === undefined || sourceKey === key || sourceKey.startsWith("pulumi:pulumi:Stack::"))
          continue;
        for (const k of recorded.get(sourceKey)?.custom === false
          ? customDescendants(sourceKey)
          : [sourceKey])
          keys.add(k);
      }
      if (keys.size) dependencies[formatPropertyPath(at)] = [...keys].map(urnOf).sort();
    }
    resources.push({
      ...r,
      urn: urnOf(key),
      parent: parentKey,
      provider: r.provider ? realProviderReference(r.provider, args.stack, options) : undefined,
      options: {
        ...NO_OPTIONS,
        ...(engine ?? {}),
        read: meta?.transformOptions.read ?? false,
        dependsOn: (meta?.transformOptions.dependsOn ?? []).map(urnOf),
        aliases: (engine?.aliases ?? []).map((alias) =>
          typeof alias === "string" ? alias : aliasUrn(args.stack, key, parentKey, alias, options),
        ),
      },
      dependencies,
    });
  }
  return { stack: args.stack, resources: resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), outputs };
}

interface TransformOptions {
  readonly read: boolean;
  /** `type::name` keys of the resources named in `dependsOn`. */
  readonly dependsOn: readonly string[];
}

interface AliasSpec {
  readonly name?: string;
  readonly type?: string;
  /** `type::name` key of the alias's parent; null: no parent; undefined: the resource's own parent. */
  readonly parent?: string | null;
}

type EngineOptions = Omit<RecordedOptions, "read" | "dependsOn" | "aliases"> & {
  readonly aliases: readonly (string | AliasSpec)[];
};

/** `urn:pulumi:s::p::A$B::name` (the mock monitor's URN shape) -> `B::name`. */
function keyOfMockUrn(urn: string): string {
  const parts = urn.split("::");
  const qualified = parts[2] ?? "";
  return `${qualified.slice(qualified.lastIndexOf("$") + 1)}::${parts.slice(3).join("::")}`;
}

/**
 * Wraps the mock monitor so every RegisterResource request's options are recorded as the engine
 * would receive them: after the SDK has applied inheritance (protect from the parent) and turned
 * aliases into alias specs.
 */
function recordEngineOptions(into: Map<string, EngineOptions>): void {
  type Monitor = {
    registerResource(req: RegisterResourceRequest, callback: (...args: unknown[]) => void): unknown;
  };
  const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const importId = req.getImportid();
    into.set(`${req.getType()}::${req.getName()}`, {
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
      ...(importId ? { import: importId } : {}),
      ignoreChanges: req.getIgnorechangesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      replaceOnChanges: req.getReplaceonchangesList(),
      aliases: req.getAliasesList().map((alias): string | AliasSpec => {
        const spec = alias.getSpec();
        if (!spec) return alias.getUrn();
        return {
          ...(spec.getName() ? { name: spec.getName() } : {}),
          ...(spec.getType() ? { type: spec.getType() } : {}),
          ...(spec.getNoparent()
            ? { parent: null }
            : spec.getParenturn()
              ? { parent: keyOfMockUrn(spec.getParenturn()) }
              : {}),
        };
      }),
    });
    return register(req, callback);
  };
}

interface OutputAt {
  readonly path: PathSegment[];
  readonly output: pulumi.Output<unknown>;
}

/** Every Output nested in a resource's input properties, with its path. */
function outputsIn(value: unknown, at: PathSegment[] = []): OutputAt[] {
  if (pulumi.Output.isInstance(value)) return [{ path: at, output: value }];
  if (pulumi.Resource.isInstance(value)) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => outputsIn(v, [...at, i]));
  if (typeof value === "object" && value !== null && !(value instanceof Promise)) {
    return Object.entries(value).flatMap(([k, v]) => outputsIn(v, [...at, k]));
  }
  return [];
}

/** The resources each Output depends on, the set the SDK sends as property dependencies. */
async function resolveOutputsAt(
  found: readonly OutputAt[],
): Promise<{ path: PathSegment[]; resources: pulumi.Resource[] }[]> {
  return Promise.all(
    found.map(async ({ path: at, output }) => {
      // OutputImpl's own bookkeeping (what the SDK serialises into propertyDependencies).
      const impl = output as unknown as {
        allResources?: () => Promise<Set<pulumi.Resource>>;
        resources: () => Set<pulumi.Resource>;
      };
      const all = impl.allResources ? await impl.allResources() : impl.resources();
      return { path: at, resources: [...all] };
    }),
  );
}

function dependsOnResources(dependsOn: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Resource[] {
  if (dependsOn === undefined) return [];
  const list: unknown[] = Array.isArray(dependsOn) ? dependsOn : [dependsOn];
  return list.filter((r): r is pulumi.Resource => pulumi.Resource.isInstance(r));
}

/** `type::name` -> the keys of its custom descendants (a dependency on a component is on these). */
function descendantsOf(
  recorded: ReadonlyMap<string, { custom: boolean }>,
  options: ReadonlyMap<string, { parent: string | undefined }>,
): (key: string) => string[] {
  const children = new Map<string, string[]>();
  for (const [key, meta] of options) {
    if (meta.parent) children.set(meta.parent, [...(children.get(meta.parent) ?? []), key]);
  }
  const walk = (key: string): string[] =>
    (children.get(key) ?? []).flatMap((child) =>
      recorded.get(child)?.custom === false ? walk(child) : [child, ...walk(child)],
    );
  return walk;
}

/** A provider reference `<mock urn>::<id>` with the URN in the engine's shape. */
function realProviderReference(
  reference: string,
  stack: string,
  options: Map<string, { parent: string | undefined }>,
): string {
  const cut = reference.lastIndexOf("::");
  return `${buildUrn(stack, keyOfMockUrn(reference.slice(0, cut)), options)}${reference.slice(cut)}`;
}

/** The URN an alias spec stands for: unset parts default to the resource's own. */
function aliasUrn(
  stack: string,
  key: string,
  parentKey: string | undefined,
  alias: AliasSpec,
  options: Map<string, { parent: string | undefined }>,
): string {
  const type = alias.type ?? key.slice(0, key.indexOf("::"));
  const name = alias.name ?? key.slice(key.indexOf("::") + 2);
  const parent = alias.parent === undefined ? parentKey : (alias.parent ?? undefined);
  const qualifiedParent = parent ? qualifiedType(parent, options) + "$" : "";
  return `urn:pulumi:${stack}::${PROJECT_NAME}::${qualifiedParent}${type}::${name}`;
}

function qualifiedType(key: string, options: Map<string, { parent: string | undefined }>): string {
  const types: string[] = [];
  let cursor: string | undefined = key;
  while (cursor) {
    types.unshift(cursor.slice(0, cursor.indexOf("::")));
    cursor = options.get(cursor)?.parent;
  }
  // The engine qualifies a type with its ancestors' types; the root Stack is not part of the chain.
  return types.join("$");
}

/** `urn:pulumi:<stack>::<project>::<Parent$...$Type>::<name>`, the engine's URN shape. */
function buildUrn(stack: string, key: string, options: Map<string, { parent: string | undefined }>): string {
  const name = key.slice(key.indexOf("::") + 2);
  return `urn:pulumi:${stack}::${PROJECT_NAME}::${qualifiedType(key, options)}::${name}`;
}

async function resolveOutput(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const secret = await pulumi.isSecret(value);
    const plain = await new Promise<unknown>((resolve) => value.apply((v) => resolve(v)));
    return secret ? { [SECRET_SIG_KEY]: SECRET_SIG, value: plain } : plain;
  }
  return value;
}
