// The plan diff on pairs of configs, evaluated in one process (secrets compared in memory), and
// the engine and provider rules on small hand-made plans.
import { strict as assert } from "node:assert";
import { Danger, dangers } from "../tools/danger";
import type { Evaluation } from "../tools/mock-engine";
import { buildPlanDocument } from "../tools/plan-output";
import { DiffablePlan, DiffableResource, diffPlans, PlanDiff, ResourceChange } from "../tools/plan-diff";
import { compareEvaluations } from "../tools/secret-compare";
import { asOpenSource, evaluate, withHubLeader } from "./support/stacks";

type Json = any;

function review(before: Evaluation, after: Evaluation): { diff: PlanDiff; found: Danger[] } {
  const oldPlan = buildPlanDocument(before);
  const newPlan = buildPlanDocument(after);
  const diff = diffPlans(oldPlan, newPlan, {
    secrets: compareEvaluations(before.resources, after.resources),
  });
  const byUrn = new Map<string, DiffableResource>([
    ...oldPlan.resources.map((r) => [r.urn, r] as const),
    ...newPlan.resources.map((r) => [r.urn, r] as const),
  ]);
  return { diff, found: dangers(diff, byUrn) };
}

const named = (diff: PlanDiff, name: string): ResourceChange => {
  const found = diff.resources.find((r) => r.urn.endsWith(`::${name}`));
  assert.ok(found, `${name} not in the diff: ${diff.resources.map((r) => r.name).join(", ")}`);
  return found;
};

describe("plan diff on pairs of configs (staging)", function () {
  this.timeout(120_000);
  let base: Evaluation;
  before(async () => {
    base = await evaluate("staging");
  });

  it("identical inputs: no change at all, nothing dangerous", async () => {
    const { diff, found } = review(base, await evaluate("staging"));
    assert.deepEqual(diff.resources, []);
    assert.equal(diff.counts.same, base.resources.filter((r) => !r.options.read).length);
    assert.deepEqual(found, []);
  });

  it("more follower replicas: one in-place update of that follower, nothing dangerous", async () => {
    const { diff, found } = review(
      base,
      await evaluate("staging", (c: Json) => (c["hubspoke:spokes"][0].follower = { replicas: 3 })),
    );
    assert.deepEqual(
      diff.resources.map((r) => [r.name, r.op, r.changes.map((x) => x.path)]),
      [["spoke-payments-follower", "update", ["spec.replicas"]]],
    );
    assert.deepEqual(found, []);
  });

  it("a new Kubernetes Follower version: every spoke's ConjurFollower updated at once, flagged", async () => {
    const { diff, found } = review(
      base,
      await evaluate("staging", (c: Json) => (c["hubspoke:conjur"].follower.images.version = "2.7.0")),
    );
    assert.deepEqual(
      diff.resources.map((r) => [r.name, r.op]),
      [
        ["spoke-payments-follower", "update"],
        ["spoke-web-follower", "update"],
      ],
    );
    assert.equal(found[0]?.title, "followers restarted in 2 spoke(s) at once");
  });

  it("a new spoke: its resources are created, nothing is deleted, no other spoke is touched, nothing dangerous", async () => {
    const { diff, found } = review(
      base,
      await evaluate("staging", (c: Json) => {
        c["hubspoke:clusters"]["stg-extra"] = {
          context: "stg-extra",
          apiServer: "https://api.extra.acme.internal:6443",
        };
        c["hubspoke:spokes"].push({
          name: "extra",
          cluster: "stg-extra",
          region: "eu-west-1",
          podCidr: "10.130.0.0/16",
          phase: 1,
        });
      }),
    );
    const own = diff.resources.filter((r) => /(^|-)extra-|::k8s-stg-extra$|-extra$/.test(r.name));
    assert.ok(own.length > 40, `${own.length} resources for the new spoke`);
    assert.ok(
      own.every((r) => r.op === "create"),
      own
        .filter((r) => r.op !== "create")
        .map((r) => r.name)
        .join(", "),
    );
    assert.equal(diff.counts.delete, 0);
    const otherSpokes = diff.resources.filter((r) =>
      /spoke-(payments|web)|observability-(payments|web)/.test(r.name),
    );
    assert.deepEqual(
      otherSpokes.map((r) => r.name),
      [],
    );
    assert.deepEqual(found, []);
  });

  it("a longer CA validity: every CA replaced, the chain below re-issued, flagged", async () => {
    // On the Open Source twin, where the estate CA also signs the hub's primary and the spokes' bundles.
    const { diff, found } = review(
      await evaluate("staging", asOpenSource),
      await evaluate("staging", (c: Json) => {
        asOpenSource(c);
        c["hubspoke:certificates"] = { caValidityHours: 100_000 };
      }),
    );
    const root = named(diff, "pki-root-ca-cert");
    assert.equal(root.op, "replace");
    assert.match(root.reasons.join(), /validityPeriodHours.*not updatable/);
    const leaf = named(diff, "pki-primary-tls-cert");
    assert.equal(leaf.op, "replace");
    assert.deepEqual(leaf.changes.find((c) => c.path === "caCertPem")?.kind, "regenerated");
    const secret = named(diff, "hub-primary-tls");
    assert.equal(secret.op, "replace");
    assert.equal(secret.deleteBeforeReplace, true, "same name: the provider deletes before it replaces");
    assert.equal(
      named(diff, "spoke-payments-tenant-payments-conjur-connect").op,
      "replace",
      "the CA bundle ConfigMap (immutable by default)",
    );
    assert.ok(!diff.resources.some((r) => r.name === "pki-root-ca-key"), "the CA key itself stays");
    assert.equal(found[0]?.title.startsWith("certificate authority replaced"), true, JSON.stringify(found));
    assert.ok(found[0].urns.length > 20, "the downstream chain is listed");
  });

  it("a renamed tenant: its old resources deleted, the new ones created, flagged", async () => {
    const { diff, found } = review(
      base,
      await evaluate("staging", (c: Json) => (c["hubspoke:spokes"][0].tenants[0].name = "payments-v2")),
    );
    assert.equal(named(diff, "spoke-payments-tenant-payments").op, "delete");
    assert.equal(named(diff, "spoke-payments-tenant-payments-v2").op, "create");
    // The label patch is not retained: deleting it gives the old namespace its own labels back.
    const labels = named(diff, "spoke-payments-tenant-payments-namespace-labels");
    assert.equal(labels.op, "delete");
    assert.notEqual(labels.retained, true);
    assert.ok(
      found.some((d) => d.title.startsWith("tenant namespace touched")),
      JSON.stringify(found),
    );
  });

  it("a removed spoke: deletes only (and the hub's updates), flagged", async () => {
    const { diff, found } = review(base, await evaluate("staging", (c: Json) => c["hubspoke:spokes"].pop()));
    assert.equal(named(diff, "spoke-web").op, "delete");
    assert.equal(diff.counts.create, 0);
    assert.ok(diff.counts.delete > 50);
    assert.ok(
      found.some((d) => d.title === "spoke removed: spoke-web"),
      JSON.stringify(found),
    );
  });

  it("replacing what prod protects: Pulumi would stop, ranked first", async () => {
    const prod = await evaluate("prod");
    const { diff, found } = review(
      prod,
      await evaluate("prod", (c: Json) => (c["hubspoke:certificates"] = { caValidityHours: 100_000 })),
    );
    assert.equal(named(diff, "pki-root-ca-cert").protectStops, true);
    assert.match(found[0].title, /protected resource replaced: Pulumi would stop/);
  });
});

