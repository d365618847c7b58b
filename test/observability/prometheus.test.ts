// Unit tests of the Prometheus builders: structure, defaults and overrides (the spec refuses bad
// input: test/config-errors.test.ts).
import * as assert from "node:assert/strict";
import YAML from "yaml";
import {
  DEFAULT_FEDERATION_MATCH,
  HUB_ALERTS,
  RECORDING_RULES,
  buildHubAlertRules,
  buildHubPrometheusConfig,
  buildSpokePrometheusConfig,
  buildSpokeRecordingRules,
  buildSpokeWebConfig,
  renderPrometheusYaml,
  type ScrapeConfig,
} from "../../components/observability/prometheus";
import { KNOWN_SERIES } from "../../components/observability/model";
import { FIELDS_REJECTED_BY_PROMETHEUS_2_42, allKeys, hubInput, spokeInput } from "./support/fixtures";
import { aggregations, metricNames, selectsMetricName, vectorSelectors } from "./support/promql";

function job(jobs: ScrapeConfig[], name: string): ScrapeConfig {
  const found = jobs.find((j) => j.job_name === name);
  assert.ok(found, `no job ${name} in ${jobs.map((j) => j.job_name).join(", ")}`);
  return found;
}

describe("observability: spoke Prometheus config", () => {
  it("labels everything the spoke exposes to the hub with its cluster and region", () => {
    const cfg = buildSpokePrometheusConfig(spokeInput());
    assert.deepEqual(cfg.global.external_labels, { cluster: "eu-payments", region: "eu-west-1" });
    assert.equal(cfg.global.scrape_interval, "30s");
    assert.equal(cfg.global.evaluation_interval, "30s");
  });

  it("discovers the followers as running pods of the conjur-follower Deployment in the follower namespace, on the metrics port", () => {
    const follower = job(buildSpokePrometheusConfig(spokeInput()).scrape_configs, "conjur-follower");
    assert.equal(follower.metrics_path, "/metrics");
    assert.deepEqual(follower.kubernetes_sd_configs, [
      { role: "pod", namespaces: { names: ["conjur-system"] } },
    ]);
    const relabel = follower.relabel_configs ?? [];
    // By pod name: the Kubernetes Follower's operator labels its pods itself; both kinds run as
    // Deployment conjur-follower. Prometheus anchors the regex at both ends.
    assert.deepEqual(relabel[0].source_labels, ["__meta_kubernetes_pod_name"]);
    assert.equal(relabel[0].action, "keep");
    const keeps = (pod: string) => new RegExp(`^(?:${String(relabel[0].regex)})$`).test(pod);
    assert.ok(keeps("conjur-follower-7d9f8b6c5-x2x9q"));
    assert.ok(!keeps("conjur-follower-config"), "not a pod of the Deployment");
    assert.ok(!keeps("prometheus-5c9d7-abcde"));
    const addressRules = relabel.filter((r) => r.target_label === "__address__");
    assert.deepEqual(
      addressRules.map((r) => r.replacement),
      ["$1:8080", "[$1]:8080"],
      "IPv4 and IPv6 pod IPs both get the metrics port",
    );
    assert.equal(follower.static_configs, undefined);
  });

  it("drops only the follower alerts when the spokes run no follower (Open Source)", () => {
    const names = (followers: boolean) =>
      buildHubAlertRules({ spokes: [{ name: "a" }], followers }).groups.flatMap((g) =>
        g.rules.map((r) => r.alert),
      );
    const all = names(true);
    assert.ok(all.includes("ConjurFollowerUnhealthy") && all.includes("ConjurFollowerTargetsMissing"));
    assert.deepEqual(
      names(false),
      all.filter((a) => !a.startsWith("ConjurFollower")),
    );
  });

  it("has no follower job on an Open Source spoke (followers: false)", () => {
    const jobs = buildSpokePrometheusConfig(spokeInput({ followers: false })).scrape_configs;
    assert.ok(!jobs.some((j) => j.job_name === "conjur-follower"));
  });

  it("scrapes fixed follower targets instead of discovering them when staticFollowerTargets is given", () => {
    const follower = job(
      buildSpokePrometheusConfig(spokeInput({ staticFollowerTargets: ["127.0.0.1:9101"] })).scrape_configs,
      "conjur-follower",
    );
    assert.deepEqual(follower.static_configs, [{ targets: ["127.0.0.1:9101"] }]);
    assert.equal(follower.kubernetes_sd_configs, undefined);
    assert.equal(follower.relabel_configs, undefined);
  });

  it("adds the annotated-pods job only when asked, honouring the prometheus.io annotations", () => {
    assert.equal(
      buildSpokePrometheusConfig(spokeInput({ annotatedPods: false })).scrape_configs.some(
        (j) => j.job_name === "kubernetes-pods",
      ),
      false,
    );
    const pods = job(buildSpokePrometheusConfig(spokeInput()).scrape_configs, "kubernetes-pods");
    const relabel = pods.relabel_configs ?? [];
    assert.deepEqual(relabel[0], {
      source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
      regex: "true",
      action: "keep",
    });
    const targets = relabel.map((r) => r.target_label);
    assert.ok(targets.includes("__metrics_path__"), "prometheus.io/path sets the metrics path");
    assert.ok(targets.includes("__scheme__"), "prometheus.io/scheme sets the scheme");
    const port = relabel.find((r) =>
      r.source_labels?.includes("__meta_kubernetes_pod_annotation_prometheus_io_port"),
    );
    assert.equal(port?.target_label, "__address__");
    assert.equal(port?.replacement, "$1:$2");
  });

  it("does not scrape the followers a second time through their annotations", () => {
    const pods = job(buildSpokePrometheusConfig(spokeInput()).scrape_configs, "kubernetes-pods");
    assert.ok(
      (pods.relabel_configs ?? []).some(
        (r) =>
          r.action === "drop" &&
          r.regex === "conjur-follower" &&
          r.source_labels?.[0] === "__meta_kubernetes_pod_label_app_kubernetes_io_name",
      ),
    );
  });

  it("never copies all pod labels, which could shadow the cluster and region external labels", () => {
    const cfg = buildSpokePrometheusConfig(spokeInput());
    for (const j of cfg.scrape_configs) {
      assert.ok(!(j.relabel_configs ?? []).some((r) => r.action === "labelmap"), j.job_name);
    }
  });

  it("scrapes itself, over mTLS with a client certificate when its API requires one", () => {
    const plain = job(buildSpokePrometheusConfig(spokeInput()).scrape_configs, "prometheus");
    assert.deepEqual(plain, { job_name: "prometheus", static_configs: [{ targets: ["localhost:9090"] }] });
    const tls = {
      caFile: "/tls/ca.crt",
      certFile: "/tls/c.crt",
      keyFile: "/tls/c.key",
      serverName: "localhost",
    };
    const mtls = job(
      buildSpokePrometheusConfig(spokeInput({ selfScrapeTls: tls, selfScrapeTarget: "localhost:9091" }))
        .scrape_configs,
      "prometheus",
    );
    assert.equal(mtls.scheme, "https");
    assert.deepEqual(mtls.tls_config, {
      ca_file: "/tls/ca.crt",
      cert_file: "/tls/c.crt",
      key_file: "/tls/c.key",
      server_name: "localhost",
      min_version: "TLS12",
    });
    assert.deepEqual(mtls.static_configs, [{ targets: ["localhost:9091"] }]);
  });

  it("loads the recording rules from /etc/prometheus/rules/recording.yml unless told otherwise", () => {
    assert.deepEqual(buildSpokePrometheusConfig(spokeInput()).rule_files, [
      "/etc/prometheus/rules/recording.yml",
    ]);
    assert.deepEqual(
      buildSpokePrometheusConfig(spokeInput({ recordingRulesFile: "/rules/r.yml" })).rule_files,
      ["/rules/r.yml"],
    );
  });
});

