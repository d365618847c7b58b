// Fluent Bit classic-format model, builders, golden files, structural checks and Conjur parsers.
import * as assert from "node:assert/strict";
import {
  CONJUR_AUDIT_REGEX,
  CONJUR_AUDIT_TIME_FORMAT,
  CONJUR_LOG_REGEX,
  CONJUR_LOG_TIME_FORMAT,
  buildHubSinkConfig,
  buildSpokeForwarderConfig,
  checkFluentBitConfig,
  classicToConfig,
  classicToParsers,
  getValue,
  getValues,
  parseFluentBitClassic,
  renderFluentBitConfig,
  renderParsers,
  type FluentBitConfig,
  type ParsersFile,
  type Section,
} from "../../components/observability/fluentbit";
import { ELASTICSEARCH, OPENSEARCH, forwarderInput, sinkInput } from "./support/fixtures";
import { assertMatchesGolden } from "./support/golden";

const NO_PARSERS: ParsersFile = { parsers: [] };

function section(cfg: FluentBitConfig, kind: "inputs" | "filters" | "outputs", name: string): Section {
  const found = cfg[kind].find((s) => getValue(s, "Name") === name);
  assert.ok(found, `no ${kind} section named ${name}`);
  return found;
}

/** A copy of `cfg` whose first section named `name` has `key` set to `value` (or removed when undefined). */
function withEntry(
  cfg: FluentBitConfig,
  kind: "inputs" | "filters" | "outputs",
  name: string,
  key: string,
  value: string | undefined,
): FluentBitConfig {
  const copy: FluentBitConfig = structuredClone(cfg);
  const target = copy[kind].find((s) => getValue(s, "Name") === name);
  assert.ok(target, `no ${kind} section named ${name}`);
  const others = target.entries.filter(([k]) => k.toLowerCase() !== key.toLowerCase());
  target.entries = value === undefined ? others : [...others, [key, value]];
  return copy;
}

