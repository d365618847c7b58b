// The real Fluent Bit judges every config the plans render: for each Fluent Bit ConfigMap of dev,
// staging and prod, `--dry-run` (which checks every plugin property from 5.0 on), then a real start
// that must answer on the health endpoint and exit 0 on SIGTERM. The configs are changed only in
// their container paths (mapped to temporary directories: /var/log/containers and the node's buffer
// do not exist here) and in their HTTP and forward ports (free loopback ports), so that all of them
// run side by side.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { STACKS } from "../support/stacks";
import { freeLoopbackPort } from "../support/promtool";
import {
  httpGet,
  requireFluentBit,
  runFluentBitAsync,
  startFluentBit,
  stopAllFluentBit,
  waitFor,
} from "../support/fluent-bit";
import {
  createLogPki,
  localizePaths,
  planFluentBitConfigs,
  prepareLocalRoot,
  writeTlsDir,
  type PlannedFluentBitConfig,
} from "./support/fluent-bit-local";

const ENV = {
  FLUENT_FORWARD_SHARED_KEY: "binary-test-key",
  LOG_SINK_USER: "writer",
  LOG_SINK_PASSWORD: "binary-test-password",
};

interface LocalConfig {
  label: string;
  file: string;
  httpPort: number;
}

describe("observability: every Fluent Bit config of every stack, run by the real Fluent Bit", function () {
  this.timeout(180_000);
  let work: string;
  let configs: PlannedFluentBitConfig[];
  let local: LocalConfig[];

  /** A config as this machine can run it: paths under `root`, its own loopback ports. */
  async function localize(label: string, text: string, edit: (c: any) => void = () => undefined) {
    const root = fs.mkdtempSync(path.join(work, "run-"));
    prepareLocalRoot(root);
    writeTlsDir(root, pki.ca, label.endsWith("log-sink-config") ? pki.sink : pki.forwarder);
    const config = YAML.parse(localizePaths(text, root));
    const httpPort = await freeLoopbackPort();
    config.service.http_listen = "127.0.0.1";
    config.service.http_port = httpPort;
    for (const input of config.pipeline.inputs) {
      if (input.name === "forward")
        Object.assign(input, { listen: "127.0.0.1", port: await freeLoopbackPort() });
    }
    edit(config);
    const file = path.join(root, "etc", "fluent-bit.yaml");
    fs.writeFileSync(file, YAML.stringify(config));
    return { label, file, httpPort };
  }

  let pki: ReturnType<typeof createLogPki>;

  before(async () => {
    requireFluentBit();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "fluent-bit-binary-"));
    pki = createLogPki(path.join(work, "pki"), ["logs.example.internal"], "spoke");
    configs = [];
    for (const stack of STACKS) configs.push(...(await planFluentBitConfigs(stack)));
    local = [];
    for (const c of configs) {
      assert.deepEqual(Object.keys(c.data), ["fluent-bit.yaml"], `${c.cluster}/${c.configMap}`);
      local.push(await localize(`${c.stack}: ${c.cluster}/${c.configMap}`, c.data["fluent-bit.yaml"]));
    }
  });

  after(async () => {
    await stopAllFluentBit();
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  });

  it("covers the sink and every converted spoke's forwarder of dev, staging and prod", () => {
    for (const stack of STACKS) {
      const of = configs.filter((c) => c.stack === stack).map((c) => c.configMap);
      assert.equal(of.filter((n) => n === "log-sink-config").length, 1, stack);
      assert.ok(of.filter((n) => n === "fluent-bit-config").length >= 1, stack);
    }
    assert.ok(configs.length >= 8, `${configs.length} configs`);
  });

  it("passes --dry-run, which checks every plugin property", async () => {
    const results = await Promise.all(local.map((c) => runFluentBitAsync(["--dry-run", "-c", c.file], ENV)));
    results.forEach((result, i) => {
      assert.equal(result.status, 0, `${local[i].label}:\n${result.output}`);
      assert.match(result.output, /configuration test is successful/, local[i].label);
    });
  });

  it("--dry-run refuses an unknown property (negative control)", async () => {
    const sink = configs.find((c) => c.configMap === "log-sink-config")!;
    const broken = await localize("broken: log-sink-config", sink.data["fluent-bit.yaml"], (c) => {
      c.pipeline.inputs[0]["tls.verify_clent_cert"] = "On";
    });
    const result = await runFluentBitAsync(["--dry-run", "-c", broken.file], ENV);
    assert.notEqual(result.status, 0);
    assert.match(result.output, /unknown configuration property 'tls\.verify_clent_cert'/);
  });

  it("starts: answers on the health endpoint, then exits 0 on SIGTERM", async () => {
    const running = local.map((c) => ({ c, proc: startFluentBit(c.file, ENV) }));
    await Promise.all(
      running.map(({ c, proc }) =>
        waitFor(
          `${c.label} to report healthy`,
          async () => {
            const health = await httpGet(c.httpPort, "/api/v1/health");
            return health?.status === 200 && health.body.trim() === "ok" ? true : undefined;
          },
          { attempts: 150, intervalMs: 100, diagnostics: () => proc.log() },
        ),
      ),
    );
    for (const { c, proc } of running) assert.ok(proc.running(), `${c.label} still runs`);
    const stopped = await Promise.all(running.map(({ proc }) => proc.stop()));
    stopped.forEach((status, i) =>
      assert.deepEqual(
        status,
        { code: 0, signal: null },
        `${running[i].c.label}:\n${running[i].proc.log().slice(-3000)}`,
      ),
    );
    for (const { c, proc } of running) {
      assert.doesNotMatch(proc.log(), /double free|corruption|Segmentation|SIGSEGV/, c.label);
    }
  });

  it("refuses to start a forwarder whose parser filter names a parser that is not defined (negative control)", async () => {
    const spoke = configs.find((c) => c.configMap === "fluent-bit-config")!;
    const withoutParsers = await localize(
      "no-parsers: fluent-bit-config",
      spoke.data["fluent-bit.yaml"],
      (c) => {
        delete c.parsers;
      },
    );
    const proc = startFluentBit(withoutParsers.file, ENV);
    const status = await waitFor("the forwarder without parsers to exit", () =>
      proc.running() ? undefined : proc.exited,
    );
    assert.notEqual(status.code, 0);
    assert.match(proc.log(), /requested parser 'conjur' not found/);
  });
});
