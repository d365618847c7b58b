// Log forwarding end to end with the real Fluent Bit, on loopback: the prod plan's spoke forwarder
// config and hub sink config, with certificates made like the stack's (estate root CA, the sink's
// server certificate for hub.logSinkHostname, the spoke's client certificate). Records arrive with
// the spoke's cluster and region; forwarders without a client certificate, with one from another
// CA, or expecting another server name are refused; with the sink down, records wait on the
// forwarder's filesystem buffer and arrive exactly once when it returns, across a forwarder
// restart too. The configs are changed only in their container paths (mapped to temporary
// directories), the HTTP and forward ports (free loopback ports) and the forwarder's destination
// host (127.0.0.1); the TLS server name stays the stack's.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import type { FluentBitYaml } from "../../components/observability/fluentbit";
import { LOGGING_NAMESPACE, LOG_SINK_SERVICE, serviceDnsNames } from "../../components/naming";
import { plannedStack, readManifests } from "../support/plans";
import { freeLoopbackPort } from "../support/promtool";
import {
  httpGet,
  requireFluentBit,
  startFluentBit,
  stopAllFluentBit,
  waitFor,
  type FluentBitProcess,
} from "../support/fluent-bit";
import { named, readFluentBitYaml } from "./support/fluent-bit-config";
import { localizePaths, prepareLocalRoot, writeTlsDir } from "./support/fluent-bit-local";
import { createStackLikeCa, issueStackLikeCert, type CertFiles } from "./support/pki";

const STACK = "prod";
const SHARED_KEY = "e2e-forward-shared-key";
const CONJUR_NAMESPACE = "conjur-system";

type Mutable = { -readonly [K in keyof FluentBitYaml]: any };

interface Node {
  root: string;
  file: string;
  httpPort: number;
  proc?: FluentBitProcess;
}

/** The output counters of a running Fluent Bit (/api/v1/metrics). */
async function outputMetrics(node: Node): Promise<{ proc_records: number; errors: number; retries: number }> {
  const response = await httpGet(node.httpPort, "/api/v1/metrics");
  if (response?.status !== 200) return { proc_records: 0, errors: 0, retries: 0 };
  const metrics = JSON.parse(response.body) as { output: Record<string, any> };
  return Object.values(metrics.output)[0];
}

