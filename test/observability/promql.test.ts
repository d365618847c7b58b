// Every PromQL expression the stack generates (recording rules, alerts, federation match[] selectors,
// dashboard queries) parsed with Prometheus' Lezer grammar: in the builders, and in the ConfigMaps of
// the offline plan of every stack. promtool (promtool.test.ts) and the real Prometheus
// (federation.e2e.test.ts) stay the final word on types and behaviour.
import * as assert from "node:assert/strict";
import * as YAML from "yaml";
import { buildFederationDashboard, dashboardExpressions } from "../../components/observability/dashboard";
import {
  DEFAULT_FEDERATION_MATCH,
  buildHubAlertRules,
  buildPrimaryAlertRules,
  buildSpokeRecordingRules,
} from "../../components/observability/prometheus";
import { plannedStack, readManifests } from "../support/plans";
import { STACKS } from "../support/stacks";
import { SPOKES } from "./support/fixtures";
import {
  PromqlSyntaxError,
  aggregations,
  metricNames,
  parsePromql,
  selectsMetricName,
  seriesSelectorProblem,
  vectorSelectors,
} from "./support/promql";

type Json = Record<string, unknown>;

/** Parses an expression; a syntax error fails the test with where it came from, the expression and the position. */
function assertParses(where: string, expression: string): void {
  try {
    parsePromql(expression);
  } catch (error) {
    if (error instanceof PromqlSyntaxError) assert.fail(`${where}: ${error.message}`);
    throw error;
  }
}

function assertSeriesSelector(where: string, selector: string): void {
  assertParses(where, selector);
  const problem = seriesSelectorProblem(selector);
  assert.equal(problem, undefined, `${where}: match[] ${problem ?? ""}`);
}

describe("observability: PromQL grammar helper (test support)", () => {
  it("finds metric names in the syntax tree, not in functions, label lists, strings, ranges or numbers", () => {
    assert.deepEqual(
      metricNames(
        'sum by (cluster, le) (rate(foo_bucket{job=~"a.*", x="rate(bar)"}[5m])) / on (cluster) group_left baz > 1e3',
      ),
      ["foo_bucket", "baz"],
    );
    assert.deepEqual(metricNames("count(up == 1) or vector(0)"), ["up"]);
    assert.deepEqual(metricNames("cluster:x:rate5m offset 5m"), ["cluster:x:rate5m"]);
    assert.deepEqual(metricNames('{__name__="up", job="a"} + on () group_left {__name__=~"b.*"}'), ["up"]);
  });

  it("reads label matchers with their operator and unquoted value", () => {
    assert.deepEqual(vectorSelectors(`up{job=~"a.*", x!="q\\"uote", y!~'s', z=\`raw\\d\`}`), [
      {
        metric: "up",
        matchers: [
          { label: "job", op: "=~", value: "a.*" },
          { label: "x", op: "!=", value: 'q"uote' },
          { label: "y", op: "!~", value: "s" },
          { label: "z", op: "=", value: "raw\\d" },
        ],
        text: `up{job=~"a.*", x!="q\\"uote", y!~'s', z=\`raw\\d\`}`,
      },
    ]);
  });

  it("reads aggregations with their grouping, before or after the body", () => {
    assert.deepEqual(
      aggregations("sum by (cluster, le) (count without (x) (up)) + sum(x) by (le) + max(y)"),
      [
        { op: "sum", modifier: "by", labels: ["cluster", "le"] },
        { op: "count", modifier: "without", labels: ["x"] },
        { op: "sum", modifier: "by", labels: ["le"] },
        { op: "max", modifier: undefined, labels: [] },
      ],
    );
  });

  it("tells which metric names a series selector admits", () => {
    const aggregates = '{__name__=~"(cluster|job)(_[a-z]+)*:.+"}';
    assert.equal(selectsMetricName(aggregates, "job:up:sum"), true);
    assert.equal(selectsMetricName(aggregates, "node_cpu_seconds_total"), false);
    assert.equal(selectsMetricName("up", "up"), true);
    assert.equal(selectsMetricName('up{job="x"}', "down"), false);
    assert.equal(selectsMetricName('{__name__!~"conjur_.*"}', "conjur_x"), false);
  });

  describe("negative controls: broken expressions fail with the expression and the position", () => {
    const broken: ReadonlyArray<readonly [expression: string, position: number]> = [
      ["sum(rate(conjur_http_server_requests_total[5m])", 47], // missing ")"
      ['up{job="conjur-follower"', 24], // unclosed braces
      ['up{job=="a"}', 7],
      ["sum by (le (x)", 11],
      ["rate(x[5m]))", 11],
      ["up ==", 5],
      ["1 +* 2", 3],
      ["histogram_quantile(0.99 x)", 24],
      ["", 0],
    ];
    for (const [expression, position] of broken) {
      it(`rejects ${JSON.stringify(expression)} at position ${position}`, () => {
        assert.throws(
          () => parsePromql(expression),
          (error: unknown) =>
            error instanceof PromqlSyntaxError &&
            error.position === position &&
            error.message.includes(JSON.stringify(expression)) &&
            error.message.includes(`position ${position}`) &&
            error.message.endsWith(`${" ".repeat(position)}^`),
        );
        assert.throws(() => metricNames(expression), PromqlSyntaxError, "every reader parses first");
      });
    }

    it("fails a test that meets a broken expression, naming where it came from", () => {
      assert.throws(
        () => assertParses("rules.yml groups[0].rules[0].expr", "sum(rate(x[5m])"),
        /rules\.yml groups\[0\]\.rules\[0\]\.expr: PromQL syntax error at position 15/,
      );
    });

    it("refuses match[] entries /federate does not take: expressions, ranges and match-everything selectors", () => {
      for (const selector of ["sum(up)", "up[5m]", "up offset 5m", "up == 1", '{job=~".*"}', '{job!="x"}']) {
        assert.notEqual(seriesSelectorProblem(selector), undefined, selector);
      }
      assert.throws(() => assertSeriesSelector("match[0]", '{job=~".*"}'), /matches every series/);
    });
  });
});