// ---- rules on hand-made plans ----

const URN = (type: string, name: string) => `urn:pulumi:t::hubspoke::${type}::${name}`;
const PROVIDER = URN("pulumi:providers:kubernetes", "k8s-a");
const provider = (identifier = "a", extra: Record<string, unknown> = {}): DiffableResource => ({
  urn: PROVIDER,
  type: "pulumi:providers:kubernetes",
  name: "k8s-a",
  cluster: null,
  inputs: { clusterIdentifier: identifier, ...extra },
  parent: null,
  options: { provider: null },
  dependencies: {},
});
const object = (
  kind: string,
  name: string,
  inputs: Record<string, unknown>,
  options: DiffableResource["options"] = {},
): DiffableResource => {
  const type = `kubernetes:${kind === "Deployment" ? "apps/v1" : "core/v1"}:${kind}`;
  return {
    urn: URN(type, name),
    type,
    name,
    cluster: "a",
    inputs: { metadata: { name, namespace: "ns" }, ...inputs },
    parent: null,
    options: { provider: PROVIDER, ...options },
    dependencies: {},
  };
};
const plan = (...resources: DiffableResource[]): DiffablePlan => ({ stack: "t", resources });
const only = (diff: PlanDiff, name: string) => diff.resources.find((r) => r.name === name);

