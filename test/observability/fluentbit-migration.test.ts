// The move from Fluent Bit's classic format to YAML changed no setting. The classic files the
// project generated before the move are kept, frozen, under test/golden/observability/classic/: the
// builders' outputs for the test fixtures and every Fluent Bit ConfigMap of the dev, staging and
// prod plans. Each is compared with its YAML successor twice: key by key (service, parsers, every
// input, filter and output, repeated keys in order), and as the real binary loads both (its
// support report lists every plugin instance with the properties it was given).
// When a Fluent Bit setting changes on purpose, this migration check has done its job: delete it
// and the classic files with it.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildHubSinkConfig,
  buildSpokeForwarderConfig,
  renderFluentBitYaml,
  type FluentBitSection,
  type FluentBitValue,
  type FluentBitYaml,
} from "../../components/observability/fluentbit";
import { STACKS } from "../support/stacks";
import { freeLoopbackPort } from "../support/promtool";
import { requireFluentBit, runFluentBitAsync } from "../support/fluent-bit";
import { OPENSEARCH, forwarderInput, sinkInput } from "./support/fixtures";
import { GOLDEN_DIR } from "./support/golden";
import { readFluentBitYaml } from "./support/fluent-bit-config";
import {
  createLogPki,
  localizePaths,
  planFluentBitConfigs,
  prepareLocalRoot,
  writeTlsDir,
} from "./support/fluent-bit-local";

const CLASSIC_DIR = path.join(GOLDEN_DIR, "classic");

/** One section's settings as Fluent Bit applies them: lower-case key → values in order. */
type Settings = Record<string, string[]>;
interface Effective {
  service: Settings;
  parsers: Settings[];
  inputs: Settings[];
  filters: Settings[];
  outputs: Settings[];
}

/**
 * Reads the frozen classic files: `[SECTION]` headers and indented `Key value` lines, which is all
 * the old renderer wrote. Test-only: the product has no classic reader any more.
 */
function readClassic(text: string): Array<{ header: string; settings: Settings }> {
  const sections: Array<{ header: string; settings: Settings }> = [];
  for (const line of text.split("\n")) {
    const header = /^\[([A-Z_]+)\]$/.exec(line);
    if (header !== null) {
      sections.push({ header: header[1], settings: {} });
      continue;
    }
    const entry = /^\s+(\S+)\s+(.+)$/.exec(line);
    if (entry === null) {
      assert.equal(line.trim(), "", `unexpected classic line "${line}"`);
      continue;
    }
    const settings = sections[sections.length - 1].settings;
    (settings[entry[1].toLowerCase()] ??= []).push(entry[2]);
  }
  return sections;
}

function classicEffective(configText: string, parsersText?: string): Effective {
  const sections = readClassic(configText);
  const of = (header: string) => sections.filter((s) => s.header === header).map((s) => s.settings);
  const [service] = of("SERVICE");
  // The parsers file the classic service named is inline in the YAML: compare its content instead.
  return {
    service: Object.fromEntries(Object.entries(service).filter(([key]) => key !== "parsers_file")),
    parsers: parsersText === undefined ? [] : readClassic(parsersText).map((s) => s.settings),
    inputs: of("INPUT"),
    filters: of("FILTER"),
    outputs: of("OUTPUT"),
  };
}

function settingsOf(section: Readonly<Record<string, FluentBitValue>>): Settings {
  return Object.fromEntries(
    Object.entries(section).map(([key, value]) => [
      key.toLowerCase(),
      Array.isArray(value) ? value.map(String) : [String(value as string | number)],
    ]),
  );
}

function yamlEffective(config: FluentBitYaml): Effective {
  const list = (sections: readonly FluentBitSection[] | undefined) => (sections ?? []).map(settingsOf);
  return {
    service: settingsOf(config.service),
    parsers: list(config.parsers),
    inputs: list(config.pipeline.inputs),
    filters: list(config.pipeline.filters),
    outputs: list(config.pipeline.outputs),
  };
}

interface Pair {
  label: string;
  classic: string;
  classicParsers?: string;
  yaml: string;
}

const readClassicFile = (...parts: string[]) => fs.readFileSync(path.join(CLASSIC_DIR, ...parts), "utf8");

function builderPairs(): Pair[] {
  return [
    {
      label: "builder: spoke forwarder",
      classic: readClassicFile("builder-spoke.conf"),
      classicParsers: readClassicFile("builder-spoke-parsers.conf"),
      yaml: renderFluentBitYaml(buildSpokeForwarderConfig(forwarderInput())),
    },
    {
      label: "builder: hub sink to OpenSearch",
      classic: readClassicFile("builder-hub-sink-opensearch.conf"),
      yaml: renderFluentBitYaml(buildHubSinkConfig(sinkInput(OPENSEARCH))),
    },
    {
      label: "builder: hub sink to stdout",
      classic: readClassicFile("builder-hub-sink-stdout.conf"),
      yaml: renderFluentBitYaml(buildHubSinkConfig(sinkInput({ kind: "stdout" }))),
    },
  ];
}

