// The danger report: what in a plan diff would hurt, ranked, and diff.md, the pull-request comment
// built from it (a ranked danger list first, then the changes grouped by cluster and component in
// collapsible sections). Pure: a PlanDiff in, text out.
import { CONJUR_NAMESPACE, FOLLOWER_DEPLOYMENT, POSTGRES_SERVICE } from "../components/naming";
import {
  LEADER_EXTERNAL_SERVICE,
  LEADER_SERVICE,
  LEADER_STATEFULSET,
} from "../components/hub/leader-documents";
import type { DiffableResource, Operation, PlanDiff, ResourceChange } from "./plan-diff";
import { valueAt } from "./property-path";

export interface Danger {
  /** 1 = worst. */
  readonly rank: number;
  readonly title: string;
  readonly detail: string;
  readonly urns: readonly string[];
}

const DATA_KEY_SECRET = "conjur-data-key";
const ACTING: readonly Operation[] = ["replace", "delete"];

const kindOf = (type: string) => type.slice(type.lastIndexOf(":") + 1);
const inChain = (urn: string, type: string) => (urn.split("::")[2] ?? "").split("$").includes(type);
const shortName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** Ranked dangers. `resources` gives the inputs (metadata names) of both plans by URN. */
export function dangers(diff: PlanDiff, resources: ReadonlyMap<string, DiffableResource>): Danger[] {
  const out: Danger[] = [];
  const metaName = (r: ResourceChange) => valueAt(resources.get(r.urn)?.inputs, ["metadata", "name"]);
  const metaNamespace = (r: ResourceChange) =>
    valueAt(resources.get(r.urn)?.inputs, ["metadata", "namespace"]);
  const acting = diff.resources.filter((r) => ACTING.includes(r.op));
  const replacedOrUnknown = diff.resources.filter((r) => r.op !== "create" && r.op !== "update");

  const protectedHits = acting.filter((r) => r.protectStops);
  if (protectedHits.length) {
    out.push({
      rank: 1,
      title: `protected resource ${protectedHits.some((r) => r.op === "delete") ? "deleted or replaced" : "replaced"}: Pulumi would stop`,
      detail:
        "`pulumi up` refuses to replace or delete a protected resource and fails there; unprotect it deliberately if this is intended.",
      urns: protectedHits.map((r) => r.urn),
    });
  }

  const dataKey = replacedOrUnknown.filter(
    (r) =>
      (r.type === "random:index/randomBytes:RandomBytes" && inChain(r.urn, "hubspoke:hub:ConjurSecrets")) ||
      (kindOf(r.type) === "Secret" &&
        metaName(r) === DATA_KEY_SECRET &&
        r.changes.some((c) => c.path.startsWith("stringData"))),
  );
  if (dataKey.some((r) => ACTING.includes(r.op))) {
    out.push({
      rank: 1,
      title: "Conjur data key replaced or deleted",
      detail: "Everything Conjur stored is encrypted with it: a new key leaves the database unreadable.",
      urns: dataKey.map((r) => r.urn),
    });
  }

  // A CA deleted with its spoke is part of "spoke removed"; a replaced one re-issues its whole tree.
  const caParts = diff.resources.filter(
    (r) =>
      r.op === "replace" && inChain(r.urn, "hubspoke:pki:CertificateAuthority") && r.type.startsWith("tls:"),
  );
  if (caParts.length) {
    const downstream = diff.resources.filter(
      (r) => r.op === "replace" && r.changes.some((c) => c.kind === "regenerated"),
    );
    out.push({
      rank: 2,
      title: `certificate authority replaced: ${[...new Set(caParts.map((r) => shortName(r.urn).replace(/-(cert|key)$/, "")))].join(", ")}`,
      detail: `Every certificate it signed is re-issued and every client must trust the new CA: ${downstream.length} resource(s) downstream are replaced.`,
      urns: [...caParts, ...downstream].map((r) => r.urn),
    });
  }

  const postgres = replacedOrUnknown.filter(
    (r) =>
      kindOf(r.type) === "StatefulSet" &&
      metaName(r) === POSTGRES_SERVICE &&
      metaNamespace(r) === CONJUR_NAMESPACE,
  );
  const postgresActing = postgres.filter((r) => ACTING.includes(r.op));
  if (postgresActing.length) {
    out.push({
      rank: 2,
      title: `Postgres StatefulSet ${postgresActing.map((r) => r.op).join("/")}d`,
      detail:
        "Conjur's database goes down; if its name or claim template changes, the new pods get new, empty volumes (data loss).",
      urns: postgresActing.map((r) => r.urn),
    });
  }

  const tenantParts = diff.resources.filter(
    (r) =>
      inChain(r.urn, "hubspoke:tenancy:Tenant") &&
      (kindOf(r.type) === "Namespace" || kindOf(r.type) === "NamespacePatch") &&
      (ACTING.includes(r.op) || r.op === "cannot-tell"),
  );
  const uncovered = tenantParts.filter((r) => !(r.op === "delete" && r.retained));
  const tenantsGone = diff.resources.filter((r) => r.type === "hubspoke:tenancy:Tenant" && r.op === "delete");
  if (uncovered.length || tenantsGone.length) {
    out.push({
      rank: 3,
      title: `tenant namespace touched: ${[...new Set([...uncovered, ...tenantsGone].map((r) => shortName(r.urn)))].join(", ")}`,
      detail:
        "A tenant removed or renamed leaves its namespace as it is (labels retained) and a renamed one is adopted anew; a replaced or unretained namespace deletes the tenant's workloads.",
      urns: [...uncovered, ...tenantsGone].map((r) => r.urn),
    });
  }

  const spokesGone = diff.resources.filter(
    (r) => r.type === "hubspoke:spoke:ConjurSpoke" && r.op === "delete",
  );
  if (spokesGone.length) {
    out.push({
      rank: 3,
      title: `spoke removed: ${spokesGone.map((r) => shortName(r.urn)).join(", ")}`,
      detail: "Its follower, authenticator and monitoring go; applications on that cluster lose Conjur.",
      urns: spokesGone.map((r) => r.urn),
    });
  }

  // The appliance follower's Deployment (its pod template), or the Kubernetes Follower's
  // ConjurFollower (any change to its spec makes the operator roll the follower's pods).
  const followers = diff.resources.filter(
    (r) =>
      metaName(r) === FOLLOWER_DEPLOYMENT &&
      ((kindOf(r.type) === "Deployment" &&
        (r.op === "replace" ||
          (r.op === "update" && r.changes.some((c) => c.path.startsWith("spec.template"))))) ||
        (kindOf(r.type) === "ConjurFollower" &&
          (r.op === "replace" || (r.op === "update" && r.changes.some((c) => c.path.startsWith("spec")))))),
  );
  if (followers.some((r) => r.op === "replace") || followers.length >= 2) {
    out.push({
      rank: 4,
      title: `followers restarted in ${followers.length} spoke(s) at once`,
      detail:
        "Pods roll (or are recreated) in every listed spoke in the same `pulumi up`: stage the change per spoke.",
      urns: followers.map((r) => r.urn),
    });
  }
  out.push(...inHubLeaderDangers(diff, resources));
  return out.sort((a, b) => a.rank - b.rank);
}