describe("plan diff on an in-hub Leader (staging's twin, conjur.leader.placement: hub)", function () {
  this.timeout(120_000);
  let base: Evaluation;
  before(async () => {
    base = await evaluate("staging", withHubLeader);
  });
  const changed = (edit: (leader: Json, config: Json) => void) =>
    evaluate("staging", (c: Json) => {
      withHubLeader(c);
      edit(c["hubspoke:conjur"].leader, c);
    });

  it("a Standby removed: flagged, the StatefulSet updated in place (never replaced)", async () => {
    const { diff, found } = review(base, await changed((leader) => (leader.standbys = 0)));
    assert.equal(named(diff, "hub-leader").op, "update");
    assert.ok(
      found.some((d) => d.title === "in-hub Leader: the number of appliance pods changes" && d.rank === 2),
    );
  });

  it("the Leader moved to another pod (activeNode): its Services' selectors change, flagged", async () => {
    const { found } = review(base, await changed((leader) => (leader.activeNode = 1)));
    const moved = found.find((d) => d.title === "in-hub Leader: its Services move to another appliance pod");
    assert.ok(moved, found.map((d) => d.title).join("; "));
    assert.equal(moved.urns.length, 2);
  });

  it("a new appliance image: a template update that restarts nothing (OnDelete), flagged as such, not as data loss", async () => {
    const { diff, found } = review(
      base,
      await changed(
        (_, c) =>
          (c["hubspoke:images"].appliance = "registry.acme.internal/cyberark/conjur-appliance:13.6.0"),
      ),
    );
    assert.equal(named(diff, "hub-leader").op, "update");
    assert.deepEqual(
      found.map((d) => [d.rank, d.title]),
      [[4, "in-hub Leader: pod template changed, applied only as pods are deleted by hand"]],
    );
  });

  it("a new spoke's follower names: new certificates and a new configuration Job, the appliance pods untouched", async () => {
    const { diff, found } = review(
      base,
      await changed(
        (_, c) => (c["hubspoke:spokes"][0].follower = { externalHostnames: ["follower.payments.acme.com"] }),
      ),
    );
    assert.ok(!diff.resources.some((r) => r.name === "hub-leader"), "the StatefulSet is unchanged");
    assert.ok(diff.resources.some((r) => r.name === "hub-leader-configure-job" && r.op === "replace"));
    assert.deepEqual(
      found.filter((d) => d.title.startsWith("in-hub Leader")),
      [],
    );
  });
});

