// The sharded hub's federation discovery (components/observability/shards.ts) through a real
// Prometheus: Debian's build has no Kubernetes discovery, so file_sd stands in for it, handing
// Prometheus exactly the labels its Kubernetes service discovery gives an ExternalName Service
// (discovery/kubernetes/service.go: __address__ <name>.<namespace>.svc:<port>,
// __meta_kubernetes_service_external_name, __meta_kubernetes_service_port_number,
// __meta_kubernetes_service_label_<sanitized name>). The job's own relabelling then runs for real:
// each shard spoke becomes a target at <external name>:9090 with its cluster and region, and a
// Service without the federation label is dropped.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { buildShardFederationJob, federationService } from "../../components/observability/shards";
import { freeLoopbackPort, startPrometheus, type PrometheusProcess } from "../support/promtool";
import { createTestPki } from "./support/pki";

type Json = any;

/** The discovered labels Prometheus' Kubernetes SD gives one Service port (role service). */
function serviceTargetGroup(service: Json): Json {
  const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");
  const labels: Record<string, string> = {
    __meta_kubernetes_namespace: service.metadata.namespace,
    __meta_kubernetes_service_name: service.metadata.name,
    __meta_kubernetes_service_type: service.spec.type,
    __meta_kubernetes_service_external_name: service.spec.externalName,
    __meta_kubernetes_service_port_name: service.spec.ports[0].name,
    __meta_kubernetes_service_port_number: String(service.spec.ports[0].port),
  };
  for (const [k, v] of Object.entries(service.metadata.labels as Record<string, string>))
    labels[`__meta_kubernetes_service_label_${sanitize(k)}`] = v;
  return {
    targets: [`${service.metadata.name}.${service.metadata.namespace}.svc:${service.spec.ports[0].port}`],
    labels,
  };
}

describe("sharded hub federation discovery, through a real Prometheus", function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-shard-sd-"));
  let prometheus: PrometheusProcess | undefined;
  after(async () => {
    await prometheus?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("federates each labelled Service at <externalName>:9090 with its cluster and region, and drops others", async () => {
    const pki = createTestPki(path.join(dir, "pki"));
    const spokes = [
      { name: "web", region: "eu-west-1", hostname: "prometheus-web.fleet.example" },
      { name: "search", region: "eu-central-1", hostname: "prometheus-search.fleet.example" },
    ];
    const unrelated = federationService({ name: "other", region: "x", hostname: "other.example" }) as Json;
    delete unrelated.metadata.labels["hubspoke.io/federation"];
    const groups = [...spokes.map((s) => federationService(s)), unrelated].map(serviceTargetGroup);
    fs.writeFileSync(path.join(dir, "services.json"), JSON.stringify(groups));

    const job = buildShardFederationJob({
      scrapeInterval: "1s",
      scrapeTimeout: "1s",
      tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey },
      sampleLimit: 1000,
      bodySizeLimit: "10MB",
    }) as Json;
    assert.deepEqual(job.kubernetes_sd_configs, [
      { role: "service", namespaces: { names: ["hubspoke-monitoring"] } },
    ]);
    delete job.kubernetes_sd_configs;
    job.file_sd_configs = [{ files: [path.join(dir, "services.json")] }];
    const config = path.join(dir, "prometheus.yml");
    fs.writeFileSync(config, YAML.stringify({ global: { scrape_interval: "1s" }, scrape_configs: [job] }));

    prometheus = startPrometheus({
      configFile: config,
      storageDir: path.join(dir, "data"),
      port: await freeLoopbackPort(),
    });
    const url = `http://127.0.0.1:${prometheus.port}/api/v1/targets`;
    let targets: Json;
    for (let i = 0; i < 60; i++) {
      try {
        targets = ((await (await fetch(url)).json()) as Json).data;
        if (targets.activeTargets.length === 2 && targets.droppedTargets.length === 1) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(targets, `no answer from Prometheus:\n${prometheus.log()}`);
    const active = (targets.activeTargets as Json[])
      .map((t) => ({ url: t.scrapeUrl.replace(/\?.*$/, ""), labels: t.labels }))
      .sort((a, b) => a.labels.cluster.localeCompare(b.labels.cluster));
    assert.deepEqual(active, [
      {
        url: "https://prometheus-search.fleet.example:9090/federate",
        labels: {
          cluster: "search",
          region: "eu-central-1",
          instance: "prometheus-search.fleet.example:9090",
          job: "federate-_shards",
        },
      },
      {
        url: "https://prometheus-web.fleet.example:9090/federate",
        labels: {
          cluster: "web",
          region: "eu-west-1",
          instance: "prometheus-web.fleet.example:9090",
          job: "federate-_shards",
        },
      },
    ]);
    assert.equal(targets.droppedTargets.length, 1);
    assert.equal(targets.droppedTargets[0].discoveredLabels.__meta_kubernetes_service_name, "federate-other");
  });
});