describe("observability: spoke recording rules", () => {
  const rules = buildSpokeRecordingRules().groups.flatMap((g) => g.rules);

  it("names every rule level:metric:operations", () => {
    for (const r of rules) {
      assert.match(r.record, /^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/, r.record);
    }
  });

  it("provides the aggregates the hub and dashboard use", () => {
    const names = rules.map((r) => r.record);
    for (const wanted of [
      "cluster:conjur_http_requests:rate5m",
      "cluster:conjur_http_errors:rate5m",
      "cluster:conjur_http_request_duration_seconds:p99_rate5m",
      "job:up:sum",
    ]) {
      assert.ok(names.includes(wanted), wanted);
    }
    assert.deepEqual(new Set(names), new Set(Object.values(RECORDING_RULES)));
  });

  it("counts as errors only 5xx responses, from conjur_http_server_requests_total", () => {
    const errors = rules.find((r) => r.record === RECORDING_RULES.errorRate);
    const selectors = vectorSelectors(errors?.expr ?? "");
    assert.deepEqual(
      selectors.filter((s) => s.matchers.length > 0),
      [
        {
          metric: "conjur_http_server_requests_total",
          matchers: [{ label: "code", op: "=~", value: "5.." }],
          text: 'conjur_http_server_requests_total{code=~"5.."}',
        },
      ],
      "the only filtered selector keeps 5xx codes",
    );
    assert.deepEqual(metricNames(errors?.expr ?? ""), ["conjur_http_server_requests_total"]);
  });

  it("computes p99 from the Conjur request-duration histogram buckets", () => {
    const buckets = rules.find((r) => r.record === RECORDING_RULES.durationBuckets);
    assert.deepEqual(metricNames(buckets?.expr ?? ""), [
      "conjur_http_server_request_duration_seconds_bucket",
    ]);
    assert.deepEqual(aggregations(buckets?.expr ?? ""), [{ op: "sum", modifier: "by", labels: ["le"] }]);
    const p99 = rules.find((r) => r.record === RECORDING_RULES.durationP99);
    assert.equal(p99?.expr, `histogram_quantile(0.99, ${RECORDING_RULES.durationBuckets})`);
  });

  it("reads only series that exist: known series or rules defined earlier in the group", () => {
    const defined = new Set<string>(KNOWN_SERIES);
    for (const r of rules) {
      for (const name of metricNames(r.expr)) {
        assert.ok(defined.has(name), `${r.record} reads ${name}, which nothing produces before it`);
      }
      defined.add(r.record);
    }
  });

  it("is entirely matched by the hub's default federation selectors, so every aggregate reaches the hub", () => {
    const federated = (name: string) =>
      DEFAULT_FEDERATION_MATCH.some((selector) => selectsMetricName(selector, name));
    for (const r of rules) assert.ok(federated(r.record), `${r.record} is not federated by default`);
    assert.ok(!federated("node_cpu_seconds_total"), "raw series stay on the spoke");
  });
});

