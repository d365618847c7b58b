// The Fluent Bit configs as data: what the spoke forwarder and the hub sink hold, the properties
// that keep logs from being lost or leaked, the rendered YAML read back, and the Conjur parsers'
// regexes. Whether Fluent Bit accepts and runs them is fluentbit-binary.test.ts' job.
import * as assert from "node:assert/strict";
import {
  CLIENT_CERTS_NOT_ENFORCED_NOTE,
  CONJUR_AUDIT_REGEX,
  CONJUR_AUDIT_TIME_FORMAT,
  CONJUR_LOG_REGEX,
  CONJUR_LOG_TIME_FORMAT,
  buildHubSinkConfig,
  buildSpokeForwarderConfig,
  renderFluentBitYaml,
  type FluentBitYaml,
} from "../../components/observability/fluentbit";
import { ELASTICSEARCH, OPENSEARCH, forwarderInput, sinkInput } from "./support/fixtures";
import { logPipelineProblems, named, readFluentBitYaml, valuesOf } from "./support/fluent-bit-config";

/** A copy of `config` with `edit` applied to its first section named `name` in `kind`. */
function withSection(
  config: FluentBitYaml,
  kind: "inputs" | "filters" | "outputs",
  name: string,
  edit: (section: Record<string, unknown>) => void,
): FluentBitYaml {
  const copy = structuredClone(config) as FluentBitYaml & {
    pipeline: Record<string, Record<string, unknown>[] | undefined>;
  };
  const target = copy.pipeline[kind]?.find((s) => s.name === name);
  assert.ok(target, `no ${kind} section named ${name}`);
  edit(target);
  return copy;
}

