// The builders' options for the Conjur endpoints the components scrape (followers over HTTPS, the
// hub's primary through its TLS front), the primary's alert, and the pure values the components
// share (paths, command lines, image checks, credentials parsing).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import {
  PRIMARY_ALERTS,
  buildHubPrometheusConfig,
  buildPrimaryAlertRules,
  buildSpokePrometheusConfig,
  renderPrometheusYaml,
  type ScrapeConfig,
} from "../../components/observability/prometheus";
import {
  configHash,
  federationHostPort,
  fluentBitCommand,
  fluentBitRequiresClientCerts,
  parseCredentials,
  prometheusArgs,
} from "../../components/observability/workloads";
import { FIELDS_REJECTED_BY_PROMETHEUS_2_42, allKeys, hubInput, spokeInput } from "./support/fixtures";
import { promtoolSupportsKubernetesSd, requirePromtool, runPromtool } from "../support/promtool";

function job(jobs: ScrapeConfig[], name: string): ScrapeConfig {
  const found = jobs.find((j) => j.job_name === name);
  assert.ok(found, `no job ${name} in ${jobs.map((j) => j.job_name).join(", ")}`);
  return found;
}

const primary = {
  namespace: "conjur-system",
  port: 9443,
  tls: { caFile: "/etc/prometheus/tls/ca.crt", serverName: "conjur-primary.conjur-system.svc" },
};

describe("observability: follower scrape over HTTPS", () => {
  it("scrapes the followers with https, the CA file and the Service name the certificate holds, never skipping verification", () => {
    const follower = job(
      buildSpokePrometheusConfig(
        spokeInput({
          followerMetricsPort: 443,
          followerTls: { caFile: "/tls/ca.crt", serverName: "conjur-follower.conjur-system.svc" },
        }),
      ).scrape_configs,
      "conjur-follower",
    );
    assert.equal(follower.scheme, "https");
    assert.deepEqual(follower.tls_config, {
      ca_file: "/tls/ca.crt",
      server_name: "conjur-follower.conjur-system.svc",
      insecure_skip_verify: false,
      min_version: "TLS12",
    });
    assert.deepEqual(
      (follower.relabel_configs ?? [])
        .filter((r) => r.target_label === "__address__")
        .map((r) => r.replacement),
      ["$1:443", "[$1]:443"],
    );
  });

  it("keeps plain HTTP when no follower TLS is given, as before", () => {
    const follower = job(buildSpokePrometheusConfig(spokeInput()).scrape_configs, "conjur-follower");
    assert.equal(follower.scheme, undefined);
    assert.equal(follower.tls_config, undefined);
  });
});

describe("observability: the hub's scrape of the Conjur primary", () => {
  const cfg = buildHubPrometheusConfig({ ...hubInput(2), primary });

  it("adds a conjur-primary job after the federate jobs, and none without the option", () => {
    assert.deepEqual(
      cfg.scrape_configs.map((j) => j.job_name),
      ["prometheus", "federate-eu-payments", "federate-us-checkout", "conjur-primary"],
    );
    assert.ok(
      !buildHubPrometheusConfig(hubInput(2)).scrape_configs.some((j) => j.job_name === "conjur-primary"),
    );
  });

  it("discovers the running primary pods in their namespace and scrapes each through the TLS front, verified", () => {
    const p = job(cfg.scrape_configs, "conjur-primary");
    assert.equal(p.scheme, "https");
    assert.equal(p.metrics_path, "/metrics");
    assert.deepEqual(p.kubernetes_sd_configs, [{ role: "pod", namespaces: { names: ["conjur-system"] } }]);
    assert.deepEqual(p.tls_config, {
      ca_file: "/etc/prometheus/tls/ca.crt",
      server_name: "conjur-primary.conjur-system.svc",
      insecure_skip_verify: false,
      min_version: "TLS12",
    });
    const relabel = p.relabel_configs ?? [];
    assert.deepEqual(relabel[0], {
      source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
      regex: "conjur-primary",
      action: "keep",
    });
    assert.deepEqual(
      relabel.filter((r) => r.target_label === "__address__").map((r) => r.replacement),
      ["$1:9443", "[$1]:9443"],
    );
  });

  it("labels the primary's series with the hub's cluster, as federated series carry their spoke's", () => {
    const relabel = job(cfg.scrape_configs, "conjur-primary").relabel_configs ?? [];
    assert.deepEqual(relabel[relabel.length - 1], {
      target_label: "cluster",
      replacement: "hub",
      action: "replace",
    });
  });

  it("emits none of the fields Prometheus 2.42 rejects and round-trips through YAML", () => {
    const text = renderPrometheusYaml(cfg);
    const keys = new Set(allKeys(YAML.parse(text)));
    for (const field of FIELDS_REJECTED_BY_PROMETHEUS_2_42) assert.ok(!keys.has(field), field);
    assert.deepEqual(YAML.parse(text), cfg);
  });
});

