// End to end on loopback: a fake Conjur follower, a real spoke Prometheus behind mTLS (generated
// config, rules and web config), and a real hub Prometheus federating it with the hub's client
// certificate. Everything listens on 127.0.0.1 only; every wait is bounded.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import {
  RECORDING_RULES,
  buildHubAlertRules,
  buildHubPrometheusConfig,
  buildSpokePrometheusConfig,
  buildSpokeRecordingRules,
  buildSpokeWebConfig,
  renderPrometheusYaml,
} from "../../components/observability/prometheus";
import {
  freeLoopbackPort,
  requirePrometheus,
  startPrometheus,
  type PrometheusProcess,
} from "../support/promtool";
import { createTestPki, type TestPki } from "./support/pki";

const SPOKE = "spoke-e2e";
const SPOKE_REGION = "test-region-1";
const WAIT_MS = 60_000;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A stand-in for a follower's /metrics: counters that grow on every scrape. */
function startFakeFollower(): Promise<{ server: http.Server; port: number }> {
  let scrapes = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    scrapes += 1;
    const body = [
      "# HELP conjur_http_server_requests_total Total HTTP requests served by Conjur.",
      "# TYPE conjur_http_server_requests_total counter",
      `conjur_http_server_requests_total{code="200",operation="authenticate"} ${scrapes * 10}`,
      `conjur_http_server_requests_total{code="200",operation="fetchSecret"} ${scrapes * 25}`,
      `conjur_http_server_requests_total{code="500",operation="fetchSecret"} ${scrapes}`,
      "",
    ].join("\n");
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve({ server, port: address.port });
    });
  });
}

function httpGetJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(
            new Error(`HTTP ${res.statusCode ?? "?"} from ${url}: ${body.slice(0, 200)} (${String(err)})`),
          );
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
  });
}

/** Instant query against a Prometheus HTTP API; [] on any error (the caller polls). */
async function query(port: number, promql: string): Promise<Sample[]> {
  try {
    const body = (await httpGetJson(
      `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`,
    )) as {
      status?: string;
      data?: { result?: Sample[] };
    };
    return body.status === "success" ? (body.data?.result ?? []) : [];
  } catch {
    return [];
  }
}

/** Polls `probe` until it returns a value, at most `WAIT_MS`; fails with `describe()` otherwise. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  describe: () => string,
): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`timed out after ${WAIT_MS / 1000}s waiting for ${what}\n${describe()}`);
}

interface HttpsOutcome {
  status?: number;
  body?: string;
  error?: string;
}

/** GET over HTTPS to the spoke, trusting the test CA, with or without the hub's client cert. */
function spokeGet(
  port: number,
  urlPath: string,
  pki: TestPki,
  withClientCert: boolean,
): Promise<HttpsOutcome> {
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: "127.0.0.1",
        port,
        path: urlPath,
        servername: "localhost",
        ca: fs.readFileSync(pki.caCert),
        ...(withClientCert
          ? { cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) }
          : {}),
        timeout: 5_000,
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode, body }));
        res.on("error", (err) => resolve({ status: res.statusCode, error: err.message }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) =>
      resolve({ error: `${(err as NodeJS.ErrnoException).code ?? ""} ${err.message}` }),
    );
  });
}