describe("observability: Fluent Bit YAML", () => {
  const forwarder = buildSpokeForwarderConfig(forwarderInput());

  it("renders plain data with the yaml library and reads back to the same data", () => {
    for (const config of [
      forwarder,
      buildHubSinkConfig(sinkInput(OPENSEARCH)),
      buildHubSinkConfig(sinkInput({ kind: "stdout" })),
    ]) {
      assert.deepEqual(readFluentBitYaml(renderFluentBitYaml(config)), config);
    }
  });

  it("puts service, parsers and pipeline at the top level, and inputs, filters and outputs in the pipeline", () => {
    assert.deepEqual(Object.keys(forwarder), ["service", "parsers", "pipeline"]);
    assert.deepEqual(Object.keys(forwarder.pipeline), ["inputs", "filters", "outputs"]);
    const text = renderFluentBitYaml(forwarder);
    assert.match(text, /^service:\n/);
    assert.match(text, /^pipeline:\n {2}inputs:\n {4}- name: tail\n/m);
  });

  it("writes a list value as a YAML sequence, which Fluent Bit applies once per item in order", () => {
    const text = renderFluentBitYaml(forwarder);
    assert.match(text, /\n {6}parser:\n {8}- conjur\n {8}- conjur_audit\n/);
  });

  it("keeps long regexes on one line and notes as comments above the configuration", () => {
    const text = renderFluentBitYaml(forwarder, ["first note", "second note"]);
    assert.match(text, /^# first note\n# second note\n/);
    const regexLine = text.split("\n").find((l) => l.includes("regex:") && l.includes("request_id"));
    assert.ok(regexLine?.includes("(?<message>.*))?$"), "the whole Conjur regex on one line");
  });
});

describe("observability: spoke log forwarder", () => {
  const config = buildSpokeForwarderConfig(forwarderInput());
  const { inputs, filters = [], outputs } = config.pipeline;

  it("buffers on disk and serves health checks on port 2020", () => {
    assert.equal(config.service["storage.path"], "/var/fluent-bit/state");
    assert.equal(config.service["storage.sync"], "normal");
    assert.equal(config.service["storage.backlog.mem_limit"], "50M");
    assert.equal(config.service.http_server, "On");
    assert.equal(config.service.http_port, 2020);
    assert.equal(config.service.health_check, "On");
  });

  it("tails container logs with the CRI multiline parser, offsets in a DB and filesystem buffering", () => {
    const tail = named(inputs, "tail");
    assert.equal(tail.path, "/var/log/containers/*.log");
    assert.equal(tail["multiline.parser"], "cri");
    assert.equal(tail.tag, "kube.*");
    assert.equal(tail.db, "/var/fluent-bit/state/tail-containers.db");
    assert.equal(tail["storage.type"], "filesystem");
    assert.equal(tail.mem_buf_limit, "50M");
    assert.equal(tail.skip_long_lines, "On");
  });

  it("enriches with Kubernetes metadata, parses Conjur's namespace with the Conjur parsers, and stamps cluster and region", () => {
    const kubernetes = named(filters, "kubernetes");
    assert.equal(kubernetes.merge_log, "On");
    assert.equal(kubernetes.keep_log, "Off");
    assert.equal(kubernetes["k8s-logging.parser"], "On");
    const parser = named(filters, "parser");
    assert.equal(parser.match, "kube.*_conjur-system_*");
    assert.deepEqual(valuesOf(parser.parser), ["conjur", "conjur_audit"]);
    assert.equal(parser.key_name, "log");
    const modifier = named(filters, "record_modifier");
    assert.equal(modifier.match, "*");
    assert.deepEqual(valuesOf(modifier.record), ["cluster eu-payments", "region eu-west-1"]);
    assert.deepEqual(
      filters.map((f) => f.name),
      ["kubernetes", "parser", "record_modifier"],
    );
  });

  it("forwards to the hub over verified mTLS with a shared key from the environment, acked and retried forever", () => {
    assert.deepEqual(named(outputs, "forward"), {
      name: "forward",
      match: "*",
      host: "logs.hub.example.internal",
      port: 24224,
      self_hostname: "eu-payments",
      tls: "On",
      "tls.verify": "On",
      "tls.verify_hostname": "On",
      "tls.vhost": "logs.hub.example.internal",
      "tls.ca_file": "/fluent-bit/tls/ca.crt",
      "tls.crt_file": "/fluent-bit/tls/tls.crt",
      "tls.key_file": "/fluent-bit/tls/tls.key",
      shared_key: "${FLUENT_FORWARD_SHARED_KEY}",
      require_ack_response: "True",
      retry_limit: "no_limits",
      "storage.total_limit_size": "2G",
    });
  });

  it("defines the conjur and conjur_audit parsers inline, with their time keys and formats", () => {
    const conjur = named(config.parsers, "conjur");
    assert.equal(conjur.format, "regex");
    assert.equal(conjur.regex, CONJUR_LOG_REGEX);
    assert.equal(conjur.time_key, "time");
    assert.equal(conjur.time_format, "%Y/%m/%d %H:%M:%S %z");
    const audit = named(config.parsers, "conjur_audit");
    assert.equal(audit.regex, CONJUR_AUDIT_REGEX);
    assert.equal(audit.time_format, "%Y-%m-%dT%H:%M:%S.%L%z");
    assert.equal(config.service.parsers_file, undefined, "no separate parsers file");
  });

  it("loses, leaks and misroutes nothing", () => {
    assert.deepEqual(logPipelineProblems(config), []);
  });
});

describe("observability: hub log sink", () => {
  const opensearch = buildHubSinkConfig(sinkInput(OPENSEARCH));
  const elasticsearch = buildHubSinkConfig(sinkInput(ELASTICSEARCH));
  const stdout = buildHubSinkConfig(sinkInput({ kind: "stdout" }));

  it("accepts forwarders over TLS, requiring client certificates from the CA, with the shared key from the environment", () => {
    const forward = named(opensearch.pipeline.inputs, "forward");
    assert.equal(forward.port, 24224);
    assert.equal(forward.tls, "On");
    assert.equal(forward["tls.verify"], "On");
    assert.equal(forward["tls.verify_client_cert"], "On");
    assert.equal(forward["tls.ca_file"], "/fluent-bit/tls/ca.crt");
    assert.equal(forward.shared_key, "${FLUENT_FORWARD_SHARED_KEY}");
    assert.equal(forward["storage.type"], "filesystem");
    assert.equal(opensearch.service["storage.path"], "/var/fluent-bit/sink");
    assert.equal(opensearch.parsers, undefined);
  });

  it("leaves out tls.verify_client_cert for Fluent Bit releases that do not know it, and the rendered config says so", () => {
    const legacy = buildHubSinkConfig(sinkInput(OPENSEARCH, { requireClientCert: false }));
    assert.equal(named(legacy.pipeline.inputs, "forward")["tls.verify_client_cert"], undefined);
    assert.deepEqual(logPipelineProblems(legacy), []);
    assert.match(CLIENT_CERTS_NOT_ENFORCED_NOTE, /client certificates are NOT enforced/);
    assert.ok(
      renderFluentBitYaml(legacy, [CLIENT_CERTS_NOT_ENFORCED_NOTE]).startsWith(
        `# ${CLIENT_CERTS_NOT_ENFORCED_NOTE}\n`,
      ),
    );
  });

  it("writes to OpenSearch or Elasticsearch over verified TLS with credentials from the environment", () => {
    const os = named(opensearch.pipeline.outputs, "opensearch");
    const es = named(elasticsearch.pipeline.outputs, "es");
    for (const [out, user, password] of [
      [os, "${OPENSEARCH_USER}", "${OPENSEARCH_PASSWORD}"],
      [es, "${ES_USER}", "${ES_PASSWORD}"],
    ] as const) {
      assert.equal(out.tls, "On");
      assert.equal(out["tls.verify"], "On");
      assert.equal(out.http_user, user);
      assert.equal(out.http_passwd, password);
      assert.equal(out.suppress_type_name, "On");
      assert.equal(out.generate_id, "On");
      assert.equal(out.retry_limit, "no_limits");
      assert.equal(out["storage.total_limit_size"], "8G");
      assert.equal(out.index, "conjur-logs");
    }
    assert.equal(os["tls.ca_file"], "/fluent-bit/tls/opensearch-ca.crt");
    assert.equal(es["tls.ca_file"], undefined, "system trust store when no CA is given");
  });

  it("can print to stdout instead, for a sink without a search cluster", () => {
    assert.deepEqual(stdout.pipeline.outputs, [{ name: "stdout", match: "*", format: "json_lines" }]);
  });

  it("loses, leaks and misroutes nothing, for every destination", () => {
    for (const cfg of [opensearch, elasticsearch, stdout]) assert.deepEqual(logPipelineProblems(cfg), []);
  });
});

describe("observability: logPipelineProblems (the tests' check of every config) catches each defect", () => {
  const forwarder = buildSpokeForwarderConfig(forwarderInput());
  const sink = buildHubSinkConfig(sinkInput(OPENSEARCH));

  it("an output without tls On or tls.verify On", () => {
    assert.deepEqual(
      logPipelineProblems(withSection(forwarder, "outputs", "forward", (s) => (s.tls = "Off"))),
      ["output forward: tls must be On"],
    );
    assert.deepEqual(
      logPipelineProblems(withSection(sink, "outputs", "opensearch", (s) => delete s["tls.verify"])),
      ["output opensearch: tls.verify must be On"],
    );
  });

  it("a network output with the default retry limit or no buffer bound", () => {
    assert.deepEqual(
      logPipelineProblems(withSection(forwarder, "outputs", "forward", (s) => delete s.retry_limit)),
      ["output forward: retry_limit must be no_limits (the default of 1 drops logs)"],
    );
    assert.deepEqual(
      logPipelineProblems(
        withSection(sink, "outputs", "opensearch", (s) => delete s["storage.total_limit_size"]),
      ),
      ["output opensearch: storage.total_limit_size must bound the buffer"],
    );
  });

  it("filesystem buffering without storage.path", () => {
    const broken = structuredClone(forwarder) as { service: Record<string, unknown> };
    delete broken.service["storage.path"];
    assert.deepEqual(logPipelineProblems(broken as FluentBitYaml), [
      "service: storage.path must be set when an input buffers on the filesystem",
    ]);
  });

  it("a literal shared key or password instead of an environment reference", () => {
    assert.deepEqual(
      logPipelineProblems(withSection(forwarder, "outputs", "forward", (s) => (s.shared_key = "s3cr3t"))),
      ["forward: shared_key must be an environment reference like ${VAR}"],
    );
    assert.deepEqual(
      logPipelineProblems(withSection(sink, "outputs", "opensearch", (s) => (s.http_passwd = "hunter2"))),
      ["opensearch: http_passwd must be an environment reference like ${VAR}"],
    );
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

describe("observability: Conjur log parsers (the config's regexes, run as JS RegExp)", () => {
  // The same pattern text Fluent Bit receives: read back from the rendered YAML.
  const rendered = readFluentBitYaml(renderFluentBitYaml(buildSpokeForwarderConfig(forwarderInput())));
  const conjur = new RegExp(String(named(rendered.parsers, "conjur").regex));
  const audit = new RegExp(String(named(rendered.parsers, "conjur_audit").regex));

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
