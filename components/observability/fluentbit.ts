// Fluent Bit configurations as data: the spoke log forwarder and the hub log sink, built as plain
// objects in Fluent Bit's YAML format (3.2 and later read every setting from it) and serialised
// once by the `yaml` library. Pure: no Pulumi import. Which settings Fluent Bit accepts is judged
// by the real binary in the tests (test/observability/fluentbit-binary.test.ts), not here. The
// values come from the validated spec (model.ts): host names, DNS labels and label values hold no
// space and no `${`, so Fluent Bit reads each as written and expands nothing in it.
import * as path from "node:path";
import * as YAML from "yaml";
import { FLUENT_BIT_HTTP_PORT } from "./model";

// ---- The format ----

/**
 * A value as Fluent Bit reads it: every scalar is text to it, and a list sets its key once per
 * item, in order (a parser filter's several `parser` entries, record_modifier's `record`s).
 */
export type FluentBitValue = string | number | readonly string[];

/** One plugin instance (input, filter, output) or one parser: `name` and its properties. */
export type FluentBitSection = { readonly name: string } & Readonly<Record<string, FluentBitValue>>;

/**
 * Fluent Bit's YAML configuration (https://docs.fluentbit.io/manual/administration/configuring-fluent-bit/yaml):
 * `service`, custom `parsers` inline (YAML allows them in the main file), and the `pipeline`.
 * Keys are written in lower case, as Fluent Bit's documentation spells them (it ignores case).
 */
export interface FluentBitYaml {
  readonly service: Readonly<Record<string, FluentBitValue>>;
  readonly parsers?: readonly FluentBitSection[];
  readonly pipeline: {
    readonly inputs: readonly FluentBitSection[];
    readonly filters?: readonly FluentBitSection[];
    readonly outputs: readonly FluentBitSection[];
  };
}

/** The file's text; `notes` become comment lines above it, for whoever reads the ConfigMap. */
export function renderFluentBitYaml(config: FluentBitYaml, notes: readonly string[] = []): string {
  const doc = new YAML.Document(config);
  if (notes.length > 0) doc.commentBefore = notes.map((line) => ` ${line}`).join("\n");
  // No line folding: a long regex stays on one line, as written.
  return doc.toString({ lineWidth: 0 });
}

/** Said at the top of the sink's config when its image is a release before 5 (docs/observability.md). */
export const CLIENT_CERTS_NOT_ENFORCED_NOTE =
  "images.fluentBit is a Fluent Bit release before 5.0, which does not know tls.verify_client_cert: " +
  "client certificates are NOT enforced, a forwarder without one is accepted (shared key and server TLS only).";

/** `${NAME}`: Fluent Bit expands it from the environment (each such variable is filled from a Secret). */
const env = (name: string) => `\${${name}}`;

// ---- Builders ----

/** Parser names the forwarder's filters refer to. */
export const CONJUR_PARSER = "conjur";
export const CONJUR_AUDIT_PARSER = "conjur_audit";

/**
 * Conjur's application log line. Its formatter right-aligns the severity to five characters
 * (" INFO"), and the origin/request_id/tid tags appear only on request-scoped lines.
 * Written in the syntax common to Onigmo (Fluent Bit) and JavaScript, so tests can run it.
 */
export const CONJUR_LOG_REGEX =
  "^\\s*(?<level>[A-Z]+) (?<time>\\d{4}/\\d{2}/\\d{2} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4}) \\[pid=(?<pid>\\d+)\\]" +
  "(?: \\[origin=(?<origin>[^\\]]*)\\])?(?: \\[request_id=(?<request_id>[^\\]]*)\\])?(?: \\[tid=(?<tid>\\d+)\\])?" +
  "(?: (?<message>.*))?$";
export const CONJUR_LOG_TIME_FORMAT = "%Y/%m/%d %H:%M:%S %z";

/**
 * Conjur's RFC 5424 audit event: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`, where nil
 * fields are "-" and structured-data values escape "]" as "\]".
 */