describe("observability: the primary's alert", () => {
  const rules = buildPrimaryAlertRules({ cluster: "hub" }).groups.flatMap((g) => g.rules);

  it("fires when the primary cannot be scraped or has no target at all, for 5 minutes, naming the hub", () => {
    assert.deepEqual(
      rules.map((r) => r.alert),
      [PRIMARY_ALERTS.primaryDown],
    );
    assert.equal(rules[0].expr, 'up{job="conjur-primary"} == 0 or absent(up{job="conjur-primary"})');
    assert.equal(rules[0].for, "5m");
    assert.deepEqual(rules[0].labels, { severity: "critical", cluster: "hub" });
    assert.equal(rules[0].annotations.runbook, "docs/observability.md#conjurprimarydown");
    assert.equal(
      rules[0].annotations.runbook_url,
      "https://github.com/hubspoke/hubspoke/blob/main/docs/troubleshooting.md#conjurprimarydown",
    );
  });

  describe("with promtool", function () {
    let dir: string;
    before(function () {
      requirePromtool();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-primary-alert-"));
    });
    after(function () {
      if (dir !== undefined && process.env.KEEP_TMP !== "1") fs.rmSync(dir, { recursive: true, force: true });
    });

    it("accepts the hub config with the primary job and the alert rules", () => {
      const rulesFile = path.join(dir, "primary.yml");
      fs.writeFileSync(rulesFile, renderPrometheusYaml(buildPrimaryAlertRules({ cluster: "hub" })));
      const rules = runPromtool(["check", "rules", rulesFile]);
      assert.equal(rules.status, 0, rules.transcript);
      const checked = promtoolSupportsKubernetesSd()
        ? cfg()
        : {
            ...cfg(),
            scrape_configs: cfg().scrape_configs.map(({ kubernetes_sd_configs: sd, ...j }) =>
              sd === undefined ? j : { ...j, static_configs: [{ targets: ["127.0.0.1:1"] }] },
            ),
          };
      const configFile = path.join(dir, "hub.yml");
      fs.writeFileSync(configFile, renderPrometheusYaml(checked));
      const config = runPromtool(["check", "config", "--syntax-only", configFile]);
      assert.equal(config.status, 0, config.transcript);

      function cfg() {
        return buildHubPrometheusConfig({ ...hubInput(1), primary });
      }
    });

    it("fires and clears ConjurPrimaryDown for a failing scrape and for a vanished target", () => {
      fs.writeFileSync(
        path.join(dir, "primary.yml"),
        renderPrometheusYaml(buildPrimaryAlertRules({ cluster: "hub" })),
      );
      const series = {
        job: "conjur-primary",
        instance: "10.200.0.7:9443",
        namespace: "conjur-system",
        pod: "conjur-primary-0",
        cluster: "hub",
      };
      const selector = `up{${Object.entries(series)
        .map(([k, v]) => `${k}="${v}"`)
        .join(", ")}}`;
      const expected = (labels: Record<string, string>, pod: string) => ({
        exp_labels: { ...labels, severity: "critical", cluster: "hub" },
        exp_annotations: {
          summary: "Conjur primary on the hub hub is down or missing",
          description:
            `For 5 minutes the hub Prometheus of hub has failed to scrape a Conjur primary pod (${pod}) ` +
            "or found none at all: followers cannot fetch new seeds or replicate.",
          runbook: "docs/observability.md#conjurprimarydown",
          runbook_url:
            "https://github.com/hubspoke/hubspoke/blob/main/docs/troubleshooting.md#conjurprimarydown",
        },
      });
      const tests = {
        rule_files: ["primary.yml"],
        evaluation_interval: "1m",
        tests: [
          {
            // Down from minute 2 to 12: pending until 7, firing, resolved at 13.
            interval: "1m",
            input_series: [{ series: selector, values: "1 1 0x10 1x10" }],
            alert_rule_test: [
              { eval_time: "4m", alertname: "ConjurPrimaryDown", exp_alerts: [] },
              {
                eval_time: "9m",
                alertname: "ConjurPrimaryDown",
                exp_alerts: [expected(series, series.pod)],
              },
              { eval_time: "15m", alertname: "ConjurPrimaryDown", exp_alerts: [] },
            ],
          },
          {
            // The only target disappears after minute 3 (stale after 5m) and returns at 24.
            interval: "1m",
            input_series: [{ series: selector, values: "1x3 _x20 1x10" }],
            alert_rule_test: [
              { eval_time: "6m", alertname: "ConjurPrimaryDown", exp_alerts: [] },
              {
                eval_time: "18m",
                alertname: "ConjurPrimaryDown",
                exp_alerts: [expected({ job: "conjur-primary" }, "")],
              },
              { eval_time: "26m", alertname: "ConjurPrimaryDown", exp_alerts: [] },
            ],
          },
        ],
      };
      const testFile = path.join(dir, "primary.test.yml");
      fs.writeFileSync(testFile, renderPrometheusYaml(tests));
      const result = runPromtool(["test", "rules", testFile], dir);
      assert.equal(result.status, 0, result.transcript);
    });
  });
});