/** Records the sink printed (json_lines on stdout), by the e2e id in their log line. */
function sinkRecords(sinkOutput: string): Array<Record<string, any>> {
  return sinkOutput
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

const idOf = (record: Record<string, any>): string | undefined =>
  /\be2e-[a-z]+-\d+\b/.exec(JSON.stringify(record))?.[0];

/** A CRI log line as containerd writes it. */
const criLine = (message: string) => `2026-01-01T00:00:00.000000000Z stdout F ${message}\n`;

describe("observability: log forwarding with the real Fluent Bit, spoke to hub over mTLS", function () {
  this.timeout(180_000);
  let work: string;
  let spokeName: string;
  let spokeRegion: string;
  let serverName: string;
  let forwarderYaml: FluentBitYaml;
  let sinkYaml: FluentBitYaml;
  let ca: CertFiles;
  let sinkLeaf: CertFiles;
  let sinkPort: number;
  let sink: Node;
  let forwarder: Node;
  let appLog: string;
  let conjurLog: string;
  const env = { FLUENT_FORWARD_SHARED_KEY: SHARED_KEY };

  /** Writes a node's config: localized paths, its own HTTP port, loopback forward endpoints. */
  async function makeNode(
    name: string,
    config: FluentBitYaml,
    tls: { ca: CertFiles; leaf?: CertFiles },
    edit: (c: Mutable) => void = () => undefined,
  ): Promise<Node> {
    const root = path.join(work, name);
    prepareLocalRoot(root);
    writeTlsDir(root, tls.ca, tls.leaf ?? tls.ca);
    const local = YAML.parse(localizePaths(YAML.stringify(config), root)) as Mutable;
    const httpPort = await freeLoopbackPort();
    local.service.http_listen = "127.0.0.1";
    local.service.http_port = httpPort;
    for (const input of local.pipeline.inputs) {
      if (input.name === "forward") Object.assign(input, { listen: "127.0.0.1", port: sinkPort });
    }
    for (const output of local.pipeline.outputs) {
      if (output.name === "forward") Object.assign(output, { host: "127.0.0.1", port: sinkPort });
    }
    if (tls.leaf === undefined) {
      // No client certificate at all: the output keeps its CA only.
      for (const output of local.pipeline.outputs) {
        delete output["tls.crt_file"];
        delete output["tls.key_file"];
      }
    }
    edit(local);
    const file = path.join(root, "etc", "fluent-bit.yaml");
    fs.writeFileSync(file, YAML.stringify(local));
    return { root, file, httpPort };
  }

  /** Starts a node and waits (bounded) until its health endpoint answers. */
  async function start(node: Node): Promise<FluentBitProcess> {
    const proc = startFluentBit(node.file, env);
    node.proc = proc;
    await waitFor(
      `fluent-bit ${node.file} to answer on /api/v1/health`,
      async () => ((await httpGet(node.httpPort, "/api/v1/health"))?.status === 200 ? true : undefined),
      { attempts: 100, intervalMs: 100, diagnostics: () => proc.log() },
    );
    return proc;
  }

  /** The container log files tail finds at start (it follows them from their current end). */
  function logFile(node: Node, pod: string, namespace: string): string {
    const file = path.join(
      node.root,
      "var-log",
      "containers",
      `${pod}_${namespace}_app-${"0".repeat(64)}.log`,
    );
    fs.writeFileSync(file, "");
    return file;
  }

  before(async () => {
    requireFluentBit();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "fluent-bit-e2e-"));
    const plan = await plannedStack(STACK);
    const configs = readManifests(plan.outDir).filter((d) => d.object.kind === "ConfigMap");
    const configOf = (name: string) => {
      const found = configs.filter((d) => (d.object.metadata as { name: string }).name === name);
      assert.ok(found.length > 0, `no ${name} in the ${STACK} plan`);
      return readFluentBitYaml((found[0].object.data as Record<string, string>)["fluent-bit.yaml"]);
    };
    forwarderYaml = configOf("fluent-bit-config");
    sinkYaml = configOf("log-sink-config");
    const record = named(forwarderYaml.pipeline.filters, "record_modifier").record as string[];
    spokeName = record[0].replace(/^cluster /, "");
    spokeRegion = record[1].replace(/^region /, "");
    serverName = String(named(forwarderYaml.pipeline.outputs, "forward")["tls.vhost"]);

    // Certificates as components/pki makes them for this estate.
    const pkiDir = path.join(work, "pki");
    ca = createStackLikeCa(pkiDir, "root-ca", "hubspoke root CA");
    sinkLeaf = issueStackLikeCert(pkiDir, ca, "log-sink", {
      commonName: serverName,
      use: "server",
      dnsNames: [serverName, ...serviceDnsNames(LOG_SINK_SERVICE, LOGGING_NAMESPACE)],
    });
    const clientCert = issueStackLikeCert(pkiDir, ca, "forwarder", {
      commonName: `fluent-bit-${spokeName}`,
      use: "client",
    });

    sinkPort = await freeLoopbackPort();
    sink = await makeNode("sink", sinkYaml, { ca, leaf: sinkLeaf });
    forwarder = await makeNode("forwarder", forwarderYaml, { ca, leaf: clientCert });
    appLog = logFile(forwarder, "web-7c9d", "tenant-a");
    conjurLog = logFile(forwarder, "conjur-follower-5f8b", CONJUR_NAMESPACE);
    await start(sink);
    await start(forwarder);
  });

  after(async () => {
    await stopAllFluentBit();
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  });

  it("uses the plan's configs: client certificates required at the sink, the stack's server name checked", () => {
    assert.equal(named(sinkYaml.pipeline.inputs, "forward")["tls.verify_client_cert"], "On");
    const output = named(forwarderYaml.pipeline.outputs, "forward");
    assert.equal(output["tls.verify_hostname"], "On");
    assert.notEqual(serverName, "127.0.0.1");
  });

  it("delivers the spoke's records with its cluster and region, Conjur's lines parsed", async () => {
    fs.appendFileSync(appLog, criLine("e2e-app-1 plain application line"));
    fs.appendFileSync(
      conjurLog,
      criLine(
        " INFO 2026/01/01 00:00:00 +0000 [pid=87] [origin=10.244.1.17] [request_id=4f1c2a9e] [tid=2840] e2e-conjur-1 Started GET",
      ),
    );
    const records = await waitFor(
      "both records at the sink",
      () => {
        const got = sinkRecords(sink.proc!.stdout()).filter((r) => idOf(r) !== undefined);
        return got.length >= 2 ? got : undefined;
      },
      {
        attempts: 150,
        intervalMs: 200,
        diagnostics: () => `${forwarder.proc!.log()}\n---\n${sink.proc!.log()}`,
      },
    );
    for (const record of records) {
      assert.equal(record.cluster, spokeName, JSON.stringify(record));
      assert.equal(record.region, spokeRegion, JSON.stringify(record));
    }
    const parsed = records.find((r) => idOf(r) === "e2e-conjur-1")!;
    assert.equal(parsed.level, "INFO");
    assert.equal(parsed.request_id, "4f1c2a9e");
    assert.equal(parsed.pid, 87, "typed by the parser's types");
    assert.match(parsed.message, /^e2e-conjur-1 Started GET$/);
    const plain = records.find((r) => idOf(r) === "e2e-app-1")!;
    assert.equal(plain.level, undefined, "only conjur-system lines go through the Conjur parsers");
  });

  it("refuses forwarders without a client certificate, with one from another CA, or expecting another server name", async () => {
    assert.ok(sink.proc?.running(), "the sink is up: a refusal must come from TLS, not a closed port");
    const rogueDir = path.join(work, "rogue-pki");
    const rogueCa = createStackLikeCa(rogueDir, "rogue-ca", "another CA");
    const rogueClient = issueStackLikeCert(rogueDir, rogueCa, "rogue", {
      commonName: `fluent-bit-${spokeName}`,
      use: "client",
    });
    const goodClient = {
      cert: path.join(forwarder.root, "tls", "tls.crt"),
      key: path.join(forwarder.root, "tls", "tls.key"),
    };
    // Each refusal shows in the forwarder's TLS error, and the sink's for the client certificate.
    const cases: Array<{ name: string; node: Node; forwarderSays: RegExp; sinkSays?: RegExp }> = [
      {
        name: "no client certificate",
        node: await makeNode("no-cert", forwarderYaml, { ca }),
        forwarderSays: /alert certificate required/,
        sinkSays: /peer did not return a certificate/,
      },
      {
        name: "client certificate from another CA",
        // It trusts the estate CA for the server; its own certificate comes from elsewhere.
        node: await makeNode("rogue-ca", forwarderYaml, { ca, leaf: rogueClient }),
        forwarderSays: /alert unknown ca/,
      },
      {
        name: "another server name",
        node: await makeNode("wrong-name", forwarderYaml, { ca, leaf: goodClient }, (c) => {
          c.pipeline.outputs[0]["tls.vhost"] = "logs.elsewhere.example";
        }),
        forwarderSays: /certificate verify failed/,
      },
    ];
    const files = cases.map((c, i) => logFile(c.node, `refused-${i}`, "tenant-a"));
    await Promise.all(cases.map((c) => start(c.node)));
    files.forEach((file, i) => fs.appendFileSync(file, criLine(`e2e-refused-${i} must not arrive`)));
    // Each has tried and failed at least once: its flush was refused and is queued for a retry.
    await Promise.all(
      cases.map((c) =>
        waitFor(
          `a refused flush of the forwarder with ${c.name}`,
          async () => {
            const m = await outputMetrics(c.node);
            return m.retries + m.errors > 0 ? m : undefined;
          },
          { attempts: 150, intervalMs: 200, diagnostics: () => c.node.proc!.log() },
        ),
      ),
    );
    for (const c of cases) {
      assert.equal((await outputMetrics(c.node)).proc_records, 0, c.name);
      assert.match(c.node.proc!.log(), c.forwarderSays, c.name);
      if (c.sinkSays) assert.match(sink.proc!.log(), c.sinkSays, c.name);
    }
    assert.deepEqual(
      sinkRecords(sink.proc!.stdout())
        .map(idOf)
        .filter((id) => id?.startsWith("e2e-refused-")),
      [],
      "no refused forwarder's record reached the sink",
    );
    const stopped = await Promise.all(cases.map((c) => c.node.proc!.stop()));
    stopped.forEach((status, i) => assert.deepEqual(status, { code: 0, signal: null }, cases[i].name));

    // Negative controls: the accepted forwarder still delivers through the same sink, and a sink
    // without tls.verify_client_cert accepts the forwarder that has no certificate: the key is what refuses it.
    fs.appendFileSync(appLog, criLine("e2e-app-2 after the refusals"));
    await waitFor("the accepted forwarder's next record", () =>
      sinkRecords(sink.proc!.stdout()).some((r) => idOf(r) === "e2e-app-2") ? true : undefined,
    );
    const lenientPort = await freeLoopbackPort();
    const lenient = await makeNode("lenient-sink", sinkYaml, { ca, leaf: sinkLeaf }, (c) => {
      delete c.pipeline.inputs[0]["tls.verify_client_cert"];
      c.pipeline.inputs[0].port = lenientPort;
    });
    const noCert = await makeNode("no-cert-lenient", forwarderYaml, { ca }, (c) => {
      c.pipeline.outputs[0].port = lenientPort;
    });
    const noCertLog = logFile(noCert, "no-cert", "tenant-a");
    await start(lenient);
    await start(noCert);
    fs.appendFileSync(noCertLog, criLine("e2e-lenient-1 accepted without a client certificate"));
    await waitFor(
      "the record of a forwarder without a certificate at a sink that does not require one",
      () => (sinkRecords(lenient.proc!.stdout()).some((r) => idOf(r) === "e2e-lenient-1") ? true : undefined),
      {
        attempts: 150,
        intervalMs: 200,
        diagnostics: () => `${noCert.proc!.log()}\n---\n${lenient.proc!.log()}`,
      },
    );
    await Promise.all([noCert.proc!.stop(), lenient.proc!.stop()]);
  });

  it("buffers on the forwarder's filesystem while the sink is down and delivers exactly once when it returns, across a forwarder restart", async () => {
    const app = path.join(
      forwarder.root,
      "var-log",
      "containers",
      `web-7c9d_tenant-a_app-${"0".repeat(64)}.log`,
    );
    const storage = path.join(forwarder.root, "var-fluent-bit", "state");
    const chunks = () =>
      fs.readdirSync(storage, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".flb"));
    const firstSinkRun = sink.proc!;
    assert.deepEqual(
      await firstSinkRun.stop(),
      { code: 0, signal: null },
      "the sink stops cleanly (no crash on shutdown)",
    );
    const before = await outputMetrics(forwarder);

    const batchA = Array.from({ length: 25 }, (_, i) => `e2e-outage-${i}`);
    fs.appendFileSync(app, batchA.map((id) => criLine(`${id} written while the sink is down`)).join(""));
    await waitFor(
      "batch A buffered on disk after a refused flush",
      async () => {
        const m = await outputMetrics(forwarder);
        return m.retries + m.errors > before.retries + before.errors && chunks().length > 0
          ? true
          : undefined;
      },
      { attempts: 150, intervalMs: 200, diagnostics: () => forwarder.proc!.log() },
    );

    // The forwarder restarts while the sink is still down; more lines arrive while it is away.
    assert.deepEqual(await forwarder.proc!.stop(), { code: 0, signal: null });
    assert.ok(chunks().length > 0, "the buffered chunks survive the forwarder's exit");
    const batchB = Array.from({ length: 25 }, (_, i) => `e2e-restart-${i}`);
    fs.appendFileSync(app, batchB.map((id) => criLine(`${id} written while the forwarder is down`)).join(""));

    await start(sink);
    await start(forwarder);
    const expected = [...batchA, ...batchB];
    await waitFor(
      "every buffered record at the sink",
      () => {
        const ids = new Set(sinkRecords(sink.proc!.stdout()).map(idOf));
        return expected.every((id) => ids.has(id)) ? true : undefined;
      },
      {
        attempts: 300,
        intervalMs: 200,
        diagnostics: () => `${forwarder.proc!.log()}\n---\n${sink.proc!.log()}`,
      },
    );
    // Nothing left to resend: every chunk was acknowledged and removed from the forwarder's disk.
    await waitFor("an empty forwarder buffer", () => (chunks().length === 0 ? true : undefined), {
      attempts: 150,
      intervalMs: 200,
      diagnostics: () => chunks().join("\n"),
    });
    assert.deepEqual(await forwarder.proc!.stop(), { code: 0, signal: null });
    assert.deepEqual(await sink.proc!.stop(), { code: 0, signal: null });

    const counts = new Map<string, number>();
    for (const output of [firstSinkRun.stdout(), sink.proc!.stdout()]) {
      for (const id of sinkRecords(output).map(idOf)) {
        if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    assert.deepEqual(
      expected.filter((id) => counts.get(id) !== 1).map((id) => `${id}: ${counts.get(id) ?? 0}`),
      [],
      "each buffered record exactly once",
    );
    assert.ok(
      [...counts.values()].every((n) => n === 1),
      "no record of the earlier tests arrived twice either",
    );
  });
});
