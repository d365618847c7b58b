// Compares two offline plans the way `pulumi preview` would see the change: per resource create,
// update (with the changed input paths), replace (and which input forces it), delete, and URN
// renames. Replace decisions come from tools/replace-rules.ts; the engine's own rules (aliases,
// ignoreChanges, replaceOnChanges, deleteBeforeReplace, provider changes, protect, dependents of a
// replacement) are applied here. Pure: plan documents in, a diff out.
import { formatPropertyPath, PathSegment, parsePropertyPath, pathContains, valueAt } from "./property-path";
import {
  generatesNewValues,
  isComponentType,
  KUBERNETES_PROVIDER_TYPE,
  kubernetesProviderSettings,
  ruleFor,
  TypeRule,
} from "./replace-rules";

export const SECRET_MARK = "[secret]";

/** A plan.json resource; options, parent and dependencies are absent in plans written before them. */
export interface DiffableResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly cluster: string | null;
  readonly inputs: unknown;
  readonly parent?: string | null;
  readonly options?: {
    readonly protect?: boolean;
    readonly retainOnDelete?: boolean;
    readonly import?: string | null;
    readonly ignoreChanges?: readonly string[];
    readonly dependsOn?: readonly string[];
    readonly replaceOnChanges?: readonly string[];
    readonly deleteBeforeReplace?: boolean;
    readonly aliases?: readonly string[];
    readonly provider?: string | null;
  };
  readonly dependencies?: Readonly<Record<string, readonly string[]>>;
}

export interface DiffablePlan {
  readonly stack: string;
  readonly resources: readonly DiffableResource[];
}

/**
 * Whether a secret value changed, from a comparison made without revealing it (both plans
 * evaluated in one run, compared in memory); undefined when the two plans come from different runs.
 */
export type SecretComparison = (urn: string, path: string) => "changed" | "unchanged" | undefined;

export type Operation = "create" | "update" | "replace" | "delete" | "cannot-tell";

export type ChangeKind =
  /** Added, removed or different value. */
  | "add"
  | "delete"
  | "update"
  /** A secret value: changed / unchanged known only from an in-run comparison. */
  | "secret-changed"
  | "secret-cannot-tell"
  /** Computed from a resource that is replaced: new material (keys, certificates, passwords). */
  | "regenerated"
  /** Unknown in a preview because the object it names is created or replaced; same after `up` unless that name changes. */
  | "unknown-in-preview"
  /**
   * A whole top-level input of a resource whose dependency is replaced delete-before-replace: the
   * engine asks the provider whether that forces a replacement too (it matters only if it does).
   */
  | "dependent-of-replacement"
  /** Changed, but ignoreChanges keeps the old value. */
  | "ignored";

export interface InputChange {
  readonly path: string;
  readonly kind: ChangeKind;
  /** Why this change makes Pulumi replace the resource. */
  readonly replaces?: string;
  /** The resources (URNs) a computed change comes from. */
  readonly from?: readonly string[];
}

export interface ResourceChange {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly cluster: string | null;
  /** URN of the top-level component this resource belongs to, or null. */
  readonly component: string | null;
  readonly op: Operation;
  readonly changes: readonly InputChange[];
  /** Replace reasons, what cannot be told and why, and notes a reviewer needs. */
  readonly reasons: readonly string[];
  readonly deleteBeforeReplace: boolean;
  /** The old URN when `aliases` carry the resource over (no replacement). */
  readonly aliasedFrom?: string;
  /** The URN on the other side of a delete + create that `aliases` would have avoided. */
  readonly renameWithoutAlias?: string;
  /** protect (in the state): Pulumi stops instead of replacing or deleting. */
  readonly protectStops?: boolean;
  /** retainOnDelete: the object stays on the cluster, Pulumi forgets it. */
  readonly retained?: boolean;
  /** The old plan has no options for this resource (written before plans carried them). */
  readonly optionsUnknown?: boolean;
  /** The resource adopts an existing object (`import`). */
  readonly imported?: string;
}

