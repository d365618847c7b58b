// Runs the real program (index.ts, unchanged) on Pulumi's mock runtime and records every resource
// registration: type, name, inputs (secrets still marked), provider, parent and options. The plan
// tool, the benchmark and the tests all evaluate stacks through this one function.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Marker for every computed value the mock invents, so no placeholder passes for real material. */
export const PLACEHOLDER = "PLACEHOLDER";

export interface RecordedOptions {
  /** A read of an existing object (`Resource.get`): the stack does not manage it. */
  readonly read: boolean;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly import?: string;
  readonly ignoreChanges: readonly string[];
  readonly deleteBeforeReplace: boolean;
  readonly dependsOnCount: number;
}

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
    default:
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

/**
 * Evaluates the program for one stack under the mocks. Throws what the program throws (a
 * ConfigValidationError for invalid config) before any resource is registered.
 */
export async function evaluateStack(args: EvaluateArgs): Promise<Evaluation> {
  const recorded = new Map<string, Omit<RecordedResource, "parent" | "options">>();
  const options = new Map<string, { parent: string | undefined; options: RecordedOptions }>();
  const resourceKeys = new WeakMap<pulumi.Resource, string>();
  // `additionalSecretOutputs` per resource: the engine marks these outputs secret (random results,
  // private keys); Pulumi's mock monitor ignores the option, so the mock does it here.
  const secretOutputs = new Map<string, readonly string[]>();

  const mocks: pulumi.runtime.Mocks = {
    newResource(m: pulumi.runtime.MockResourceArgs) {
      const inputs = m.inputs as Record<string, unknown>;
      const read = options.get(`${m.type}::${m.name}`)?.options.read ?? false;
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
      return { id: m.id || `${m.name}-id`, state };
    },
    call(c: pulumi.runtime.MockCallArgs) {
      return placeholderInvoke(c.token, c.inputs as Record<string, unknown>);
    },
  };

  await pulumi.runtime.setMocks(mocks, PROJECT_NAME, args.stack, true);
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
      options.set(key, {
        parent: parent && !parent.startsWith("pulumi:pulumi:Stack::") ? parent : undefined,
        options: {
          read: typeof opts.id === "string" || pulumi.Output.isInstance(opts.id),
          protect: opts.protect === true,
          retainOnDelete: opts.retainOnDelete === true,
          ...(typeof opts.import === "string" ? { import: opts.import } : {}),
          ignoreChanges: opts.ignoreChanges ?? [],
          deleteBeforeReplace: opts.deleteBeforeReplace === true,
          dependsOnCount: Array.isArray(opts.dependsOn) ? opts.dependsOn.length : opts.dependsOn ? 1 : 0,
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

  const resources: RecordedResource[] = [];
  for (const [key, r] of recorded) {
    const meta = options.get(key);
    const parentKey = meta?.parent;
    resources.push({
      ...r,
      urn: buildUrn(args.stack, key, options),
      parent: parentKey,
      options: meta?.options ?? {
        read: false,
        protect: false,
        retainOnDelete: false,
        ignoreChanges: [],
        deleteBeforeReplace: false,
        dependsOnCount: 0,
      },
    });
  }
  return { stack: args.stack, resources: resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), outputs };
}

/** `urn:pulumi:<stack>::<project>::<Parent$...$Type>::<name>`, the engine's URN shape. */
function buildUrn(stack: string, key: string, options: Map<string, { parent: string | undefined }>): string {
  const types: string[] = [];
  let cursor: string | undefined = key;
  while (cursor) {
    types.unshift(cursor.slice(0, cursor.indexOf("::")));
    cursor = options.get(cursor)?.parent;
  }
  const name = key.slice(key.indexOf("::") + 2);
  // The engine qualifies a type with its ancestors' types; the root Stack is not part of the chain.
  const qualified = types.join("$");
  return `urn:pulumi:${stack}::${PROJECT_NAME}::${qualified}::${name}`;
}

async function resolveOutput(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const secret = await pulumi.isSecret(value);
    const plain = await new Promise<unknown>((resolve) => value.apply((v) => resolve(v)));
    return secret ? { [SECRET_SIG_KEY]: SECRET_SIG, value: plain } : plain;
  }
  return value;
}