describe("observability: spoke web config", () => {
  it("serves only TLS 1.2+ and only to clients with a certificate from the federation CA", () => {
    assert.deepEqual(
      buildSpokeWebConfig({ certFile: "/tls/tls.crt", keyFile: "/tls/tls.key", clientCaFile: "/tls/ca.crt" }),
      {
        tls_server_config: {
          cert_file: "/tls/tls.crt",
          key_file: "/tls/tls.key",
          client_auth_type: "RequireAndVerifyClientCert",
          client_ca_file: "/tls/ca.crt",
          min_version: "TLS12",
        },
      },
    );
  });
});

describe("observability: hub Prometheus config", () => {
  it("has one federate job per spoke, named federate-<spoke>, plus a self-scrape", () => {
    const cfg = buildHubPrometheusConfig(hubInput(3));
    assert.deepEqual(
      cfg.scrape_configs.map((j) => j.job_name),
      ["prometheus", "federate-eu-payments", "federate-us-checkout", "federate-ap-ledger"],
    );
    assert.deepEqual(cfg.global.external_labels, { cluster: "hub", region: "eu-central-1" });
    assert.deepEqual(cfg.rule_files, ["/etc/prometheus/rules/hub-alerts.yml"]);
  });

  it("federates over mTLS with honor_labels, the default match[] set and the size limits", () => {
    const federate = job(buildHubPrometheusConfig(hubInput(1)).scrape_configs, "federate-eu-payments");
    assert.deepEqual(federate, {
      job_name: "federate-eu-payments",
      scrape_interval: "30s",
      scrape_timeout: "20s",
      honor_labels: true,
      metrics_path: "/federate",
      params: { "match[]": ['{__name__=~"conjur_.*"}', "up", '{__name__=~"(cluster|job)(_[a-z]+)*:.+"}'] },
      scheme: "https",
      tls_config: {
        ca_file: "/etc/prometheus/federation/ca.crt",
        cert_file: "/etc/prometheus/federation/tls.crt",
        key_file: "/etc/prometheus/federation/tls.key",
        server_name: "prometheus.eu-payments.clusters.example.internal",
        min_version: "TLS12",
      },
      sample_limit: 50000,
      body_size_limit: "50MB",
      static_configs: [
        {
          targets: ["prometheus.eu-payments.clusters.example.internal:9090"],
          labels: { cluster: "eu-payments", region: "eu-west-1" },
        },
      ],
    });
  });

  it("uses a spoke's own match list instead of the default when given", () => {
    const input = hubInput(2);
    input.spokes[1].match = ['{__name__="up"}'];
    const cfg = buildHubPrometheusConfig(input);
    assert.deepEqual(job(cfg.scrape_configs, "federate-us-checkout").params, {
      "match[]": ['{__name__="up"}'],
    });
    assert.deepEqual(job(cfg.scrape_configs, "federate-eu-payments").params, {
      "match[]": [...DEFAULT_FEDERATION_MATCH],
    });
  });

  it("accepts a hub with no spokes yet (only the self-scrape)", () => {
    const cfg = buildHubPrometheusConfig({ ...hubInput(1), spokes: [] });
    assert.deepEqual(
      cfg.scrape_configs.map((j) => j.job_name),
      ["prometheus"],
    );
  });
});

