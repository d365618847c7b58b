// How the estate is split across Pulumi stacks (docs/sharding.md): one stack for everything (the
// default), or a hub stack and shard stacks that each convert a share of the spokes and read what
// they need from the hub stack through `pulumi.StackReference`. The layout's resolution and its
// cross-field rules. Pure.
import type { ConfigError } from "./errors";
import type { LayoutConfig } from "./schema";
import { Raw, record, str } from "./rules";

export type LayoutSpec =
  | { readonly role: "single" }
  /** The hub stack: the hub, and what every shard reads from it; `spokeCidrs` admits the shards' spokes. */
  | { readonly role: "hub"; readonly spokeCidrs: readonly string[] }
  /** A shard stack: its spokes, and their objects on the hub cluster; `hubStack` names the hub stack. */
  | { readonly role: "shard"; readonly hubStack: string };

export const LAYOUT_ROLES = ["single", "hub", "shard"] as const;

/** `organization/project/stack`, as `pulumi stack ls --all` prints it and StackReference takes it. */
export const STACK_REFERENCE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export function resolveLayout(c: LayoutConfig | undefined): LayoutSpec {
  if (!c || c.role === "single") return { role: "single" };
  if (c.role === "hub") return { role: "hub", spokeCidrs: c.spokeCidrs ?? [] };
  return { role: "shard", hubStack: c.hubStack ?? "" };
}

/**
 * What each role needs and refuses. A sharded layout needs Conjur Enterprise: the Leader takes each
 * spoke's authn-jwt authenticator through its API, from whichever stack loads that spoke's policy,
 * while the Open Source primary enables authenticators from its pod's environment, which only the
 * hub stack writes (docs/sharding.md, "Limits").
 */
export function layoutRuleErrors(config: Raw): ConfigError[] {
  const layout = record(config["layout"]);
  const role = str(layout["role"]) ?? "single";
  if (!(LAYOUT_ROLES as readonly string[]).includes(role)) return []; // the schema reports the value
  const errors: ConfigError[] = [];
  const err = (path: string, message: string) => errors.push({ path, message });
  if (role !== "shard" && layout["hubStack"] !== undefined)
    err("layout.hubStack", "only for layout.role shard: the hub stack a shard reads");
  if (role !== "hub" && layout["spokeCidrs"] !== undefined)
    err("layout.spokeCidrs", "only for layout.role hub: the addresses the shards' spokes connect from");
  if (role === "single") return errors;

  const edition = record(config["conjur"])["edition"] ?? "oss";
  if (edition === "oss")
    err(
      "layout.role",
      `${role}: a sharded layout needs conjur.edition enterprise (the Open Source primary enables authenticators from its own pod's environment, which a shard stack cannot change; docs/sharding.md)`,
    );
  if (edition === "enterprise" && record(record(config["conjur"])["leader"])["placement"] === "hub")
    err(
      "conjur.leader.placement",
      `hub: not supported with layout.role ${role} yet: the in-hub Leader's follower certificate names the hub stack's own spokes only, so a shard's followers could not present one (docs/sharding.md, "Limits")`,
    );
  if (role === "hub" && layout["spokeCidrs"] === undefined)
    err(
      "layout.spokeCidrs",
      "required for layout.role hub: the egress CIDRs of every shard's spokes (the hub's log sink admits them; the hub cannot read them from the shards)",
    );
  if (role === "shard") {
    if (layout["hubStack"] === undefined)
      err("layout.hubStack", "required for layout.role shard: the hub stack, as organization/project/stack");
    const onHub: readonly [string, string][] = [
      ["backup", "backups belong to the hub stack"],
      ["failover", "failover belongs to the hub stack"],
    ];
    for (const [key, why] of onHub)
      if (config[key] !== undefined) err(key, `not in a shard stack (layout.role shard): ${why}`);
    if (record(record(config["gitops"])["argocd"])["enabled"] === true)
      err(
        "gitops.argocd.enabled",
        'not supported in a shard stack yet: the hub\'s AppProject and ApplicationSet list every spoke (docs/sharding.md, "Limits")',
      );
  }
  return errors;
}

/** The stack's part of a sharded layout in one line, for the plan's summary; none for one stack. */
export function layoutLine(layout: LayoutSpec): string | undefined {
  if (layout.role === "hub")
    return `layout: the hub stack of a sharded layout (its shards' spokes federated through discovery; its log sink admits ${layout.spokeCidrs.join(", ")}; exports shardTrust)`;
  if (layout.role === "shard")
    return `layout: a shard of ${layout.hubStack} (reads its shardTrust; owns its spokes' policy loads and federation Services on the hub cluster)`;
  return undefined;
}