describe("observability: Fluent Bit classic format", () => {
  it("renders sections with aligned, indented Key value lines", () => {
    const text = renderFluentBitConfig({
      service: { Flush: "1", Log_Level: "info" },
      inputs: [
        {
          entries: [
            ["Name", "dummy"],
            ["Tag", "t"],
          ],
        },
      ],
      filters: [],
      outputs: [
        {
          entries: [
            ["Name", "stdout"],
            ["Match", "*"],
          ],
        },
      ],
    });
    assert.equal(
      text,
      "[SERVICE]\n    Flush     1\n    Log_Level info\n\n[INPUT]\n    Name dummy\n    Tag  t\n\n[OUTPUT]\n    Name  stdout\n    Match *\n",
    );
  });

  it("reads its own output back to the same model (config and parsers)", () => {
    const { config, parsers } = buildSpokeForwarderConfig(forwarderInput());
    assert.deepEqual(classicToConfig(parseFluentBitClassic(renderFluentBitConfig(config))), config);
    assert.deepEqual(classicToParsers(parseFluentBitClassic(renderParsers(parsers))), parsers);
    const sink = buildHubSinkConfig(sinkInput(OPENSEARCH));
    assert.deepEqual(classicToConfig(parseFluentBitClassic(renderFluentBitConfig(sink))), sink);
  });

  it("keeps repeated keys in order, such as several Parser entries of one filter", () => {
    const [parsed] = parseFluentBitClassic("[FILTER]\n    Name parser\n    Parser a\n    Parser b\n");
    assert.deepEqual(getValues(parsed, "parser"), ["a", "b"]);
  });

  it("treats keys and section headers case-insensitively, as Fluent Bit does", () => {
    const cfg = classicToConfig(
      parseFluentBitClassic(
        "[service]\n    storage.path /s\n[input]\n    NAME tail\n    Storage.Type filesystem\n",
      ),
    );
    assert.equal(getValue(cfg.inputs[0], "name"), "tail");
    assert.equal(getValue(cfg.inputs[0], "storage.type"), "filesystem");
    assert.deepEqual(checkFluentBitConfig(cfg, NO_PARSERS), []);
  });

  it("skips comments and blank lines, accepts CRLF, keeps spaces inside values", () => {
    const sections = parseFluentBitClassic(
      "# top\r\n[PARSER]\r\n    # note\r\n\r\n    Regex ^(?<a>x y)$\r\n",
    );
    assert.deepEqual(sections, [{ header: "PARSER", entries: [["Regex", "^(?<a>x y)$"]] }]);
  });

  it("rejects text it cannot represent faithfully", () => {
    assert.throws(() => parseFluentBitClassic("    Name tail\n"), /line 1: entry outside of any section/);
    assert.throws(() => parseFluentBitClassic("[INPUT]\n    Name\n"), /line 2: key "Name" has no value/);
    assert.throws(
      () => parseFluentBitClassic("@INCLUDE other.conf\n"),
      /directive "@INCLUDE" is not supported/,
    );
    assert.throws(
      () => parseFluentBitClassic("[INPUT]\nName tail\n"),
      /line 2: expected a \[SECTION\] header/,
    );
    assert.throws(() => parseFluentBitClassic("[INPUT]\n    Name ta\ril\n"), /stray carriage return/);
    assert.throws(
      () => classicToConfig(parseFluentBitClassic("[PARSER]\n    Name x\n")),
      /unexpected section \[PARSER\]/,
    );
    assert.throws(
      () => classicToConfig(parseFluentBitClassic("[SERVICE]\n    a 1\n[SERVICE]\n    b 2\n")),
      /more than one \[SERVICE\]/,
    );
  });

  it("refuses to render values with newlines, control characters, surrounding spaces, empty values and bad keys", () => {
    const render = (entries: Array<[string, string]>) =>
      renderFluentBitConfig({ service: { Flush: "1" }, inputs: [{ entries }], filters: [], outputs: [] });
    assert.throws(() => render([["Name", "tail\n[OUTPUT]"]]), /newline/);
    assert.throws(() => render([["Name", "tail\r"]]), /newline/);
    assert.throws(() => render([["Name", "ta\u0000il"]]), /control character/);
    assert.throws(() => render([["Name", " tail"]]), /whitespace/);
    assert.throws(() => render([["Name", ""]]), /empty/);
    assert.throws(() => render([["Na me", "tail"]]), /not a valid key/);
    assert.throws(() => render([]), /no entries/);
  });
});