/** Every Fluent Bit ConfigMap of a stack's plan with its frozen classic predecessor. */
async function planPairs(stack: string): Promise<Pair[]> {
  const configs = await planFluentBitConfigs(stack);
  const classicRoot = path.join(CLASSIC_DIR, "plans", stack);
  const frozen = fs
    .readdirSync(classicRoot)
    .flatMap((cluster) =>
      fs.readdirSync(path.join(classicRoot, cluster)).map((configMap) => `${cluster}/${configMap}`),
    );
  assert.deepEqual(
    configs.map((c) => `${c.cluster}/${c.configMap}`).sort(),
    frozen.sort(),
    `${stack}: the plan's Fluent Bit ConfigMaps and the frozen classic ones differ (a spoke added or removed since the move?)`,
  );
  return configs.map((c) => {
    const where = `${c.cluster}/${c.configMap}`;
    const parsersFile = path.join(classicRoot, where, "parsers.conf");
    return {
      label: `${stack}: ${where}`,
      classic: readClassicFile("plans", stack, where, "fluent-bit.conf"),
      classicParsers: fs.existsSync(parsersFile) ? fs.readFileSync(parsersFile, "utf8") : undefined,
      yaml: c.data["fluent-bit.yaml"],
    };
  });
}

/** The part of `fluent-bit -S` that describes the loaded configuration, with run-specific values masked. */
function supportReport(output: string, root: string, port: number): string {
  const start = output.indexOf("[SERVER] Runtime configuration");
  assert.ok(start >= 0, `no support report in:\n${output}`);
  return output.slice(start).replaceAll(root, "<root>").replaceAll(String(port), "<port>");
}

describe("observability: the YAML Fluent Bit configs keep every setting of the classic ones they replace", function () {
  this.timeout(180_000);
  let pairs: Pair[];
  let work: string;

  before(async () => {
    pairs = [...builderPairs()];
    for (const stack of STACKS) pairs.push(...(await planPairs(stack)));
    work = fs.mkdtempSync(path.join(os.tmpdir(), "fluent-bit-migration-"));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("compares the builders' outputs and every Fluent Bit ConfigMap of dev, staging and prod", () => {
    assert.equal(pairs.filter((p) => p.label.startsWith("builder")).length, 3);
    for (const stack of STACKS) {
      assert.ok(
        pairs.some((p) => p.label.startsWith(`${stack}: `) && p.label.endsWith("/log-sink-config")),
        stack,
      );
      assert.ok(
        pairs.some((p) => p.label.startsWith(`${stack}: `) && p.label.endsWith("/fluent-bit-config")),
        stack,
      );
    }
  });

  it("has the same service settings, parsers and plugin sections, key by key, with repeated keys in order", () => {
    for (const pair of pairs) {
      assert.deepEqual(
        yamlEffective(readFluentBitYaml(pair.yaml)),
        classicEffective(pair.classic, pair.classicParsers),
        pair.label,
      );
    }
  });

  it("notices a changed setting (negative control)", () => {
    const [forwarder] = pairs;
    const changed = forwarder.yaml.replace("retry_limit: no_limits", "retry_limit: 5");
    assert.notEqual(changed, forwarder.yaml);
    assert.notDeepEqual(
      yamlEffective(readFluentBitYaml(changed)),
      classicEffective(forwarder.classic, forwarder.classicParsers),
    );
  });

  it("is loaded by the real Fluent Bit into the same plugin instances with the same properties", async () => {
    requireFluentBit();
    const pki = createLogPki(path.join(work, "pki"), ["logs.example.internal"], "spoke");
    const env = {
      FLUENT_FORWARD_SHARED_KEY: "migration-test-key",
      LOG_SINK_USER: "u",
      LOG_SINK_PASSWORD: "p",
      OPENSEARCH_USER: "u",
      OPENSEARCH_PASSWORD: "p",
    };
    /** `fluent-bit -S` on one file: it loads and initialises everything, prints, exits. */
    const report = async (label: string, text: string, classicParsers?: string) => {
      const root = fs.mkdtempSync(path.join(work, "run-"));
      prepareLocalRoot(root);
      writeTlsDir(root, pki.ca, pki.sink);
      if (classicParsers !== undefined)
        fs.writeFileSync(path.join(root, "etc", "parsers.conf"), classicParsers);
      const port = await freeLoopbackPort();
      const file = path.join(root, "etc", label);
      fs.writeFileSync(file, localizePaths(text, root).replaceAll("24224", String(port)));
      const result = await runFluentBitAsync(["-q", "-S", "-c", file], env);
      return supportReport(result.output, root, port);
    };
    const reports = await Promise.all(
      pairs.map(async (pair) => ({
        pair,
        classic: await report("fluent-bit.conf", pair.classic, pair.classicParsers),
        yaml: await report("fluent-bit.yaml", pair.yaml),
      })),
    );
    for (const { pair, classic, yaml } of reports) {
      assert.equal(yaml, classic, pair.label);
      assert.match(yaml, /\[OUTPUT\] Instance/, pair.label);
    }
    // The report shows what it compared: the forwarder's two parsers and two records, as repeated keys.
    const forwarder = reports[0].yaml;
    assert.match(forwarder, /parser\s+conjur\n\s+parser\s+conjur_audit\n/);
    assert.match(forwarder, /record\s+cluster eu-payments\n\s+record\s+region eu-west-1\n/);
  });
});