describe("observability: every generated PromQL expression parses", () => {
  const spokes = SPOKES.map((spoke) => ({ name: spoke.name }));

  it("the spokes' recording rules", () => {
    const rules = buildSpokeRecordingRules().groups.flatMap((group) => group.rules);
    assert.ok(rules.length > 0);
    for (const rule of rules) assertParses(`recording rule ${rule.record}`, rule.expr);
  });

  it("the hub's alerts, with default and tuned thresholds and a custom job prefix, and the primary's alert", () => {
    const files = [
      buildHubAlertRules({ spokes }),
      buildHubAlertRules({
        spokes,
        slowScrapeSeconds: 4.5,
        oversizedSamples: 1000,
        federationJobPrefix: "fed-",
      }),
      buildPrimaryAlertRules({ cluster: "hub" }),
    ];
    const rules = files.flatMap((file) => file.groups.flatMap((group) => group.rules));
    assert.ok(rules.length > files.length);
    for (const rule of rules) assertParses(`alert ${rule.alert}`, rule.expr);
  });

  it("the default federation match[] selectors, each a series selector /federate accepts", () => {
    DEFAULT_FEDERATION_MATCH.forEach((selector, index) => assertSeriesSelector(`match[${index}]`, selector));
  });

  it("the federation dashboard's queries", () => {
    const expressions = dashboardExpressions(buildFederationDashboard({ spokes: spokes.map((s) => s.name) }));
    assert.ok(expressions.length >= 6);
    expressions.forEach((expression, index) => assertParses(`dashboard target ${index}`, expression));
  });

  describe("in the offline plan's ConfigMaps", () => {
    interface Found {
      readonly where: string;
      readonly expression: string;
    }

    /** Values under `expr` (rules, dashboard targets) and `match[]` (federation params) anywhere in a document. */
    function collect(value: unknown, where: string, exprs: Found[], selectors: Found[]): void {
      if (Array.isArray(value)) {
        value.forEach((item, index) => collect(item, `${where}[${index}]`, exprs, selectors));
        return;
      }
      if (typeof value !== "object" || value === null) return;
      for (const [key, item] of Object.entries(value as Json)) {
        const at = `${where}.${key}`;
        if (key === "expr" && typeof item === "string") exprs.push({ where: at, expression: item });
        else if (key === "match[]" && Array.isArray(item)) {
          item.forEach((selector, index) =>
            selectors.push({ where: `${at}[${index}]`, expression: String(selector) }),
          );
        } else collect(item, at, exprs, selectors);
      }
    }

    for (const stack of STACKS) {
      it(`stack ${stack}: every expr and match[] in every ConfigMap`, async () => {
        const plan = await plannedStack(stack);
        const exprs: Found[] = [];
        const selectors: Found[] = [];
        for (const { cluster, object } of readManifests(plan.outDir)) {
          if (object?.kind !== "ConfigMap") continue;
          const metadata = object.metadata as Json;
          for (const [file, text] of Object.entries((object.data as Json | undefined) ?? {})) {
            if (typeof text !== "string" || !/\.(?:ya?ml|json)$/.test(file)) continue;
            const where = `${cluster}: ConfigMap ${String(metadata.namespace)}/${String(metadata.name)} ${file}`;
            // Multi-document YAML (JSON is YAML too); a file that is not YAML holds no PromQL here.
            for (const document of YAML.parseAllDocuments(text)) {
              if (document.errors.length === 0) collect(document.toJS(), where, exprs, selectors);
            }
          }
        }
        assert.ok(
          exprs.some((f) => /rules\.yml/.test(f.where)),
          `no rule expressions found in ${stack}`,
        );
        assert.ok(
          exprs.some((f) => /\.json/.test(f.where)),
          `no dashboard queries found in ${stack}`,
        );
        assert.ok(selectors.length > 0, `no federation match[] found in ${stack}`);
        for (const found of exprs) assertParses(found.where, found.expression);
        for (const found of selectors) assertSeriesSelector(found.where, found.expression);
      });
    }
  });
});