export const CONJUR_AUDIT_REGEX =
  "^<(?<pri>\\d{1,3})>1 (?<time>\\S+) (?<host>\\S+) (?<ident>\\S+) (?<pid>\\S+) (?<msgid>\\S+) " +
  "(?<sd>-|(?:\\[(?:[^\\]\\\\]|\\\\.)*\\])+)(?: (?<message>.*))?$";
export const CONJUR_AUDIT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%L%z";

function regexParser(name: string, regex: string, time_format: string, types: string): FluentBitSection {
  return { name, format: "regex", regex, time_key: "time", time_format, time_keep: "On", types };
}

export function buildConjurParsers(): FluentBitSection[] {
  return [
    regexParser(CONJUR_PARSER, CONJUR_LOG_REGEX, CONJUR_LOG_TIME_FORMAT, "pid:integer tid:integer"),
    regexParser(CONJUR_AUDIT_PARSER, CONJUR_AUDIT_REGEX, CONJUR_AUDIT_TIME_FORMAT, "pri:integer"),
  ];
}

/** Both ends of the forward protocol: TLS files, the shared key, the filesystem buffer. */
export interface ForwardEndInput {
  /** The forwarder's client certificate or the sink's server certificate, and the CA of the peer's. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Name of the env var holding the forward protocol's shared key (from a Secret). */
  sharedKeyEnv: string;
  storagePath: string;
}

/** The TLS and shared-key settings of a forward input or output, whose certificates chain to caFile. */
function forwardTls(input: ForwardEndInput): Record<string, FluentBitValue> {
  return {
    "tls.ca_file": input.caFile,
    "tls.crt_file": input.certFile,
    "tls.key_file": input.keyFile,
    shared_key: env(input.sharedKeyEnv),
  };
}

export interface SpokeForwarderInput extends ForwardEndInput {
  cluster: string;
  region: string;
  hubHost: string;
  hubPort: number;
  /** Name in the hub sink's certificate; sent as SNI and checked against it. */
  tlsServerName: string;
  storageTotalLimit: string;
  memBufLimit: string;
  conjurNamespace: string;
}

const CONTAINER_LOGS = "/var/log/containers/*.log";
/** tail names each record kube.<path with / as .>, e.g. kube.var.log.containers.<pod>_<ns>_<container>-<id>.log */
const KUBE_TAG_PREFIX = "kube.var.log.containers.";

function serviceSection(storagePath: string, backlogMemLimit: string): Record<string, FluentBitValue> {
  return {
    flush: 1,
    log_level: "info",
    daemon: "Off",
    http_server: "On",
    http_listen: "0.0.0.0",
    http_port: FLUENT_BIT_HTTP_PORT,
    health_check: "On",
    "storage.path": storagePath,
    "storage.sync": "normal",
    "storage.checksum": "off",
    "storage.backlog.mem_limit": backlogMemLimit,
    "storage.metrics": "On",
  };
}

/** The spoke DaemonSet's config: container logs, Kubernetes metadata, Conjur parsing, TLS forward to the hub. */
export function buildSpokeForwarderConfig(input: SpokeForwarderInput): FluentBitYaml {
  const { storagePath, memBufLimit } = input;
  return {
    service: serviceSection(storagePath, memBufLimit),
    parsers: buildConjurParsers(),
    pipeline: {
      inputs: [
        {
          name: "tail",
          tag: "kube.*",
          path: CONTAINER_LOGS,
          // containerd writes CRI-format lines and splits long ones; cri joins them back.
          "multiline.parser": "cri",
          db: path.posix.join(storagePath, "tail-containers.db"),
          "db.locking": "true",
          "storage.type": "filesystem",
          mem_buf_limit: memBufLimit,
          skip_long_lines: "On",
          refresh_interval: 10,
        },
      ],
      filters: [
        {
          name: "kubernetes",
          match: "kube.*",
          kube_tag_prefix: KUBE_TAG_PREFIX,
          merge_log: "On",
          keep_log: "Off",
          "k8s-logging.parser": "On",
          "k8s-logging.exclude": "On",
          annotations: "Off",
        },
        {
          // Tag of a container log: kube.var.log.containers.<pod>_<namespace>_<container>-<id>.log
          name: "parser",
          match: `kube.*_${input.conjurNamespace}_*`,
          key_name: "log",
          parser: [CONJUR_PARSER, CONJUR_AUDIT_PARSER],
          reserve_data: "On",
        },
        {
          // The same cluster and region as the spoke Prometheus' external_labels, so logs and
          // metrics of one spoke join on them.
          name: "record_modifier",
          match: "*",
          record: [`cluster ${input.cluster}`, `region ${input.region}`],
        },
      ],
      outputs: [
        {
          name: "forward",
          match: "*",
          host: input.hubHost,
          port: input.hubPort,
          self_hostname: input.cluster,
          tls: "On",
          "tls.verify": "On",
          // Without it Fluent Bit checks the chain but not the name (fluent-bit#8072; option since 3.1).
          "tls.verify_hostname": "On",
          "tls.vhost": input.tlsServerName,
          ...forwardTls(input),
          // The hub acknowledges each chunk, so a chunk leaves the buffer only once it is stored.
          require_ack_response: "True",
          retry_limit: "no_limits",
          "storage.total_limit_size": input.storageTotalLimit,
        },
      ],
    },
  };
}