describe("observability: hub federates a spoke over mTLS (real Prometheus processes)", function () {
  let dir: string | undefined;
  let pki: TestPki;
  let follower: { server: http.Server; port: number } | undefined;
  let spoke: PrometheusProcess | undefined;
  let hub: PrometheusProcess | undefined;

  const logs = (): string => `--- spoke log ---\n${spoke?.log() ?? ""}\n--- hub log ---\n${hub?.log() ?? ""}`;

  before(async function () {
    const prometheus = requirePrometheus(); // fails (never skips) with install instructions
    assert.ok(prometheus);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-federation-"));
    pki = createTestPki(path.join(dir, "pki"));
    follower = await startFakeFollower();

    const spokePort = await freeLoopbackPort();
    const spokeDir = path.join(dir, "spoke");
    fs.mkdirSync(spokeDir);
    const spokeConfig = buildSpokePrometheusConfig({
      cluster: SPOKE,
      region: SPOKE_REGION,
      scrapeInterval: "1s",
      followerNamespace: "conjur-system",
      followerMetricsPort: 8080,
      annotatedPods: false,
      staticFollowerTargets: [`127.0.0.1:${follower.port}`],
      recordingRulesFile: path.join(spokeDir, "recording.yml"),
      selfScrapeTarget: `localhost:${spokePort}`,
      selfScrapeTls: {
        caFile: pki.caCert,
        certFile: pki.clientCert,
        keyFile: pki.clientKey,
        serverName: "localhost",
      },
    });
    fs.writeFileSync(path.join(spokeDir, "recording.yml"), renderPrometheusYaml(buildSpokeRecordingRules()));
    fs.writeFileSync(path.join(spokeDir, "prometheus.yml"), renderPrometheusYaml(spokeConfig));
    fs.writeFileSync(
      path.join(spokeDir, "web.yml"),
      renderPrometheusYaml(
        buildSpokeWebConfig({ certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFile: pki.caCert }),
      ),
    );
    spoke = startPrometheus({
      configFile: path.join(spokeDir, "prometheus.yml"),
      webConfigFile: path.join(spokeDir, "web.yml"),
      storageDir: path.join(spokeDir, "data"),
      port: spokePort,
    });

    const hubPort = await freeLoopbackPort();
    const hubDir = path.join(dir, "hub");
    fs.mkdirSync(hubDir);
    const hubConfig = buildHubPrometheusConfig({
      cluster: "hub-e2e",
      region: "test-region-0",
      scrapeInterval: "1s",
      scrapeTimeout: "1s",
      spokes: [
        { name: SPOKE, region: SPOKE_REGION, target: `127.0.0.1:${spokePort}`, serverName: "localhost" },
      ],
      tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey },
      sampleLimit: 10_000,
      bodySizeLimit: "10MB",
      ruleFiles: [path.join(hubDir, "alerts.yml")],
      selfScrapeTarget: `127.0.0.1:${hubPort}`,
    });
    fs.writeFileSync(
      path.join(hubDir, "alerts.yml"),
      renderPrometheusYaml(buildHubAlertRules({ spokes: [{ name: SPOKE }] })),
    );
    fs.writeFileSync(path.join(hubDir, "prometheus.yml"), renderPrometheusYaml(hubConfig));
    hub = startPrometheus({
      configFile: path.join(hubDir, "prometheus.yml"),
      storageDir: path.join(hubDir, "data"),
      port: hubPort,
    });
  });

  after(async function () {
    // Always runs, even when `before` failed half-way: stop only what was started.
    await Promise.all([spoke?.stop(), hub?.stop()]);
    await new Promise<void>((resolve) => (follower ? follower.server.close(() => resolve()) : resolve()));
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("brings the follower's Conjur series to the hub, labelled with the spoke's cluster and region", async () => {
    const samples = await waitFor(
      "conjur_http_server_requests_total from the spoke on the hub",
      async () => {
        const result = await query(hub?.port ?? 0, "conjur_http_server_requests_total");
        return result.length === 3 ? result : undefined;
      },
      logs,
    );
    for (const s of samples) {
      assert.equal(s.metric.cluster, SPOKE);
      assert.equal(s.metric.region, SPOKE_REGION);
      assert.equal(s.metric.job, "conjur-follower", "honor_labels keeps the spoke's job label");
    }
    assert.deepEqual(samples.map((s) => s.metric.operation).sort(), [
      "authenticate",
      "fetchSecret",
      "fetchSecret",
    ]);
  });

  it("brings the spoke's recording-rule aggregates to the hub", async () => {
    const [sample] = await waitFor(
      `${RECORDING_RULES.requestRate} on the hub`,
      async () => {
        const result = await query(hub?.port ?? 0, `${RECORDING_RULES.requestRate}{cluster="${SPOKE}"}`);
        return result.length === 1 ? result : undefined;
      },
      logs,
    );
    assert.equal(sample.metric.region, SPOKE_REGION);
    assert.ok(Number(sample.value[1]) > 0, `request rate ${sample.value[1]} should be positive`);
  });

  it("shows the spoke's federation target up on the hub, under the spoke's cluster", async () => {
    const [sample] = await waitFor(
      "up{job=federate-spoke-e2e} == 1",
      async () => {
        const result = await query(hub?.port ?? 0, `up{job="federate-${SPOKE}"} == 1`);
        return result.length === 1 ? result : undefined;
      },
      logs,
    );
    assert.equal(sample.metric.cluster, SPOKE);
  });

  it("federates the spoke's own self-scrape, which needs the client certificate too", async () => {
    await waitFor(
      "the spoke's up{job=prometheus} == 1 on the hub",
      async () => {
        const result = await query(hub?.port ?? 0, `up{job="prometheus", cluster="${SPOKE}"} == 1`);
        return result.length === 1 ? result : undefined;
      },
      logs,
    );
  });

  it("refuses /federate to a client without a certificate, at the TLS layer", async () => {
    // Same URL with the certificate first: proves the spoke is reachable, so a failure below is a refusal.
    const withCert = await waitFor(
      "the spoke answering /federate with a client certificate",
      async () => {
        const o = await spokeGet(spoke?.port ?? 0, "/federate?match[]=up", pki, true);
        return o.status === 200 ? o : undefined;
      },
      logs,
    );
    assert.equal(withCert.status, 200);
    const outcome = await spokeGet(spoke?.port ?? 0, "/federate?match[]=up", pki, false);
    const tlsRefusal = /SSL|TLS|alert|certificate|ECONNRESET|EPIPE|socket hang up/i.test(outcome.error ?? "");
    const httpRefusal = outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500;
    assert.ok(
      tlsRefusal || httpRefusal,
      `expected a TLS refusal or 4xx, got ${JSON.stringify(outcome).slice(0, 300)}`,
    );
    assert.doesNotMatch(outcome.error ?? "", /ECONNREFUSED|timeout/);
  });

  it("serves /federate to the hub's client certificate, with the spoke's external labels", async () => {
    const outcome = await waitFor(
      "a federate response with Conjur series",
      async () => {
        const o = await spokeGet(
          spoke?.port ?? 0,
          `/federate?match[]=${encodeURIComponent('{__name__=~"conjur_.*"}')}`,
          pki,
          true,
        );
        return o.status === 200 && (o.body ?? "").includes("conjur_http_server_requests_total")
          ? o
          : undefined;
      },
      logs,
    );
    assert.match(outcome.body ?? "", new RegExp(`cluster="${SPOKE}"`));
    assert.match(outcome.body ?? "", new RegExp(`region="${SPOKE_REGION}"`));
  });
});
