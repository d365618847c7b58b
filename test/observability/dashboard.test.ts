// The federation dashboard must only query series that exist on the hub.
import * as assert from "node:assert/strict";
import { buildFederationDashboard, dashboardExpressions } from "../../components/observability/dashboard";
import { KNOWN_SERIES } from "../../components/observability/model";
import { buildSpokeRecordingRules } from "../../components/observability/prometheus";
import { metricNames, vectorSelectors } from "./support/promql";

describe("observability: federation dashboard", () => {
  const spokes = ["eu-payments", "us-checkout", "ap-ledger"];
  const dashboard = buildFederationDashboard({ spokes });

  it("offers a cluster variable filled from label_values(up, cluster), seeded with the spokes", () => {
    const cluster = dashboard.templating.list.find((v) => v.name === "cluster");
    assert.equal(cluster?.type, "query");
    assert.equal(cluster?.definition, "label_values(up, cluster)");
    assert.deepEqual(cluster?.query, { query: "label_values(up, cluster)", refId: "cluster" });
    assert.equal(cluster?.multi, true);
    assert.equal(cluster?.includeAll, true);
    assert.deepEqual(
      cluster?.options?.map((o) => o.value),
      spokes,
    );
  });

  it("has panels for request rate, error rate, p99 latency, follower up and federation scrape duration and samples", () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const wanted of [
      "Conjur request rate",
      "Conjur 5xx error ratio",
      "Conjur p99 request latency",
      "Followers up",
      "Federation scrape duration",
      "Federation samples per scrape",
    ]) {
      assert.ok(titles.includes(wanted), wanted);
    }
  });

  it("queries only series the spokes' recording rules produce, up, scrape_* or Conjur's documented metrics", () => {
    const recorded = buildSpokeRecordingRules().groups.flatMap((g) => g.rules.map((r) => r.record));
    const available = new Set([...recorded, ...KNOWN_SERIES]);
    const expressions = dashboardExpressions(dashboard);
    assert.ok(expressions.length >= 6);
    for (const expr of expressions) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `no metric in ${expr}`);
      for (const name of names)
        assert.ok(available.has(name), `${name} (in ${expr}) does not exist on the hub`);
    }
  });

  it("filters every selector of every per-cluster panel by the selected clusters", () => {
    const timeseries = dashboard.panels.filter((x) => x.type === "timeseries");
    assert.ok(timeseries.length > 0);
    for (const p of timeseries) {
      for (const t of p.targets) {
        const selectors = vectorSelectors(t.expr);
        assert.ok(selectors.length > 0, t.expr);
        for (const s of selectors) {
          assert.ok(
            s.matchers.some((m) => m.label === "cluster" && m.op === "=~" && m.value === "$cluster"),
            `${p.title}: ${s.text} is not filtered by $cluster`,
          );
        }
      }
    }
  });

  it("turns the spokes-federated stat green only when every configured spoke is federated", () => {
    const stat = dashboard.panels.find((p) => p.title === "Spokes federated");
    assert.deepEqual(stat?.fieldConfig.defaults.thresholds?.steps, [
      { color: "red", value: null },
      { color: "green", value: 3 },
    ]);
  });

  it("lists every panel expression, and nothing else, in dashboardExpressions", () => {
    const fromPanels = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.deepEqual(dashboardExpressions(dashboard), fromPanels);
  });

  it("gives panels unique ids and a stable uid, and survives JSON serialisation", () => {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(dashboard.uid, "hubspoke-conjur-federation");
    assert.deepEqual(JSON.parse(JSON.stringify(dashboard)), dashboard);
  });
});