describe("observability: spoke log forwarder", () => {
  const { config, parsers } = buildSpokeForwarderConfig(forwarderInput());

  it("matches the reviewed golden files byte for byte", () => {
    assertMatchesGolden("fluent-bit-spoke.conf", renderFluentBitConfig(config));
    assertMatchesGolden("fluent-bit-spoke-parsers.conf", renderParsers(parsers));
  });

  it("buffers on disk and serves health checks on port 2020", () => {
    assert.equal(config.service["storage.path"], "/var/fluent-bit/state");
    assert.equal(config.service["storage.sync"], "normal");
    assert.equal(config.service["storage.backlog.mem_limit"], "50M");
    assert.equal(config.service.Parsers_File, "/fluent-bit/etc/parsers.conf");
    assert.equal(config.service.HTTP_Server, "On");
    assert.equal(config.service.HTTP_Port, "2020");
    assert.equal(config.service.Health_Check, "On");
  });

  it("tails container logs with the CRI multiline parser, offsets in a DB and filesystem buffering", () => {
    const tail = section(config, "inputs", "tail");
    assert.equal(getValue(tail, "Path"), "/var/log/containers/*.log");
    assert.equal(getValue(tail, "multiline.parser"), "cri");
    assert.equal(getValue(tail, "Tag"), "kube.*");
    assert.equal(getValue(tail, "DB"), "/var/fluent-bit/state/tail-containers.db");
    assert.equal(getValue(tail, "storage.type"), "filesystem");
    assert.equal(getValue(tail, "Mem_Buf_Limit"), "50M");
    assert.equal(getValue(tail, "Skip_Long_Lines"), "On");
  });

  it("enriches with Kubernetes metadata, parses Conjur's namespace with the Conjur parsers, and stamps cluster and region", () => {
    const kubernetes = section(config, "filters", "kubernetes");
    assert.equal(getValue(kubernetes, "Merge_Log"), "On");
    assert.equal(getValue(kubernetes, "Keep_Log"), "Off");
    assert.equal(getValue(kubernetes, "K8S-Logging.Parser"), "On");
    const parser = section(config, "filters", "parser");
    assert.equal(getValue(parser, "Match"), "kube.*_conjur-system_*");
    assert.deepEqual(getValues(parser, "Parser"), ["conjur", "conjur_audit"]);
    assert.equal(getValue(parser, "Key_Name"), "log");
    const modifier = section(config, "filters", "record_modifier");
    assert.deepEqual(getValues(modifier, "Record"), ["cluster eu-payments", "region eu-west-1"]);
    assert.deepEqual(
      config.filters.map((f) => getValue(f, "Name")),
      ["kubernetes", "parser", "record_modifier"],
    );
  });

  it("forwards to the hub over verified mTLS with a shared key from the environment, acked and retried forever", () => {
    const forward = section(config, "outputs", "forward");
    const expected: Record<string, string> = {
      Host: "logs.hub.example.internal",
      Port: "24224",
      tls: "On",
      "tls.verify": "On",
      "tls.vhost": "logs.hub.example.internal",
      "tls.ca_file": "/fluent-bit/tls/ca.crt",
      "tls.crt_file": "/fluent-bit/tls/tls.crt",
      "tls.key_file": "/fluent-bit/tls/tls.key",
      Shared_Key: "${FLUENT_FORWARD_SHARED_KEY}",
      Require_ack_response: "True",
      Retry_Limit: "no_limits",
      "storage.total_limit_size": "2G",
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(getValue(forward, key), value, key);
  });

  it("defines the conjur and conjur_audit parsers with their time keys and formats", () => {
    const [conjur, audit] = parsers.parsers;
    assert.equal(getValue(conjur, "Name"), "conjur");
    assert.equal(getValue(conjur, "Regex"), CONJUR_LOG_REGEX);
    assert.equal(getValue(conjur, "Time_Key"), "time");
    assert.equal(getValue(conjur, "Time_Format"), "%Y/%m/%d %H:%M:%S %z");
    assert.equal(getValue(audit, "Name"), "conjur_audit");
    assert.equal(getValue(audit, "Regex"), CONJUR_AUDIT_REGEX);
    assert.equal(getValue(audit, "Time_Format"), "%Y-%m-%dT%H:%M:%S.%L%z");
  });

  it("passes its own structural checks", () => {
    assert.deepEqual(checkFluentBitConfig(config, parsers), []);
  });

  it("refuses values that would break the classic format or be expanded as environment variables", () => {
    assert.throws(() => buildSpokeForwarderConfig(forwarderInput({ cluster: "eu\npayments" })), /cluster/);
    assert.throws(() => buildSpokeForwarderConfig(forwarderInput({ region: "eu west 1" })), /region/);
    assert.throws(
      () => buildSpokeForwarderConfig(forwarderInput({ caFile: "/tls/ca.crt\n[OUTPUT]" })),
      /caFile: value contains a newline/,
    );
    assert.throws(
      () => buildSpokeForwarderConfig(forwarderInput({ storagePath: "/var/${HOME}" })),
      /storagePath: .*environment variable/,
    );
    assert.throws(
      () => buildSpokeForwarderConfig(forwarderInput({ storagePath: "relative/dir" })),
      /absolute path/,
    );
    assert.throws(
      () => buildSpokeForwarderConfig(forwarderInput({ sharedKeyEnv: "KEY}${X" })),
      /sharedKeyEnv/,
    );
    assert.throws(() => buildSpokeForwarderConfig(forwarderInput({ hubHost: "hub example" })), /hubHost/);
    assert.throws(() => buildSpokeForwarderConfig(forwarderInput({ tlsServerName: "x;y" })), /tlsServerName/);
    assert.throws(() => buildSpokeForwarderConfig(forwarderInput({ hubPort: 0 })), /hubPort/);
    assert.throws(() => buildSpokeForwarderConfig(forwarderInput({ memBufLimit: "lots" })), /memBufLimit/);
    assert.throws(
      () => buildSpokeForwarderConfig(forwarderInput({ conjurNamespace: "conjur_system" })),
      /conjurNamespace/,
    );
  });
});

describe("observability: hub log sink", () => {
  const opensearch = buildHubSinkConfig(sinkInput(OPENSEARCH));
  const elasticsearch = buildHubSinkConfig(sinkInput(ELASTICSEARCH));
  const stdout = buildHubSinkConfig(sinkInput({ kind: "stdout" }));

  it("matches the reviewed golden files byte for byte", () => {
    assertMatchesGolden("fluent-bit-hub-sink-opensearch.conf", renderFluentBitConfig(opensearch));
    assertMatchesGolden("fluent-bit-hub-sink-stdout.conf", renderFluentBitConfig(stdout));
  });

  it("accepts forwarders over TLS, verifying client certificates against the CA, with the shared key from the environment", () => {
    const forward = section(opensearch, "inputs", "forward");
    assert.equal(getValue(forward, "Port"), "24224");
    assert.equal(getValue(forward, "tls"), "On");
    assert.equal(getValue(forward, "tls.verify"), "On");
    assert.equal(getValue(forward, "tls.verify_client_cert"), "On");
    assert.equal(getValue(forward, "tls.ca_file"), "/fluent-bit/tls/ca.crt");
    assert.equal(getValue(forward, "Shared_Key"), "${FLUENT_FORWARD_SHARED_KEY}");
    assert.equal(getValue(forward, "storage.type"), "filesystem");
    assert.equal(opensearch.service["storage.path"], "/var/fluent-bit/sink");
  });

  it("leaves out tls.verify_client_cert for Fluent Bit releases that do not know it", () => {
    const legacy = buildHubSinkConfig(sinkInput(OPENSEARCH, { requireClientCert: false }));
    assert.equal(getValue(section(legacy, "inputs", "forward"), "tls.verify_client_cert"), undefined);
    assert.deepEqual(checkFluentBitConfig(legacy, NO_PARSERS), []);
  });

  it("writes to OpenSearch or Elasticsearch over verified TLS with credentials from the environment", () => {
    const os = section(opensearch, "outputs", "opensearch");
    const es = section(elasticsearch, "outputs", "es");
    for (const [out, user, password] of [
      [os, "${OPENSEARCH_USER}", "${OPENSEARCH_PASSWORD}"],
      [es, "${ES_USER}", "${ES_PASSWORD}"],
    ] as const) {
      assert.equal(getValue(out, "tls"), "On");
      assert.equal(getValue(out, "tls.verify"), "On");
      assert.equal(getValue(out, "HTTP_User"), user);
      assert.equal(getValue(out, "HTTP_Passwd"), password);
      assert.equal(getValue(out, "Suppress_Type_Name"), "On");
      assert.equal(getValue(out, "Generate_ID"), "On");
      assert.equal(getValue(out, "Retry_Limit"), "no_limits");
      assert.equal(getValue(out, "storage.total_limit_size"), "8G");
      assert.equal(getValue(out, "Index"), "conjur-logs");
    }
    assert.equal(getValue(os, "tls.ca_file"), "/fluent-bit/tls/opensearch-ca.crt");
    assert.equal(getValue(es, "tls.ca_file"), undefined, "system trust store when no CA is given");
  });

  it("can print to stdout instead, for a sink without a search cluster", () => {
    assert.deepEqual(stdout.outputs, [
      {
        entries: [
          ["Name", "stdout"],
          ["Match", "*"],
          ["Format", "json_lines"],
        ],
      },
    ]);
  });

  it("passes its own structural checks for every destination", () => {
    for (const cfg of [opensearch, elasticsearch, stdout])
      assert.deepEqual(checkFluentBitConfig(cfg, NO_PARSERS), []);
  });

  it("refuses unsafe destination values", () => {
    assert.throws(
      () => buildHubSinkConfig(sinkInput({ ...OPENSEARCH, index: "Conjur Logs" })),
      /destination.index/,
    );
    assert.throws(
      () => buildHubSinkConfig(sinkInput({ ...OPENSEARCH, passwordEnv: "pass word" })),
      /passwordEnv/,
    );
    assert.throws(
      () => buildHubSinkConfig(sinkInput({ ...OPENSEARCH, host: "os\nhost" })),
      /destination.host/,
    );
    assert.throws(
      () => buildHubSinkConfig(sinkInput({ kind: "stdout" }, { listenPort: 99999 })),
      /listenPort/,
    );
  });
});

describe("observability: checkFluentBitConfig catches each defect", () => {
  const { config, parsers } = buildSpokeForwarderConfig(forwarderInput());
  const sink = buildHubSinkConfig(sinkInput(OPENSEARCH));

  it("an output without tls On", () => {
    assert.deepEqual(checkFluentBitConfig(withEntry(config, "outputs", "forward", "tls", "Off"), parsers), [
      "output[0] (forward): tls must be On",
    ]);
  });

  it("an output without tls.verify On, including when it is left to the default", () => {
    assert.deepEqual(
      checkFluentBitConfig(withEntry(config, "outputs", "forward", "tls.verify", "off"), parsers),
      ["output[0] (forward): tls.verify must be On"],
    );
    assert.deepEqual(
      checkFluentBitConfig(withEntry(sink, "outputs", "opensearch", "tls.verify", undefined), NO_PARSERS),
      ["output[0] (opensearch): tls.verify must be On"],
    );
  });

  it("filesystem buffering without storage.path", () => {
    const broken = structuredClone(config);
    delete broken.service["storage.path"];
    assert.deepEqual(checkFluentBitConfig(broken, parsers), [
      "service: storage.path must be set when an input uses storage.type filesystem",
    ]);
  });

  it("a network output with the default retry limit", () => {
    assert.deepEqual(
      checkFluentBitConfig(withEntry(config, "outputs", "forward", "Retry_Limit", undefined), parsers),
      [
        "output[0] (forward): Retry_Limit must be no_limits (the default of 1 drops logs after one failed flush)",
      ],
    );
    assert.equal(
      checkFluentBitConfig(withEntry(config, "outputs", "forward", "Retry_Limit", "5"), parsers).length,
      1,
    );
    assert.deepEqual(
      checkFluentBitConfig(withEntry(config, "outputs", "forward", "Retry_Limit", "False"), parsers),
      [],
    );
  });

  it("a network output without storage.total_limit_size", () => {
    assert.deepEqual(
      checkFluentBitConfig(
        withEntry(sink, "outputs", "opensearch", "storage.total_limit_size", undefined),
        NO_PARSERS,
      ),
      ["output[0] (opensearch): storage.total_limit_size must bound the filesystem buffer"],
    );
  });

  it("a parser filter naming a parser the parsers file does not define", () => {
    const missing = { parsers: parsers.parsers.filter((p) => getValue(p, "Name") !== "conjur_audit") };
    assert.deepEqual(checkFluentBitConfig(config, missing), [
      'filter[1] (parser): parser "conjur_audit" is not defined in the parsers file',
    ]);
  });

  it("an input Parser that is not defined", () => {
    assert.deepEqual(checkFluentBitConfig(withEntry(config, "inputs", "tail", "Parser", "json"), parsers), [
      'input[0] (tail): parser "json" is not defined in the parsers file',
    ]);
  });

  it("a multiline parser that is neither built in nor defined, while cri and docker are built in", () => {
    assert.deepEqual(
      checkFluentBitConfig(withEntry(config, "inputs", "tail", "multiline.parser", "docker, cri"), parsers),
      [],
    );
    assert.deepEqual(
      checkFluentBitConfig(
        withEntry(config, "inputs", "tail", "multiline.parser", "cri, conjur_ml"),
        parsers,
      ),
      ['input[0] (tail): multiline parser "conjur_ml" is neither built in nor defined in the parsers file'],
    );
    const withMultiline: ParsersFile = {
      ...parsers,
      multilineParsers: [
        {
          entries: [
            ["name", "conjur_ml"],
            ["type", "regex"],
          ],
        },
      ],
    };
    assert.deepEqual(
      checkFluentBitConfig(
        withEntry(config, "inputs", "tail", "multiline.parser", "cri, conjur_ml"),
        withMultiline,
      ),
      [],
    );
  });

  it("a literal Shared_Key or HTTP_Passwd instead of an environment reference", () => {
    assert.deepEqual(
      checkFluentBitConfig(withEntry(config, "outputs", "forward", "Shared_Key", "s3cr3t"), parsers),
      ["output[0] (forward): Shared_Key must be an environment reference like ${VAR}, not a literal"],
    );
    assert.deepEqual(
      checkFluentBitConfig(withEntry(sink, "inputs", "forward", "shared_key", "${A}x"), NO_PARSERS),
      ["input[0] (forward): shared_key must be an environment reference like ${VAR}, not a literal"],
    );
    assert.deepEqual(
      checkFluentBitConfig(withEntry(sink, "outputs", "opensearch", "HTTP_Passwd", "hunter2"), NO_PARSERS),
      ["output[0] (opensearch): HTTP_Passwd must be an environment reference like ${VAR}, not a literal"],
    );
  });

  it("reports every defect at once", () => {
    let broken = withEntry(config, "outputs", "forward", "tls", "Off");
    broken = withEntry(broken, "outputs", "forward", "Shared_Key", "literal");
    assert.equal(checkFluentBitConfig(broken, parsers).length, 2);
  });
});

/** Just enough strptime (the directives the parsers use) to check a Time_Format against a capture. */
function strptime(format: string, text: string): Date {
  const fields: Record<string, string> = {};
  const pattern = format.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/%([YmdHMSLz])/g, (_, d: string) => {
    const group: Record<string, string> = {
      Y: "(?<Y>\\d{4})",
      m: "(?<m>\\d{2})",
      d: "(?<d>\\d{2})",
      H: "(?<H>\\d{2})",
      M: "(?<M>\\d{2})",
      S: "(?<S>\\d{2})",
      L: "(?<L>\\d+)",
      z: "(?<z>Z|[+-]\\d{2}:?\\d{2})",
    };
    return group[d];
  });
  const match = new RegExp(`^${pattern}$`).exec(text);
  assert.ok(match?.groups, `"${text}" does not fit Time_Format "${format}"`);
  Object.assign(fields, match.groups);
  const zone = fields.z === "Z" ? "+00:00" : fields.z.replace(/^([+-]\d{2}):?(\d{2})$/, "$1:$2");
  const millis = (fields.L ?? "0").padEnd(3, "0").slice(0, 3);
  return new Date(`${fields.Y}-${fields.m}-${fields.d}T${fields.H}:${fields.M}:${fields.S}.${millis}${zone}`);
}