describe("plan diff rules", () => {
  it("a Service's clusterIP replaces, its ports update in place", () => {
    const before = object("Service", "svc", { spec: { clusterIP: "10.0.0.1", ports: [{ port: 80 }] } });
    const ports = object("Service", "svc", { spec: { clusterIP: "10.0.0.1", ports: [{ port: 81 }] } });
    const ip = object("Service", "svc", { spec: { clusterIP: "10.0.0.2", ports: [{ port: 80 }] } });
    assert.equal(only(diffPlans(plan(provider(), before), plan(provider(), ports)), "svc")?.op, "update");
    const replaced = only(diffPlans(plan(provider(), before), plan(provider(), ip)), "svc");
    assert.equal(replaced?.op, "replace");
    assert.equal(replaced?.deleteBeforeReplace, true);
  });

  it("a Deployment's selector replaces; a renamed object (metadata.name) replaces without delete-first", () => {
    const before = object("Deployment", "d", {
      spec: { selector: { matchLabels: { a: "1" } }, replicas: 1 },
    });
    const selector = object("Deployment", "d", {
      spec: { selector: { matchLabels: { a: "2" } }, replicas: 1 },
    });
    assert.equal(only(diffPlans(plan(before), plan(selector)), "d")?.op, "replace");
    const renamed: DiffableResource = {
      ...before,
      inputs: { ...(before.inputs as Json), metadata: { name: "d2", namespace: "ns" } },
    };
    const r = only(diffPlans(plan(before), plan(renamed)), "d");
    assert.equal(r?.op, "replace");
    assert.equal(r?.deleteBeforeReplace, false);
  });

  it("ConfigMap data replaces unless the provider makes ConfigMaps mutable or the change is ignored", () => {
    const before = object("ConfigMap", "cm", { data: { a: "1" } });
    const after = object("ConfigMap", "cm", { data: { a: "2" } });
    assert.equal(only(diffPlans(plan(provider(), before), plan(provider(), after)), "cm")?.op, "replace");
    const mutable = provider("a", { enableConfigMapMutable: true });
    assert.equal(only(diffPlans(plan(mutable, before), plan(mutable, after)), "cm")?.op, "update");
    const ignoring = object(
      "ConfigMap",
      "cm",
      { data: { a: "2" } },
      { provider: PROVIDER, ignoreChanges: ["data"] },
    );
    const ignored = diffPlans(plan(provider(), before), plan(provider(), ignoring));
    assert.equal(only(ignored, "cm"), undefined, "an ignored change is no change");
  });

  it("replaceOnChanges turns an update into a replace; deleteBeforeReplace is reported", () => {
    const before = object("Deployment", "d", { spec: { replicas: 1 } });
    const after = object(
      "Deployment",
      "d",
      { spec: { replicas: 2 } },
      {
        provider: PROVIDER,
        replaceOnChanges: ["spec.replicas"],
        deleteBeforeReplace: true,
      },
    );
    const r = only(diffPlans(plan(before), plan(after)), "d");
    assert.equal(r?.op, "replace");
    assert.match(r?.reasons.join() ?? "", /replaceOnChanges/);
    assert.equal(r?.deleteBeforeReplace, true);
  });

  it("a URN change is delete + create unless aliases carry it; without them it is called out", () => {
    const before = object("ConfigMap", "cm", { data: { a: "1" } });
    const moved: DiffableResource = {
      ...before,
      urn: URN("hubspoke:x:X$kubernetes:core/v1:ConfigMap", "cm"),
    };
    const bare = diffPlans(plan(before), plan(moved));
    assert.deepEqual(bare.resources.map((r) => r.op).sort(), ["create", "delete"]);
    assert.ok(
      bare.resources.every((r) => r.renameWithoutAlias),
      "both sides name the other",
    );
    const aliased = diffPlans(plan(before), plan({ ...moved, options: { aliases: [before.urn] } }));
    assert.deepEqual(
      aliased.resources.map((r) => [r.op, r.aliasedFrom]),
      [["update", before.urn]],
    );
  });

  it("a provider pointed at another cluster replaces everything on it; rotated credentials replace nothing", () => {
    const obj = object("ConfigMap", "cm", { data: { a: "1" } });
    const moved = diffPlans(plan(provider("a"), obj), plan(provider("b"), obj));
    assert.equal(only(moved, "k8s-a")?.op, "replace");
    assert.match(only(moved, "cm")?.reasons.join() ?? "", /provider .* is replaced/);
    const rotated = diffPlans(
      plan(provider("a", { kubeconfig: "[secret]" }), obj),
      plan(provider("a", { kubeconfig: "[secret]" }), obj),
      { secrets: () => "changed" },
    );
    assert.equal(only(rotated, "k8s-a")?.op, "update");
    assert.equal(only(rotated, "cm"), undefined);
  });

  it("TLS: only earlyRenewalHours updates in place", () => {
    const cert = (inputs: Record<string, unknown>): DiffableResource => ({
      urn: URN("tls:index/locallySignedCert:LocallySignedCert", "c"),
      type: "tls:index/locallySignedCert:LocallySignedCert",
      name: "c",
      cluster: null,
      inputs,
    });
    const base = { validityPeriodHours: 100, earlyRenewalHours: 10 };
    assert.equal(
      diffPlans(plan(cert(base)), plan(cert({ ...base, earlyRenewalHours: 20 }))).resources[0].op,
      "update",
    );
    assert.equal(
      diffPlans(plan(cert(base)), plan(cert({ ...base, validityPeriodHours: 200 }))).resources[0].op,
      "replace",
    );
  });

  it("a type it has no rules for is 'cannot tell' when it changes, never a no-op", () => {
    const bucket = (acl: string): DiffableResource => ({
      urn: URN("aws:s3/bucket:Bucket", "b"),
      type: "aws:s3/bucket:Bucket",
      name: "b",
      cluster: null,
      inputs: { acl },
    });
    assert.equal(diffPlans(plan(bucket("private")), plan(bucket("public"))).resources[0].op, "cannot-tell");
    assert.deepEqual(diffPlans(plan(bucket("private")), plan(bucket("private"))).resources, []);
  });

  it("secrets from another run cannot be compared: 'cannot tell', not unchanged", () => {
    const secret = (urn = URN("kubernetes:core/v1:Secret", "s")): DiffableResource => ({
      ...object("Secret", "s", { stringData: { key: "[secret]" } }),
      urn,
    });
    const crossRun = diffPlans(plan(secret()), plan(secret()));
    assert.equal(crossRun.resources[0].op, "cannot-tell");
    assert.match(
      crossRun.resources[0].reasons.join(),
      /cannot compare secrets across runs; replaced if it changed/,
    );
    assert.deepEqual(diffPlans(plan(secret()), plan(secret()), { secrets: () => "unchanged" }).resources, []);
    assert.equal(
      diffPlans(plan(secret()), plan(secret()), { secrets: () => "changed" }).resources[0].op,
      "replace",
    );
  });

  it("an old plan without options or parents: deletes say protection cannot be told, nothing crashes", () => {
    const legacy: DiffableResource = {
      urn: URN("kubernetes:core/v1:ConfigMap", "old"),
      type: "kubernetes:core/v1:ConfigMap",
      name: "old",
      cluster: "a",
      inputs: {},
    };
    const current = object("ConfigMap", "cm", { data: {} });
    const diff = diffPlans(
      plan(legacy, { ...current, options: undefined, parent: undefined }),
      plan(current),
    );
    assert.equal(diff.oldPlanHasOptions, false);
    const deleted = only(diff, "old");
    assert.equal(deleted?.op, "delete");
    assert.equal(deleted?.optionsUnknown, true);
    assert.match(deleted?.reasons.join() ?? "", /cannot tell whether it is protected/);
  });
});