describe("observability: hub alert rules", () => {
  const spokes = [{ name: "eu-payments" }, { name: "us-checkout" }];
  const rules = buildHubAlertRules({ spokes }).groups.flatMap((g) => g.rules);

  it("has every federation and follower alert", () => {
    const names = new Set(rules.map((r) => r.alert));
    for (const alert of Object.values(HUB_ALERTS)) assert.ok(names.has(alert), alert);
  });

  it("alerts when any federate-* target is down for 5 minutes", () => {
    const down = rules.find((r) => r.alert === "SpokeFederationDown");
    assert.equal(down?.expr, 'up{job=~"federate-.*"} == 0');
    assert.equal(down?.for, "5m");
  });

  it("has one SpokeAbsent rule per spoke, using absent_over_time on that spoke's federate job", () => {
    const absent = rules.filter((r) => r.alert === "SpokeAbsent");
    assert.deepEqual(
      absent.map((r) => r.expr),
      [
        'absent_over_time(up{job="federate-eu-payments", cluster="eu-payments"}[10m])',
        'absent_over_time(up{job="federate-us-checkout", cluster="us-checkout"}[10m])',
      ],
    );
    assert.deepEqual(
      absent.map((r) => r.labels.cluster),
      ["eu-payments", "us-checkout"],
    );
  });

  it("alerts on a federated follower target that is down for 5 minutes", () => {
    const follower = rules.find((r) => r.alert === "ConjurFollowerUnhealthy");
    assert.equal(follower?.expr, 'up{job="conjur-follower"} == 0');
    assert.equal(follower?.for, "5m");
  });

  it("alerts on slow and oversized federation scrapes, with configurable thresholds", () => {
    const byName = (rs: typeof rules, n: string) => rs.find((r) => r.alert === n)?.expr;
    assert.equal(byName(rules, "FederationScrapeSlow"), 'scrape_duration_seconds{job=~"federate-.*"} > 10');
    assert.equal(
      byName(rules, "FederationScrapeOversized"),
      'scrape_samples_scraped{job=~"federate-.*"} > 40000',
    );
    const tuned = buildHubAlertRules({
      spokes,
      slowScrapeSeconds: 4.5,
      oversizedSamples: 1000,
    }).groups.flatMap((g) => g.rules);
    assert.equal(byName(tuned, "FederationScrapeSlow"), 'scrape_duration_seconds{job=~"federate-.*"} > 4.5');
    assert.equal(
      byName(tuned, "FederationScrapeOversized"),
      'scrape_samples_scraped{job=~"federate-.*"} > 1000',
    );
  });

  it("gives every alert a severity, a summary and description naming the cluster, and a runbook in docs/observability.md", () => {
    for (const r of rules) {
      assert.match(r.labels.severity, /^(critical|warning)$/, r.alert);
      assert.match(r.annotations.summary, /\{\{ \$labels\.cluster \}\}/, r.alert);
      assert.match(r.annotations.description, /\{\{ \$labels\.cluster \}\}/, r.alert);
      assert.equal(r.annotations.runbook, `docs/observability.md#${r.alert.toLowerCase()}`);
    }
  });

  it("follows a custom federation job prefix", () => {
    const custom = buildHubAlertRules({ spokes, federationJobPrefix: "fed-" }).groups.flatMap((g) => g.rules);
    assert.equal(custom.find((r) => r.alert === "SpokeFederationDown")?.expr, 'up{job=~"fed-.*"} == 0');
    const absent = vectorSelectors(custom.find((r) => r.alert === "SpokeAbsent")?.expr ?? "");
    assert.deepEqual(
      absent.map((s) => s.matchers.find((m) => m.label === "job")),
      [{ label: "job", op: "=", value: "fed-eu-payments" }],
    );
  });
});