describe("observability: Conjur log parsers (the parsers file's regexes, run as JS RegExp)", () => {
  // The same pattern text Fluent Bit receives: read back from the rendered parsers file.
  const rendered = classicToParsers(
    parseFluentBitClassic(renderParsers(buildSpokeForwarderConfig(forwarderInput()).parsers)),
  );
  const conjur = new RegExp(getValue(rendered.parsers[0], "Regex") ?? "");
  const audit = new RegExp(getValue(rendered.parsers[1], "Regex") ?? "");

  it("parses a request-scoped line, severity padded to five characters as Conjur writes it", () => {
    const line =
      " INFO 2024/05/14 09:12:33 +0000 [pid=87] [origin=10.244.1.17] [request_id=4f1c2a9e-6b7d-4c8e-9f01-23456789abcd] [tid=2840] " +
      'Started GET "/secrets/myorg/variable/app%2Fdb%2Fpassword" for 10.244.1.17';
    const g = conjur.exec(line)?.groups;
    assert.deepEqual(
      { ...g },
      {
        level: "INFO",
        time: "2024/05/14 09:12:33 +0000",
        pid: "87",
        origin: "10.244.1.17",
        request_id: "4f1c2a9e-6b7d-4c8e-9f01-23456789abcd",
        tid: "2840",
        message: 'Started GET "/secrets/myorg/variable/app%2Fdb%2Fpassword" for 10.244.1.17',
      },
    );
    assert.equal(strptime(CONJUR_LOG_TIME_FORMAT, g?.time ?? "").toISOString(), "2024-05-14T09:12:33.000Z");
  });

  it("parses errors with brackets in the message and a non-UTC offset", () => {
    const line =
      "ERROR 2024/05/14 04:12:34 -0500 [pid=87] [origin=10.244.1.17] [request_id=0b6f5a7e-1c2d-4e3f-8a9b-0c1d2e3f4a5b] [tid=2840] " +
      "Errors::Authentication::Security::RoleNotAuthorizedOnResource: CONJ00006E 'host/apps/[billing]' does not have 'authenticate' privilege";
    const g = conjur.exec(line)?.groups;
    assert.equal(g?.level, "ERROR");
    assert.match(g?.message ?? "", /^Errors::Authentication.*\[billing\].*privilege$/);
    assert.equal(strptime(CONJUR_LOG_TIME_FORMAT, g?.time ?? "").toISOString(), "2024-05-14T09:12:34.000Z");
  });

  it("parses lines outside a request, which carry no origin, request_id or tid", () => {
    const g = conjur.exec(
      "DEBUG 2024/05/14 09:12:30 +0000 [pid=1] Loading policy from /etc/conjur/policy.yml",
    )?.groups;
    assert.equal(g?.level, "DEBUG");
    assert.equal(g?.pid, "1");
    assert.equal(g?.origin, undefined);
    assert.equal(g?.request_id, undefined);
    assert.equal(g?.message, "Loading policy from /etc/conjur/policy.yml");
    assert.equal(
      conjur.exec(" WARN 2024/05/14 09:12:31 +0000 [pid=1] [origin=] [request_id=] [tid=7] slow query")
        ?.groups?.origin,
      "",
    );
  });

  it("does not claim lines that are not Conjur's format", () => {
    for (const line of [
      "Puma starting in single mode...",
      '{"level":"info","msg":"json from another container"}',
      "INFO 2024-05-14 09:12:33 +0000 [pid=87] wrong date separators",
      "INFO 2024/05/14 09:12:33 [pid=87] missing offset",
    ]) {
      assert.equal(conjur.test(line), false, line);
    }
  });

  it("parses an RFC 5424 audit event with structured data, escaped brackets included", () => {
    const line =
      "<38>1 2024-05-14T09:12:33.123Z - conjur 4f1c2a9e-6b7d-4c8e-9f01-23456789abcd authn " +
      '[auth@43868 authenticator="authn-k8s" service="myorg:webservice:conjur/authn-k8s/eu-payments"]' +
      '[subject@43868 role="myorg:host:apps/[billing\\]"][action@43868 operation="authenticate" result="success"] ' +
      "myorg:host:apps/billing successfully authenticated with authenticator authn-k8s";
    const g = audit.exec(line)?.groups;
    assert.equal(g?.pri, "38");
    assert.equal(g?.host, "-");
    assert.equal(g?.ident, "conjur");
    assert.equal(g?.pid, "4f1c2a9e-6b7d-4c8e-9f01-23456789abcd");
    assert.equal(g?.msgid, "authn");
    assert.match(g?.sd ?? "", /^\[auth@43868 .*result="success"\]$/);
    assert.equal(
      g?.message,
      "myorg:host:apps/billing successfully authenticated with authenticator authn-k8s",
    );
    assert.equal(strptime(CONJUR_AUDIT_TIME_FORMAT, g?.time ?? "").toISOString(), "2024-05-14T09:12:33.123Z");
  });

  it("parses an audit event without structured data or message", () => {
    const g = audit.exec("<85>1 2024-05-14T09:12:33.000+00:00 conjur-0 conjur 1234 policy -")?.groups;
    assert.equal(g?.sd, "-");
    assert.equal(g?.message, undefined);
    assert.equal(strptime(CONJUR_AUDIT_TIME_FORMAT, g?.time ?? "").toISOString(), "2024-05-14T09:12:33.000Z");
  });

  it("keeps the two parsers disjoint, so their order in the filter does not matter", () => {
    assert.equal(audit.test(" INFO 2024/05/14 09:12:33 +0000 [pid=87] x"), false);
    assert.equal(conjur.test("<38>1 2024-05-14T09:12:33.123Z - conjur 1 authn - x"), false);
  });
});
