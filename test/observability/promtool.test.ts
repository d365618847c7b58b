// Validates the generated Prometheus documents with Prometheus 2.42's own promtool: syntax of
// configs, rules and web config, and `promtool test rules` cases that fire and clear each alert
// and pin the recording rules' values. promtool is required: a missing binary fails the suite.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  HUB_ALERTS,
  RECORDING_RULES,
  buildHubAlertRules,
  buildHubPrometheusConfig,
  buildSpokePrometheusConfig,
  buildSpokeRecordingRules,
  buildSpokeWebConfig,
  renderPrometheusYaml,
  type AlertingRule,
} from "../../components/observability/prometheus";
import { buildFederationDashboard, dashboardExpressions } from "../../components/observability/dashboard";
import {
  promtoolSupportsKubernetesSd,
  requirePromtool,
  runPromtool,
  type ToolResult,
} from "../support/promtool";
import { SPOKES, hubInput, spokeInput } from "./support/fixtures";
import { createTestPki, type TestPki } from "./support/pki";

function assertPasses(result: ToolResult): void {
  assert.equal(result.status, 0, result.transcript);
}

function assertFails(result: ToolResult, pattern: RegExp): void {
  assert.notEqual(result.status, 0, `expected failure:\n${result.transcript}`);
  assert.match(result.stdout + result.stderr, pattern, result.transcript);
}

/** Expands the `{{ $labels.x }}` templates the alert annotations use, as Prometheus would. */
function expandAnnotations(
  annotations: Record<string, string>,
  labels: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).map(([key, template]) => {
      const expanded = template.replace(
        /\{\{ \$labels\.([a-z_]+) \}\}/g,
        (_, name: string) => labels[name] ?? "",
      );
      assert.doesNotMatch(
        expanded,
        /\{\{/,
        `annotation ${key} uses a template this test cannot expand: ${template}`,
      );
      return [key, expanded];
    }),
  );
}

function selector(labels: Record<string, string>, name = "up"): string {
  const { __name__: metric = name, ...rest } = labels;
  return `${metric}{${Object.entries(rest)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ")}}`;
}

interface AlertCheck {
  eval_time: string;
  alertname: string;
  exp_alerts: Array<{ exp_labels: Record<string, string>; exp_annotations: Record<string, string> }>;
}