/**
 * A Leader in the hub cluster (conjur.leader.placement: hub): its appliance pods hold the database,
 * so fewer or re-created pods lose data, Services moved to another pod send clients to a Standby
 * unless it was promoted first, and a template change waits for each pod to be deleted by hand.
 */
function inHubLeaderDangers(diff: PlanDiff, resources: ReadonlyMap<string, DiffableResource>): Danger[] {
  const out: Danger[] = [];
  const flag = (rank: number, title: string, detail: string, hits: readonly ResourceChange[]) => {
    if (hits.length) out.push({ rank, title, detail, urns: hits.map((r) => r.urn) });
  };
  const input = (urn: string, path: string[]) => valueAt(resources.get(urn)?.inputs, path);
  const named = (r: ResourceChange, kind: string, names: readonly string[]) =>
    kindOf(r.type) === kind &&
    input(r.urn, ["metadata", "namespace"]) === CONJUR_NAMESPACE &&
    names.includes(String(input(r.urn, ["metadata", "name"])));
  const changes = (r: ResourceChange, path: string) =>
    r.op === "update" && r.changes.some((c) => c.path.startsWith(path));
  const appliance = diff.resources.filter((r) => named(r, "StatefulSet", [LEADER_STATEFULSET]));
  const runbook = "docs/operations.md#the-leader-in-the-hub-cluster";
  flag(
    1,
    "in-hub Leader: appliance pods deleted or re-created",
    `The appliance keeps its database in the container: a deleted Leader or Standby pod comes back blank. Promote and re-seed by hand first (${runbook}).`,
    appliance.filter((r) => ACTING.includes(r.op)),
  );
  flag(
    2,
    "in-hub Leader: the number of appliance pods changes",
    "A Standby removed takes its copy of the database with it (its volume stays); an added one starts blank and the configuration Job seeds it. Never remove the pod conjur.leader.activeNode names.",
    appliance.filter((r) => changes(r, "spec.replicas")),
  );
  flag(
    2,
    "in-hub Leader: its Services move to another appliance pod",
    "Clients and followers follow conjur.leader.activeNode: run `evoke role promote` in that pod before this `pulumi up`, or they reach a read-only Standby.",
    diff.resources.filter(
      (r) => named(r, "Service", [LEADER_SERVICE, LEADER_EXTERNAL_SERVICE]) && changes(r, "spec.selector"),
    ),
  );
  flag(
    4,
    "in-hub Leader: pod template changed, applied only as pods are deleted by hand",
    `updateStrategy OnDelete: nothing restarts now; follow the upgrade procedure pod by pod (${runbook}).`,
    appliance.filter((r) => changes(r, "spec.template")),
  );
  return out;
}