export interface PlanDiff {
  readonly stack: string;
  /** Every resource that is not unchanged, in the new plan's order, deletes after. */
  readonly resources: readonly ResourceChange[];
  readonly counts: Readonly<Record<Operation | "same", number>>;
  /** The old plan predates options in plan.json: protect/retain verdicts of deletes cannot be told. */
  readonly oldPlanHasOptions: boolean;
}

interface Pair {
  readonly old: DiffableResource;
  readonly new: DiffableResource;
  readonly aliasedFrom?: string;
}

interface Verdict {
  op: Operation | "same";
  changes: InputChange[];
  reasons: string[];
  deleteBeforeReplace: boolean;
  protectStops?: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Every leaf difference between two redacted input trees. */
export function inputDifferences(
  oldValue: unknown,
  newValue: unknown,
  at: PathSegment[] = [],
): { path: PathSegment[]; kind: "add" | "delete" | "update" | "secret" }[] {
  if (oldValue === SECRET_MARK && newValue === SECRET_MARK) return [{ path: at, kind: "secret" }];
  // A plan written before Secrets kept their key names has one `[secret]` for the whole map.
  if (
    oldValue === SECRET_MARK &&
    isRecord(newValue) &&
    Object.values(newValue).every((v) => v === SECRET_MARK)
  )
    return [{ path: at, kind: "secret" }];
  if (isRecord(oldValue) && isRecord(newValue)) {
    const keys = [...new Set([...Object.keys(oldValue), ...Object.keys(newValue)])];
    return keys.flatMap((k) => {
      if (!(k in newValue)) return [{ path: [...at, k], kind: "delete" as const }];
      if (!(k in oldValue)) return [{ path: [...at, k], kind: "add" as const }];
      return inputDifferences(oldValue[k], newValue[k], [...at, k]);
    });
  }
  if (Array.isArray(oldValue) && Array.isArray(newValue)) {
    const n = Math.max(oldValue.length, newValue.length);
    const out: { path: PathSegment[]; kind: "add" | "delete" | "update" | "secret" }[] = [];
    for (let i = 0; i < n; i++) {
      if (i >= newValue.length) out.push({ path: [...at, i], kind: "delete" });
      else if (i >= oldValue.length) out.push({ path: [...at, i], kind: "add" });
      else out.push(...inputDifferences(oldValue[i], newValue[i], [...at, i]));
    }
    return out;
  }
  return JSON.stringify(oldValue) === JSON.stringify(newValue) ? [] : [{ path: at, kind: "update" }];
}

/** The top-level component (a `hubspoke:` resource with no component above it) of a resource. */
function topComponent(r: DiffableResource, byUrn: ReadonlyMap<string, DiffableResource>): string | null {
  let top: string | null = null;
  let cursor: DiffableResource | undefined = r;
  const seen = new Set<string>();
  while (cursor && !seen.has(cursor.urn)) {
    seen.add(cursor.urn);
    if (isComponentType(cursor.type)) top = cursor.urn;
    cursor = cursor.parent ? byUrn.get(cursor.parent) : undefined;
  }
  if (top) return top;
  // Plans without `parent`: the URN's qualified type names the top-level component's type only.
  const qualified = r.urn.split("::")[2] ?? "";
  const first = qualified.split("$")[0];
  return first !== r.type && isComponentType(first) ? `${first} (parent not recorded)` : null;
}

/** Kubernetes object identity: cluster, kind, namespace, name. */
function objectIdentity(r: DiffableResource): string | undefined {
  if (!r.type.startsWith("kubernetes:")) return undefined;
  const name = valueAt(r.inputs, ["metadata", "name"]);
  if (typeof name !== "string") return undefined;
  const kind = r.type.slice(r.type.lastIndexOf(":") + 1).replace(/Patch$/, "");
  const namespace = valueAt(r.inputs, ["metadata", "namespace"]);
  return `${r.cluster}/${kind}/${typeof namespace === "string" ? namespace : ""}/${name}`;
}

export interface DiffOptions {
  readonly secrets?: SecretComparison;
}

export function diffPlans(oldPlan: DiffablePlan, newPlan: DiffablePlan, options: DiffOptions = {}): PlanDiff {
  const oldByUrn = new Map(oldPlan.resources.map((r) => [r.urn, r]));
  const newByUrn = new Map(newPlan.resources.map((r) => [r.urn, r]));
  const oldPlanHasOptions = oldPlan.resources.length === 0 || oldPlan.resources.every((r) => r.options);

  // 1. Match resources: same URN, else an alias naming an old URN (ENG: the alias carries the state over).
  const pairs = new Map<string, Pair>();
  const consumed = new Set<string>();
  for (const r of newPlan.resources) {
    const old = oldByUrn.get(r.urn);
    if (old) {
      pairs.set(r.urn, { old, new: r });
      consumed.add(r.urn);
    }
  }
  for (const r of newPlan.resources) {
    if (pairs.has(r.urn)) continue;
    const alias = (r.options?.aliases ?? []).find(
      (a) => oldByUrn.has(a) && !consumed.has(a) && !newByUrn.has(a),
    );
    if (alias) {
      pairs.set(r.urn, { old: oldByUrn.get(alias) as DiffableResource, new: r, aliasedFrom: alias });
      consumed.add(alias);
    }
  }
  const creates = newPlan.resources.filter((r) => !pairs.has(r.urn));
  const deletes = oldPlan.resources.filter((r) => !consumed.has(r.urn));

  // 2. Delete + create of the same thing under another URN: what `aliases` would have avoided.
  const renames = new Map<string, string>(); // either URN -> the other
  for (const created of creates) {
    const identity = objectIdentity(created);
    const match = deletes.find(
      (d) =>
        !renames.has(d.urn) &&
        d.type === created.type &&
        (identity !== undefined ? objectIdentity(d) === identity : d.name === created.name),
    );
    if (match) {
      renames.set(created.urn, match.urn);
      renames.set(match.urn, created.urn);
    }
  }

  // 3. Each matched pair on its own, then again while replacements make dependents' inputs unknown.
  const settingsOf = (r: DiffableResource | undefined, plan: ReadonlyMap<string, DiffableResource>) => {
    const providerUrn = r?.options?.provider;
    return kubernetesProviderSettings(providerUrn ? plan.get(providerUrn)?.inputs : undefined);
  };
  const verdicts = new Map<string, Verdict>();
  const evaluatePair = (pair: Pair, computed: InputChange[]): Verdict =>
    pairVerdict(
      pair,
      computed,
      options.secrets,
      settingsOf(pair.new, newByUrn),
      oldByUrn,
      newByUrn,
      verdicts,
    );
  for (const [urn, pair] of pairs) verdicts.set(urn, evaluatePair(pair, []));

  const unknownSources = (): { preview: Set<string>; dbr: Set<string> } => {
    const preview = new Set(creates.map((r) => r.urn));
    const dbr = new Set<string>();
    for (const [urn, v] of verdicts) {
      if (v.op !== "replace") continue;
      preview.add(urn);
      if (v.deleteBeforeReplace) dbr.add(urn);
    }
    return { preview, dbr };
  };
  for (let round = 0; round < 50; round++) {
    const { preview, dbr } = unknownSources();
    let changed = false;
    for (const [urn, pair] of pairs) {
      const computed = computedChanges(pair.new, preview, dbr, newByUrn);
      const before = verdicts.get(urn) as Verdict;
      const after = evaluatePair(pair, computed);
      if (after.op !== before.op || after.changes.length !== before.changes.length) {
        verdicts.set(urn, after);
        changed = true;
      }
    }
    if (!changed) break;
  }

  // 4. Assemble.
  const allByUrn = new Map<string, DiffableResource>([...oldByUrn, ...newByUrn]);
  const out: ResourceChange[] = [];
  const counts: Record<Operation | "same", number> = {
    create: 0,
    update: 0,
    replace: 0,
    delete: 0,
    "cannot-tell": 0,
    same: 0,
  };
  for (const r of newPlan.resources) {
    const pair = pairs.get(r.urn);
    const component = topComponent(r, allByUrn);
    if (!pair) {
      counts.create += 1;
      const renamedFrom = renames.get(r.urn);
      out.push({
        urn: r.urn,
        type: r.type,
        name: r.name,
        cluster: r.cluster,
        component,
        op: "create",
        changes: [],
        reasons: renamedFrom
          ? [
              `same ${objectIdentity(r) ? "object" : "resource"} as ${renamedFrom}, deleted below: add that URN to \`aliases\``,
            ]
          : [],
        deleteBeforeReplace: false,
        ...(renamedFrom ? { renameWithoutAlias: renamedFrom } : {}),
        ...(r.options?.import ? { imported: r.options.import } : {}),
      });
      continue;
    }
    const v = verdicts.get(r.urn) as Verdict;
    counts[v.op] += 1;
    if (v.op === "same" && !pair.aliasedFrom) continue;
    out.push({
      urn: r.urn,
      type: r.type,
      name: r.name,
      cluster: r.cluster,
      component,
      op: v.op === "same" ? "update" : v.op,
      changes: v.changes,
      reasons: pair.aliasedFrom
        ? [`renamed from ${pair.aliasedFrom} (aliases keep it)`, ...v.reasons]
        : v.reasons,
      deleteBeforeReplace: v.deleteBeforeReplace,
      ...(pair.aliasedFrom ? { aliasedFrom: pair.aliasedFrom } : {}),
      ...(v.protectStops ? { protectStops: true } : {}),
      ...(pair.old.options === undefined ? { optionsUnknown: true } : {}),
      ...(r.options?.import ? { imported: r.options.import } : {}),
    });
  }
  for (const r of deletes) {
    counts.delete += 1;
    const renamedTo = renames.get(r.urn);
    const opts = r.options;
    const reasons: string[] = [];
    if (renamedTo)
      reasons.push(`same ${objectIdentity(r) ? "object" : "resource"} as ${renamedTo}, created above`);
    if (opts?.protect) reasons.push("protected: Pulumi stops instead of deleting it");
    if (opts?.retainOnDelete) reasons.push("retainOnDelete: the object stays where it is, Pulumi forgets it");
    if (!opts) reasons.push("the old plan has no options: cannot tell whether it is protected or retained");
    out.push({
      urn: r.urn,
      type: r.type,
      name: r.name,
      cluster: r.cluster,
      component: topComponent(r, allByUrn),
      op: "delete",
      changes: [],
      reasons,
      deleteBeforeReplace: false,
      ...(renamedTo ? { renameWithoutAlias: renamedTo } : {}),
      ...(opts?.protect ? { protectStops: true } : {}),
      ...(opts?.retainOnDelete ? { retained: true } : {}),
      ...(!opts ? { optionsUnknown: true } : {}),
    });
  }
  return { stack: newPlan.stack, resources: out, counts, oldPlanHasOptions };
}

/**
 * Input paths of a resource that a preview cannot know: those carrying outputs of a created or
 * replaced resource (ENG: outputs of a replacement are unknown), and, for a dependency replaced
 * delete-before-replace, the whole top-level property (ENG calculateDependentReplacements).
 */
function computedChanges(
  r: DiffableResource,
  preview: ReadonlySet<string>,
  dbr: ReadonlySet<string>,
  byUrn: ReadonlyMap<string, DiffableResource>,
): InputChange[] {
  const out: InputChange[] = [];
  const topLevel = new Map<string, Set<string>>();
  for (const [path, sources] of Object.entries(r.dependencies ?? {})) {
    const hit = sources.filter((s) => preview.has(s));
    if (hit.length === 0) continue;
    const generated = hit.some((s) => generatesNewValues(byUrn.get(s)?.type ?? ""));
    out.push({ path, kind: generated ? "regenerated" : "unknown-in-preview", from: hit });
    const viaDbr = hit.filter((s) => dbr.has(s));
    const top = parsePropertyPath(path)?.[0];
    if (viaDbr.length && top !== undefined) {
      const set = topLevel.get(String(top)) ?? new Set<string>();
      viaDbr.forEach((s) => set.add(s));
      topLevel.set(String(top), set);
    }
  }
  for (const [key, sources] of topLevel) {
    out.push({ path: formatPropertyPath([key]), kind: "dependent-of-replacement", from: [...sources] });
  }
  return out;
}

function pairVerdict(
  pair: Pair,
  computed: readonly InputChange[],
  secrets: SecretComparison | undefined,
  settings: ReturnType<typeof kubernetesProviderSettings>,
  oldByUrn: ReadonlyMap<string, DiffableResource>,
  newByUrn: ReadonlyMap<string, DiffableResource>,
  verdicts: ReadonlyMap<string, Verdict>,
): Verdict {
  const { old, new: next } = pair;
  const reasons: string[] = [];
  const rule = ruleFor(next.type, old.inputs, next.inputs, settings);
  const ignore = (next.options?.ignoreChanges ?? []).map((p) => parsePropertyPath(p)).filter(isPath);
  const replaceOn = (next.options?.replaceOnChanges ?? []).map((p) => parsePropertyPath(p)).filter(isPath);

  const changes: InputChange[] = [];
  for (const d of inputDifferences(old.inputs, next.inputs)) {
    const path = formatPropertyPath(d.path);
    let kind: ChangeKind;
    if (d.kind === "secret") {
      const verdict = secrets?.(next.urn, path);
      if (verdict === "unchanged") continue;
      kind = verdict === "changed" ? "secret-changed" : "secret-cannot-tell";
    } else kind = d.kind;
    changes.push({ path, kind });
  }
  for (const c of computed) {
    // A value that differs anyway is already listed; a computed one only adds what is not.
    if (!changes.some((x) => x.path === c.path)) changes.push(c);
    else if (c.kind === "regenerated") {
      const i = changes.findIndex((x) => x.path === c.path);
      changes[i] = { ...c };
    }
  }

  const classified = changes.flatMap((c): InputChange[] => {
    const segments = parsePropertyPath(c.path) ?? [c.path];
    // ENG processIgnoreChanges / the provider's own ignore handling: the old value is kept.
    if (c.kind !== "unknown-in-preview" && ignore.some((p) => pathContains(p, segments)))
      return c.kind === "dependent-of-replacement" ? [] : [{ ...c, kind: "ignored" }];
    const why =
      rule?.forcesReplacement(segments) ??
      (replaceOn.some((p) => pathContains(p, segments)) ? "listed in replaceOnChanges" : undefined);
    if (c.kind === "dependent-of-replacement" && !why) return [];
    return [why ? { ...c, replaces: why } : c];
  });

  const real = (c: InputChange) => c.kind !== "ignored" && c.kind !== "unknown-in-preview";
  const definite = classified.filter((c) => real(c) && c.kind !== "secret-cannot-tell");
  const uncertain = classified.filter((c) => c.kind === "secret-cannot-tell");
  let replace = definite.filter((c) => c.replaces).map((c) => `${c.path}: ${c.replaces}`);

  // ENG providerChanged: another provider replaces the resource only if its DiffConfig says so.
  const oldProvider = old.options?.provider ?? undefined;
  const newProvider = next.options?.provider ?? undefined;
  if (!isComponentType(next.type)) {
    if (oldProvider !== undefined && newProvider !== undefined && oldProvider !== newProvider) {
      const oldIdentifier = valueAt(oldByUrn.get(oldProvider)?.inputs, ["clusterIdentifier"]);
      const newIdentifier = valueAt(newByUrn.get(newProvider)?.inputs, ["clusterIdentifier"]);
      if (oldIdentifier === undefined || newIdentifier === undefined) {
        reasons.push(`provider changed (${oldProvider} -> ${newProvider}): cannot tell whether it replaces`);
      } else if (oldIdentifier !== newIdentifier) {
        replace.push(
          `provider changed to another cluster (${JSON.stringify(oldIdentifier)} -> ${JSON.stringify(newIdentifier)})`,
        );
      }
    } else if (oldProvider === undefined && old.cluster !== next.cluster) {
      replace.push(`cluster changed (${String(old.cluster)} -> ${String(next.cluster)})`);
    }
    // ENG calculateDependentReplacements: a replaced provider takes its resources with it.
    if (newProvider && verdicts.get(newProvider)?.op === "replace")
      replace.push(`its provider ${newProvider} is replaced`);
  }
  replace = [...new Set(replace)];

  const protect = old.options?.protect === true && next.options?.protect === true;
  const dbr = (op: Operation | "same") =>
    op === "replace" &&
    (next.options?.deleteBeforeReplace === true ||
      (rule?.providerDeleteBeforeReplace(old.inputs, next.inputs) ?? false));
  const notes = classified
    .filter((c) => c.kind === "ignored")
    .map((c) => `${c.path} changed but ignoreChanges keeps the old value`);

  if (rule === undefined) {
    if (definite.length === 0 && uncertain.length === 0 && replace.length === 0)
      return { op: "same", changes: classified, reasons: notes, deleteBeforeReplace: false };
    return {
      op: "cannot-tell",
      changes: classified,
      reasons: [`no replace rules for ${next.type}: cannot tell update from replace`, ...reasons, ...notes],
      deleteBeforeReplace: false,
    };
  }
  if (replace.length > 0) {
    return {
      op: "replace",
      changes: classified,
      reasons: [
        ...replace,
        ...(protect ? ["protected: Pulumi stops before replacing it"] : []),
        ...(next.options?.import
          ? ["adopted with `import`: Pulumi refuses to replace it while the import stays"]
          : []),
        ...reasons,
        ...notes,
      ],
      deleteBeforeReplace: dbr("replace"),
      ...(protect ? { protectStops: true } : {}),
    };
  }
  if (uncertain.length > 0) {
    const wouldReplace = uncertain.filter((c) => c.replaces);
    return {
      op: "cannot-tell",
      changes: classified,
      reasons: [
        `secret input ${uncertain.map((c) => c.path).join(", ")}: cannot compare secrets across runs; ` +
          (wouldReplace.length ? "replaced if it changed" : "updated if it changed"),
        ...reasons,
        ...notes,
      ],
      deleteBeforeReplace: false,
    };
  }
  if (reasons.length > 0)
    return {
      op: "cannot-tell",
      changes: classified,
      reasons: [...reasons, ...notes],
      deleteBeforeReplace: false,
    };
  return {
    op: definite.length > 0 ? "update" : "same",
    changes: classified,
    reasons: [
      ...notes,
      ...classified
        .filter((c) => c.kind === "unknown-in-preview")
        .map(
          (c) =>
            `${c.path}: unknown in a preview (from ${(c.from ?? []).join(", ")}); unchanged after \`pulumi up\` unless that name changes`,
        ),
    ],
    deleteBeforeReplace: false,
  };
}

function isPath(p: PathSegment[] | undefined): p is PathSegment[] {
  return p !== undefined;
}

/** True when the kubernetes provider of a resource is this plan's. */
export function isKubernetesProvider(r: DiffableResource): boolean {
  return r.type === KUBERNETES_PROVIDER_TYPE;
}

export type { TypeRule };