describe("observability: promtool validates the generated Prometheus documents", function () {
  let dir: string;
  let pki: TestPki;

  before(function () {
    requirePromtool(); // fails (never skips) with install instructions when promtool is missing
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-promtool-"));
    pki = createTestPki(path.join(dir, "pki"));
  });

  after(function () {
    if (dir !== undefined && process.env.KEEP_TMP !== "1") fs.rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, doc: unknown): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, renderPrometheusYaml(doc));
    return file;
  }

  for (const count of [1, 2, 3] as const) {
    it(`accepts the hub config and alert rules for ${count} spoke(s)`, () => {
      const spokes = SPOKES.slice(0, count).map((s) => ({ name: s.name }));
      const rules = write(`hub-${count}-alerts.yml`, buildHubAlertRules({ spokes }));
      assertPasses(
        runPromtool([
          "check",
          "config",
          "--syntax-only",
          write(`hub-${count}.yml`, buildHubPrometheusConfig(hubInput(count))),
        ]),
      );
      assertPasses(runPromtool(["check", "rules", rules]));
      // Full check: real certificate files, and a relative rule file that resolves next to the
      // config, so promtool also loads the rules (five alerts plus one SpokeAbsent per spoke).
      const full = buildHubPrometheusConfig({
        ...hubInput(count),
        tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey },
        ruleFiles: [`hub-${count}-alerts.yml`],
      });
      const result = runPromtool(["check", "config", write(`hub-${count}-full.yml`, full)]);
      assertPasses(result);
      assert.match(result.stdout, new RegExp(`SUCCESS: ${count + 5} rules found`), result.transcript);
    });
  }

  it("accepts a hub config with a spoke-specific match list and tuned alert thresholds", () => {
    const input = hubInput(2);
    input.spokes[1].match = ['{__name__=~"conjur_.*"}', '{job="conjur-follower"}'];
    assertPasses(
      runPromtool([
        "check",
        "config",
        "--syntax-only",
        write("hub-custom.yml", { ...buildHubPrometheusConfig(input), rule_files: [] }),
      ]),
    );
    const rules = buildHubAlertRules({
      spokes: [{ name: "a" }],
      slowScrapeSeconds: 2.5,
      oversizedSamples: 1000,
      federationJobPrefix: "fed-",
    });
    assertPasses(runPromtool(["check", "rules", write("hub-custom-alerts.yml", rules)]));
  });

  it("accepts the spoke config with static follower targets, its recording rules and an mTLS self-scrape", () => {
    const rules = write("recording.yml", buildSpokeRecordingRules());
    assertPasses(runPromtool(["check", "rules", rules]));
    const input = spokeInput({
      recordingRulesFile: "recording.yml",
      annotatedPods: false,
      staticFollowerTargets: ["127.0.0.1:9101"],
      scrapeTimeout: "10s",
      selfScrapeTls: {
        caFile: pki.caCert,
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
        serverName: "localhost",
      },
    });
    const result = runPromtool([
      "check",
      "config",
      write("spoke-static.yml", buildSpokePrometheusConfig(input)),
    ]);
    assertPasses(result);
    assert.match(result.stdout, /SUCCESS: 8 rules found/, result.transcript);
  });

  it("accepts the spoke config with Kubernetes discovery (only the discovery block is swapped out where promtool lacks it)", () => {
    const cfg = buildSpokePrometheusConfig(spokeInput({ recordingRulesFile: "recording.yml" }));
    write("recording.yml", buildSpokeRecordingRules());
    // Debian's promtool is built without Kubernetes discovery; there the relabelling, jobs and
    // everything else are still checked, with a static target standing in for the discovery.
    const checked = promtoolSupportsKubernetesSd()
      ? cfg
      : {
          ...cfg,
          scrape_configs: cfg.scrape_configs.map(({ kubernetes_sd_configs: sd, ...job }) =>
            sd === undefined ? job : { ...job, static_configs: [{ targets: ["127.0.0.1:1"] }] },
          ),
        };
    assert.ok(cfg.scrape_configs.filter((j) => j.kubernetes_sd_configs !== undefined).length === 2);
    const syntax = runPromtool(["check", "config", "--syntax-only", write("spoke-k8s.yml", checked)]);
    assertPasses(syntax);
    const full = runPromtool(["check", "config", path.join(dir, "spoke-k8s.yml")]);
    assertPasses(full);
    assert.match(full.stdout, /SUCCESS: 8 rules found/, full.transcript);
  });

  it("documents whether this promtool can check kubernetes_sd_configs (Debian's cannot)", () => {
    const probe = write("k8s-probe.yml", {
      scrape_configs: [{ job_name: "probe", kubernetes_sd_configs: [{ role: "pod" }] }],
    });
    const result = runPromtool(["check", "config", "--syntax-only", probe]);
    if (promtoolSupportsKubernetesSd()) assertPasses(result);
    else assertFails(result, /field kubernetes_sd_configs not found/);
  });

  it("accepts the spoke web config with real certificate files", () => {
    const web = write(
      "web.yml",
      buildSpokeWebConfig({ certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert }),
    );
    assertPasses(runPromtool(["check", "web-config", web]));
  });

  it("accepts every dashboard expression as valid PromQL", () => {
    const exprs = dashboardExpressions(buildFederationDashboard({ spokes: SPOKES.map((s) => s.name) }));
    const asRules = {
      groups: [
        { name: "dashboard", rules: exprs.map((expr, i) => ({ record: `dashboard:expr:n${i}`, expr })) },
      ],
    };
    assertPasses(runPromtool(["check", "rules", write("dashboard-exprs.yml", asRules)]));
  });

  describe("negative controls: the same checks do fail on broken input", () => {
    it("check rules rejects a rule with a PromQL syntax error", () => {
      const broken = buildSpokeRecordingRules();
      broken.groups[0].rules[0].expr = "sum(rate(conjur_http_server_requests_total[5m])"; // missing ")"
      assertFails(
        runPromtool(["check", "rules", write("broken-rules.yml", broken)]),
        /unclosed left parenthesis|parse error/,
      );
    });

    it("check config rejects a field that Prometheus 2.42 does not know", () => {
      const cfg = buildHubPrometheusConfig(hubInput(1));
      const withNewerField = {
        ...cfg,
        rule_files: [],
        scrape_configs: cfg.scrape_configs.map((j) => ({ ...j, keep_dropped_targets: 10 })),
      };
      assertFails(
        runPromtool(["check", "config", "--syntax-only", write("newer-field.yml", withNewerField)]),
        /field keep_dropped_targets not found/,
      );
    });

    it("check config rejects a scrape timeout above the interval", () => {
      const cfg = buildHubPrometheusConfig(hubInput(1));
      const job = { ...cfg.scrape_configs[1], scrape_timeout: "1m" };
      assertFails(
        runPromtool([
          "check",
          "config",
          "--syntax-only",
          write("timeout.yml", { ...cfg, rule_files: [], scrape_configs: [job] }),
        ]),
        /scrape timeout greater than scrape interval/,
      );
    });

    it("check web-config rejects an unknown client_auth_type", () => {
      const web = buildSpokeWebConfig({
        certFile: pki.serverCert,
        keyFile: pki.serverKey,
        clientCaFile: pki.caCert,
      });
      const broken = {
        tls_server_config: { ...web.tls_server_config, client_auth_type: "RequireSomething" },
      };
      assertFails(
        runPromtool(["check", "web-config", write("broken-web.yml", broken)]),
        /RequireSomething|invalid/i,
      );
    });

    it("test rules fails when an expected alert does not fire", () => {
      write("neg-alerts.yml", buildHubAlertRules({ spokes: [{ name: "a" }] }));
      const tests = {
        rule_files: ["neg-alerts.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              { series: 'up{job="federate-a", cluster="a", instance="a:9090"}', values: "1x20" },
            ],
            alert_rule_test: [
              {
                eval_time: "10m",
                alertname: "SpokeFederationDown",
                exp_alerts: [
                  {
                    exp_labels: { severity: "critical", job: "federate-a", cluster: "a", instance: "a:9090" },
                  },
                ],
              },
            ],
          },
        ],
      };
      assertFails(runPromtool(["test", "rules", write("neg-test.yml", tests)], dir), /FAILED/);
    });
  });

  describe("promtool test rules", () => {
    const spokes = [{ name: "eu-payments" }, { name: "us-checkout" }];
    const alertRules = buildHubAlertRules({ spokes, slowScrapeSeconds: 10, oversizedSamples: 40000 });
    const rulesByName = new Map<string, AlertingRule>(alertRules.groups[0].rules.map((r) => [r.alert, r]));

    /** The alert Prometheus would raise for `alert` on a series with `labels`. */
    function expected(alert: string, labels: Record<string, string>): AlertCheck["exp_alerts"][0] {
      const rule = rulesByName.get(alert);
      assert.ok(rule, alert);
      const all = { ...labels, ...rule.labels };
      return { exp_labels: all, exp_annotations: expandAnnotations(rule.annotations, all) };
    }

    /** pending (not yet firing) → firing → resolved, at the given evaluation times. */
    function fireAndClear(
      alert: string,
      labels: Record<string, string>,
      times: { before: string; firing: string; after: string },
    ): AlertCheck[] {
      return [
        { eval_time: times.before, alertname: alert, exp_alerts: [] },
        { eval_time: times.firing, alertname: alert, exp_alerts: [expected(alert, labels)] },
        { eval_time: times.after, alertname: alert, exp_alerts: [] },
      ];
    }

    const euFederate = {
      job: "federate-eu-payments",
      instance: "prometheus.eu-payments.example:9090",
      cluster: "eu-payments",
      region: "eu-west-1",
    };
    const follower = {
      job: "conjur-follower",
      instance: "10.244.1.17:8080",
      namespace: "conjur-system",
      pod: "conjur-follower-7d9f6c-x2k4q",
      cluster: "eu-payments",
      region: "eu-west-1",
    };

    it("fires and clears every hub alert", () => {
      write("hub-alerts.yml", alertRules);
      const tests = {
        rule_files: ["hub-alerts.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            // Federation target down from minute 2 to 12: pending until 7, firing, resolved at 13.
            interval: "1m",
            input_series: [{ series: selector(euFederate), values: "1 1 0x10 1x10" }],
            alert_rule_test: fireAndClear(HUB_ALERTS.federationDown, euFederate, {
              before: "4m",
              firing: "9m",
              after: "15m",
            }),
          },
          {
            // us-checkout's target vanishes after minute 5 and returns at 26; eu-payments never goes.
            interval: "1m",
            input_series: [
              { series: selector(euFederate), values: "1x40" },
              {
                series: selector({
                  job: "federate-us-checkout",
                  instance: "p.us:9090",
                  cluster: "us-checkout",
                }),
                values: "1x5 _x20 1x10",
              },
            ],
            alert_rule_test: fireAndClear(
              HUB_ALERTS.spokeAbsent,
              { job: "federate-us-checkout", cluster: "us-checkout" },
              { before: "12m", firing: "18m", after: "27m" },
            ),
          },
          {
            interval: "1m",
            input_series: [{ series: selector(follower), values: "1 1 0x10 1x10" }],
            alert_rule_test: fireAndClear(HUB_ALERTS.followerUnhealthy, follower, {
              before: "4m",
              firing: "9m",
              after: "15m",
            }),
          },
          {
            // The follower's series stops at minute 3 (stale after the 5m lookback) and returns at 24.
            interval: "1m",
            input_series: [
              { series: selector(euFederate), values: "1x40" },
              { series: selector(follower), values: "1x3 _x20 1x10" },
            ],
            alert_rule_test: fireAndClear(
              HUB_ALERTS.followerTargetsMissing,
              { cluster: "eu-payments" },
              { before: "15m", firing: "23m", after: "27m" },
            ),
          },
          {
            // Scrapes take 15s from minute 2 to 17: firing after 10m above the 10s threshold.
            interval: "1m",
            input_series: [
              {
                series: selector({ ...euFederate, __name__: "scrape_duration_seconds" }),
                values: "2 2 15x15 2x10",
              },
            ],
            alert_rule_test: fireAndClear(HUB_ALERTS.scrapeSlow, euFederate, {
              before: "8m",
              firing: "14m",
              after: "20m",
            }),
          },
          {
            interval: "1m",
            input_series: [
              {
                series: selector({ ...euFederate, __name__: "scrape_samples_scraped" }),
                values: "1000 1000 50000x20 1000x10",
              },
            ],
            alert_rule_test: fireAndClear(HUB_ALERTS.scrapeOversized, euFederate, {
              before: "10m",
              firing: "19m",
              after: "25m",
            }),
          },
          {
            // Healthy fleet: nothing fires.
            interval: "1m",
            input_series: [
              { series: selector(euFederate), values: "1x30" },
              {
                series: selector({
                  ...euFederate,
                  job: "federate-us-checkout",
                  cluster: "us-checkout",
                  instance: "p.us:9090",
                }),
                values: "1x30",
              },
              { series: selector(follower), values: "1x30" },
              { series: selector({ ...follower, cluster: "us-checkout" }), values: "1x30" },
              { series: selector({ ...euFederate, __name__: "scrape_duration_seconds" }), values: "1x30" },
              { series: selector({ ...euFederate, __name__: "scrape_samples_scraped" }), values: "500x30" },
            ],
            alert_rule_test: Object.values(HUB_ALERTS).map((alertname) => ({
              eval_time: "25m",
              alertname,
              exp_alerts: [],
            })),
          },
        ],
      };
      const result = runPromtool(["test", "rules", write("hub-alerts.test.yml", tests)], dir);
      assertPasses(result);
      assert.match(result.stdout, /SUCCESS/);
    });

    it("computes the spoke recording rules' values", () => {
      write("recording.yml", buildSpokeRecordingRules());
      const requests = "conjur_http_server_requests_total";
      const bucket = (le: string) =>
        `conjur_http_server_request_duration_seconds_bucket{le="${le}", operation="authenticate"}`;
      // Rates: authenticate 200 → 1/s, fetch 200 → 2/s, authenticate 500 → 0.5/s.
      // Buckets (per second): ≤0.25 → 0.5, ≤0.5 → 1, ≤1 → 1, +Inf → 1.
      // histogram_quantile's arithmetic for q=0.99 in the (0.25, 0.5] bucket, in Prometheus' order.
      const p99 = 0.25 + (0.5 - 0.25) * ((0.99 * 1 - 0.5) / (1 - 0.5));
      const tests = {
        rule_files: ["recording.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              { series: `${requests}{code="200", operation="authenticate"}`, values: "0+60x20" },
              { series: `${requests}{code="200", operation="fetch_secret"}`, values: "0+120x20" },
              { series: `${requests}{code="500", operation="authenticate"}`, values: "0+30x20" },
              { series: bucket("0.25"), values: "0+30x20" },
              { series: bucket("0.5"), values: "0+60x20" },
              { series: bucket("1"), values: "0+60x20" },
              { series: bucket("+Inf"), values: "0+60x20" },
              { series: 'up{job="conjur-follower", instance="10.0.0.1:8080"}', values: "1x20" },
              { series: 'up{job="conjur-follower", instance="10.0.0.2:8080"}', values: "0x20" },
              { series: 'up{job="prometheus", instance="localhost:9090"}', values: "1x20" },
            ],
            promql_expr_test: [
              {
                expr: RECORDING_RULES.requestRate,
                eval_time: "10m",
                exp_samples: [{ labels: RECORDING_RULES.requestRate, value: 3.5 }],
              },
              {
                expr: RECORDING_RULES.requestRateByOperation,
                eval_time: "10m",
                exp_samples: [
                  {
                    labels: `${RECORDING_RULES.requestRateByOperation}{operation="authenticate"}`,
                    value: 1.5,
                  },
                  { labels: `${RECORDING_RULES.requestRateByOperation}{operation="fetch_secret"}`, value: 2 },
                ],
              },
              {
                expr: RECORDING_RULES.errorRate,
                eval_time: "10m",
                exp_samples: [{ labels: RECORDING_RULES.errorRate, value: 0.5 }],
              },
              {
                expr: RECORDING_RULES.errorRatio,
                eval_time: "10m",
                exp_samples: [{ labels: RECORDING_RULES.errorRatio, value: 0.5 / 3.5 }],
              },
              {
                expr: RECORDING_RULES.durationP99,
                eval_time: "10m",
                exp_samples: [{ labels: RECORDING_RULES.durationP99, value: p99 }],
              },
              {
                expr: RECORDING_RULES.upByJob,
                eval_time: "10m",
                exp_samples: [
                  { labels: `${RECORDING_RULES.upByJob}{job="conjur-follower"}`, value: 1 },
                  { labels: `${RECORDING_RULES.upByJob}{job="prometheus"}`, value: 1 },
                ],
              },
              {
                expr: RECORDING_RULES.targetsByJob,
                eval_time: "10m",
                exp_samples: [
                  { labels: `${RECORDING_RULES.targetsByJob}{job="conjur-follower"}`, value: 2 },
                  { labels: `${RECORDING_RULES.targetsByJob}{job="prometheus"}`, value: 1 },
                ],
              },
            ],
          },
          {
            // Only successful traffic: errors read 0 (not "no data"), so the ratio is 0.
            interval: "1m",
            input_series: [
              { series: `${requests}{code="200", operation="authenticate"}`, values: "0+60x20" },
            ],
            promql_expr_test: [
              {
                expr: RECORDING_RULES.errorRate,
                eval_time: "10m",
                exp_samples: [{ labels: RECORDING_RULES.errorRate, value: 0 }],
              },
              {
                expr: RECORDING_RULES.errorRatio,
                eval_time: "10m",
                exp_samples: [{ labels: RECORDING_RULES.errorRatio, value: 0 }],
              },
            ],
          },
          {
            // No Conjur metrics at all (telemetry off): no aggregate pretends there is traffic.
            interval: "1m",
            input_series: [{ series: 'up{job="prometheus", instance="localhost:9090"}', values: "1x20" }],
            promql_expr_test: [
              { expr: RECORDING_RULES.requestRate, eval_time: "10m", exp_samples: [] },
              { expr: RECORDING_RULES.errorRate, eval_time: "10m", exp_samples: [] },
            ],
          },
        ],
      };
      const result = runPromtool(["test", "rules", write("recording.test.yml", tests)], dir);
      assertPasses(result);
      assert.match(result.stdout, /SUCCESS/);
    });
  });
});