export type SinkDestination =
  | { kind: "stdout" }
  | {
      kind: "elasticsearch" | "opensearch";
      host: string;
      port: number;
      index: string;
      userEnv: string;
      passwordEnv: string;
      /** CA of the search cluster; the system trust store when omitted. */
      caFile?: string;
    };

export interface HubSinkInput extends ForwardEndInput {
  listenPort: number;
  destination: SinkDestination;
  /** Bound of the output's filesystem buffer while the search cluster is away. */
  storageTotalLimit?: string;
  memBufLimit?: string;
  /**
   * Refuse forwarders without a client certificate from caFile (`tls.verify_client_cert`, Fluent
   * Bit 5.0 and later). With tls.verify alone, in_forward asks for a client certificate and checks
   * one that is sent, but still accepts a client that sends none. Releases before 5 refuse to start
   * on the key: false for those, and the shared key plus server TLS remain the only authentication.
   */
  requireClientCert?: boolean;
}

function destinationOutput(destination: SinkDestination, storageTotalLimit: string): FluentBitSection {
  if (destination.kind === "stdout") return { name: "stdout", match: "*", format: "json_lines" };
  return {
    name: destination.kind === "elasticsearch" ? "es" : "opensearch",
    match: "*",
    host: destination.host,
    port: destination.port,
    index: destination.index,
    tls: "On",
    "tls.verify": "On",
    ...(destination.caFile !== undefined ? { "tls.ca_file": destination.caFile } : {}),
    http_user: env(destination.userEnv),
    http_passwd: env(destination.passwordEnv),
    suppress_type_name: "On",
    // Retried chunks get the same document ids, so a retry cannot index a record twice.
    generate_id: "On",
    // Kubernetes labels such as app.kubernetes.io/name would otherwise become nested objects
    // and clash with a label named app.
    replace_dots: "On",
    retry_limit: "no_limits",
    "storage.total_limit_size": storageTotalLimit,
  };
}

/** The hub's log sink: mTLS forward input from the spokes, then a search cluster or stdout. */
export function buildHubSinkConfig(input: HubSinkInput): FluentBitYaml {
  const memBufLimit = input.memBufLimit ?? "64M";
  return {
    service: serviceSection(input.storagePath, memBufLimit),
    pipeline: {
      inputs: [
        {
          name: "forward",
          listen: "0.0.0.0",
          port: input.listenPort,
          tls: "On",
          "tls.verify": "On",
          ...((input.requireClientCert ?? true) ? { "tls.verify_client_cert": "On" } : {}),
          // As a server, tls.ca_file is the CA that forwarders' client certificates must chain to.
          ...forwardTls(input),
          "storage.type": "filesystem",
          mem_buf_limit: memBufLimit,
        },
      ],
      outputs: [destinationOutput(input.destination, input.storageTotalLimit ?? "8G")],
    },
  };
}