// ---- diff.md ----

const OP_LABEL: Readonly<Record<Operation, string>> = {
  create: "create",
  update: "update",
  replace: "replace",
  delete: "delete",
  "cannot-tell": "cannot tell",
};

function describe(r: ResourceChange): string {
  const head = `\`${r.op === "cannot-tell" ? "?" : r.op[0].toUpperCase()}\` ${kindOf(r.type)} \`${shortName(r.urn)}\``;
  const parts: string[] = [];
  if (r.op === "replace" && r.deleteBeforeReplace) parts.push("delete before replace");
  const shown = r.changes.filter((c) => c.kind !== "unknown-in-preview").slice(0, 6);
  if (r.op === "update" || r.op === "cannot-tell")
    parts.push(
      shown
        .map((c) =>
          c.kind === "secret-changed"
            ? `${c.path} (secret changed)`
            : c.kind === "ignored"
              ? `${c.path} (ignored)`
              : c.path,
        )
        .join(", "),
    );
  parts.push(...r.reasons.slice(0, 3));
  return `- ${head}${parts.filter(Boolean).length ? ": " + parts.filter(Boolean).join("; ") : ""}`;
}

export interface MarkdownContext {
  readonly against: string;
}

/** diff.md: short enough to paste as a pull-request comment. */
export function renderDiffMarkdown(
  diff: PlanDiff,
  found: readonly Danger[],
  context: MarkdownContext,
): string {
  const lines: string[] = [];
  const c = diff.counts;
  lines.push(`### Plan diff: stack \`${diff.stack}\` against \`${context.against}\``);
  lines.push("");
  lines.push(
    `${c.create} to create, ${c.update} to update, ${c.replace} to replace, ${c.delete} to delete, ` +
      `${c["cannot-tell"]} cannot tell, ${c.same} unchanged.`,
  );
  lines.push("");
  if (found.length) {
    lines.push(`**Dangerous changes (${found.length}): approval required**`);
    lines.push("");
    found.forEach((d, i) => {
      lines.push(`${i + 1}. **${d.title}**. ${d.detail}`);
      const urns = d.urns.slice(0, 5).map((u) => `\`${shortName(u)}\``);
      if (urns.length)
        lines.push(`   ${urns.join(", ")}${d.urns.length > 5 ? `, and ${d.urns.length - 5} more` : ""}`);
    });
  } else {
    lines.push("**No dangerous change.**");
  }
  if (!diff.oldPlanHasOptions) {
    lines.push("");
    lines.push(
      "_The old plan predates resource options in plan.json: protect/retain of deleted resources cannot be told._",
    );
  }
  lines.push("");

  const groups = new Map<string, ResourceChange[]>();
  for (const r of diff.resources) {
    const key = `${r.cluster ?? "no cluster"} · ${r.component ? shortName(r.component) : "(top level)"}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, items] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const tally = (["create", "update", "replace", "delete", "cannot-tell"] as const)
      .map((op) => [op, items.filter((r) => r.op === op).length] as const)
      .filter(([, n]) => n > 0)
      .map(([op, n]) => `${n} ${OP_LABEL[op]}`)
      .join(", ");
    lines.push(`<details><summary>${key}: ${tally}</summary>`);
    lines.push("");
    for (const r of items) lines.push(describe(r));
    lines.push("");
    lines.push("</details>");
  }
  if (diff.resources.length === 0) lines.push("No resource changes.");
  return lines.join("\n") + "\n";
}