describe("observability: Prometheus YAML", () => {
  const documents = {
    "spoke config": buildSpokePrometheusConfig(spokeInput()),
    "spoke config (static targets)": buildSpokePrometheusConfig(
      spokeInput({ staticFollowerTargets: ["127.0.0.1:1"] }),
    ),
    "recording rules": buildSpokeRecordingRules(),
    "web config": buildSpokeWebConfig({ certFile: "/a", keyFile: "/b", clientCaFile: "/c" }),
    "hub config": buildHubPrometheusConfig(hubInput(3)),
    "hub alerts": buildHubAlertRules({ spokes: [{ name: "a" }, { name: "b" }] }),
  };

  it("emits none of the fields Prometheus 2.42 rejects", () => {
    for (const [what, doc] of Object.entries(documents)) {
      const keys = new Set(allKeys(YAML.parse(renderPrometheusYaml(doc))));
      for (const field of FIELDS_REJECTED_BY_PROMETHEUS_2_42)
        assert.ok(!keys.has(field), `${what} has ${field}`);
    }
  });

  it("round-trips every document through YAML unchanged", () => {
    for (const [what, doc] of Object.entries(documents)) {
      assert.deepEqual(YAML.parse(renderPrometheusYaml(doc)), doc, what);
    }
  });

  it("keeps long expressions on one line", () => {
    const text = renderPrometheusYaml(buildHubAlertRules({ spokes: [{ name: "a" }] }));
    const missing = buildHubAlertRules({ spokes: [{ name: "a" }] }).groups[0].rules.find(
      (r) => r.alert === "ConjurFollowerTargetsMissing",
    );
    assert.ok((missing?.expr.length ?? 0) > 100);
    assert.ok(
      text.split("\n").some((line) => line.includes(missing?.expr ?? "?")),
      "expression folded across lines",
    );
  });

  it("quotes values YAML 1.1 would read as booleans, since Prometheus parses YAML 1.1", () => {
    const text = renderPrometheusYaml(buildSpokePrometheusConfig(spokeInput({ region: "no" })));
    assert.match(text, /region: "no"/);
  });

  it("writes shared objects out in full, with no anchors or aliases", () => {
    const shared = { targets: ["a:1"] };
    const text = renderPrometheusYaml({ a: shared, b: shared });
    assert.doesNotMatch(text, /[&*]a\d|[&*]\w+$/m);
    assert.deepEqual(YAML.parse(text), { a: shared, b: shared });
  });
});