describe("observability: values the components share", () => {
  it("runs Prometheus with its config, TSDB path, retention and, on spokes only, the mTLS web config", () => {
    const spoke = prometheusArgs({ retentionTime: "7d", retentionSize: "1536MB", webConfig: true });
    assert.deepEqual(spoke, [
      "--config.file=/etc/prometheus/config/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=7d",
      "--storage.tsdb.retention.size=1536MB",
      "--web.listen-address=0.0.0.0:9090",
      "--web.config.file=/etc/prometheus/web/web.yml",
    ]);
    const hub = prometheusArgs({ retentionTime: "30d", retentionSize: "18GB", webConfig: false });
    assert.ok(!hub.some((a) => a.startsWith("--web.config.file")));
  });

  it("runs Fluent Bit's binary on the mounted config file", () => {
    assert.deepEqual(fluentBitCommand(), {
      command: ["/fluent-bit/bin/fluent-bit"],
      args: ["-c", "/fluent-bit/etc/fluent-bit.yaml"],
    });
  });

  it("requires client certificates at the sink unless the image's tag names a release before 5", () => {
    for (const image of [
      "fluent/fluent-bit:3.2.4",
      "fluent/fluent-bit:4.2.0",
      "registry:5000/fluent-bit:4.0.1",
      `fluent/fluent-bit:3.2.4@sha256:${"a".repeat(64)}`,
    ])
      assert.equal(fluentBitRequiresClientCerts(image), false, image);
    for (const image of [
      "fluent/fluent-bit:5.1.1",
      "fluent/fluent-bit:5.1.1-20261117",
      "registry.acme.internal:5000/fluent/fluent-bit:v5.1",
      "fluent-bit:6.0.2-debug",
      // A digest or an unusual tag says nothing about the release: keep the requirement, so an
      // old image fails at start-up (unknown key) rather than accepting forwarders without a certificate.
      `fluent/fluent-bit@sha256:${"a".repeat(64)}`,
      "fluent/fluent-bit:stable",
    ])
      assert.equal(fluentBitRequiresClientCerts(image), true, image);
  });

  it("splits user:password at the first colon and names only the config key when the value is malformed", () => {
    assert.deepEqual(parseCredentials("writer:p:a:ss", "sinkCreds"), {
      username: "writer",
      password: "p:a:ss",
    });
    for (const bad of ["no-colon-secret", ":only-password-secret", "only-user:"]) {
      assert.throws(
        () => parseCredentials(bad, "sinkCreds"),
        (err: Error) =>
          /config key sinkCreds: expected "user:password"/.test(err.message) && !err.message.includes(bad),
      );
    }
  });

  it("federates a spoke at its monitoring hostname on 9090, and hashes config content stably", () => {
    assert.equal(
      federationHostPort({ monitoring: { exposure: "ClusterIP", hostname: "p.example" } }),
      "p.example:9090",
    );
    assert.equal(configHash("a", "b"), configHash("a", "b"));
    assert.notEqual(configHash("a", "b"), configHash("ab"));
    assert.match(configHash("x"), /^[0-9a-f]{16}$/);
  });
});
