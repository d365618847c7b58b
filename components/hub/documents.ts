// Pure documents the hub mounts: the nginx TLS front for Conjur, the account bootstrap script and
// the policy-load script. Values that reach a shell are validated ids (DNS labels, fixed paths),
// and are still single-quoted; secrets are read from mounted files, never put on a command line.
import { hashOfParts } from "../kube";
import { CONJUR_HTTP_PORT, NGINX_TLS_PORT } from "../naming";

export const NGINX_TLS_DIR = "/etc/nginx/tls";
export const NGINX_HEALTH_PATH = "/nginx-health";

/**
 * nginx.conf for the unprivileged image: TLS on NGINX_TLS_PORT, proxy to Conjur on loopback.
 * `/metrics` is unauthenticated in Conjur, so only `metricsClientCidrs` (the hub's pod network,
 * where its Prometheus runs) may read it; spokes reach the same port through the LoadBalancer.
 */
export function buildNginxConfig(metricsClientCidrs: readonly string[]): string {
  for (const cidr of metricsClientCidrs) {
    if (!/^[0-9./]+$/.test(cidr)) throw new Error(`not a CIDR: ${cidr}`);
  }
  return [
    "worker_processes auto;",
    "pid /tmp/nginx.pid;",
    "error_log /dev/stderr warn;",
    "events { worker_connections 1024; }",
    "http {",
    "  access_log /dev/stdout;",
    "  client_body_temp_path /tmp/client_body;",
    "  proxy_temp_path /tmp/proxy;",
    "  fastcgi_temp_path /tmp/fastcgi;",
    "  uwsgi_temp_path /tmp/uwsgi;",
    "  scgi_temp_path /tmp/scgi;",
    "  server_tokens off;",
    "  server {",
    `    listen ${NGINX_TLS_PORT} ssl;`,
    `    ssl_certificate ${NGINX_TLS_DIR}/tls.crt;`,
    `    ssl_certificate_key ${NGINX_TLS_DIR}/tls.key;`,
    "    ssl_protocols TLSv1.2 TLSv1.3;",
    "    ssl_prefer_server_ciphers on;",
    "    client_max_body_size 10m;",
    // Ask for a client certificate without requiring one or checking its issuer: authn-k8s clients
    // present the certificate Conjur issued them and Conjur verifies it (conjur-oss-helm-chart
    // files/conjur.conf does the same).
    "    ssl_verify_client optional_no_ca;",
    `    location = ${NGINX_HEALTH_PATH} { access_log off; return 200 "ok"; }`,
    "    location = /metrics {",
    ...metricsClientCidrs.map((cidr) => `      allow ${cidr};`),
    "      deny all;",
    `      proxy_pass http://127.0.0.1:${CONJUR_HTTP_PORT};`,
    "    }",
    "    location / {",
    `      proxy_pass http://127.0.0.1:${CONJUR_HTTP_PORT};`,
    // authn-k8s reads the client certificate from this header (conjur authn_k8s/authenticator.rb).
    "      proxy_set_header X-SSL-Client-Certificate $ssl_client_escaped_cert;",
    "      proxy_set_header Host $host;",
    "      proxy_set_header X-Real-IP $remote_addr;",
    "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "      proxy_set_header X-Forwarded-Proto https;",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Paths where the Jobs find their mounted inputs. */
export const JOB_PATHS = {
  adminPassword: "/secrets/admin/password",
  policy: "/policy/policy.yml",
  caCert: "/etc/conjur/ca/ca.crt",
  secretsRoot: "/secrets",
  scratch: "/tmp",
} as const;

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/**
 * Idempotent account bootstrap, run with the Conjur image: migrate the database, then create the
 * account only if its admin role does not exist yet. The API key that account creation prints is
 * discarded so it never reaches a log.
 */
export function buildBootstrapScript(): string {
  return [
    "set -eu",
    "conjurctl db migrate",
    'if conjurctl role retrieve-key "$CONJUR_ACCOUNT:user:admin" >/dev/null 2>&1; then',
    '  echo "account $CONJUR_ACCOUNT exists: nothing to do"',
    "else",
    `  conjurctl account create --password-from-stdin --name "$CONJUR_ACCOUNT" < ${JOB_PATHS.adminPassword} >/dev/null`,
    '  echo "account $CONJUR_ACCOUNT created"',
    "fi",
    "",
  ].join("\n");
}

/** One Conjur variable the policy-load Job sets from a mounted file. */
export interface VariableFromFile {
  readonly variableId: string;
  readonly file: string;
}

export interface PolicyLoadScriptInput {
  /** In-cluster URL of the primary, e.g. `https://conjur-primary.conjur-system.svc`. */
  readonly primaryUrl: string;
  readonly account: string;
  readonly variables: readonly VariableFromFile[];
  /** Authenticators (`authn-jwt/<id>`) to enable through the API: `PATCH /<authenticator>/<account>`. */
  readonly enable?: readonly string[];
  /** How many times to poll the primary before giving up (5 s apart). */
  readonly waitAttempts?: number;
  /** How many times to try the load while another is in progress (2-9 s apart). */
  readonly loadAttempts?: number;
}

const SAFE_ID = /^[A-Za-z0-9/_.-]+$/;

/**
 * Loads the policy into `root` through the REST API with curl, then sets each variable. Loading
 * is additive (POST): a branch this stack no longer declares is left for an operator to delete.
 * A load that meets another in progress (409) waits and tries again; any other failure stops the
 * Job with the HTTP status and Conjur's reason.
 */
export function buildPolicyLoadScript(input: PolicyLoadScriptInput): string {
  for (const v of input.variables) {
    if (!SAFE_ID.test(v.variableId) || !SAFE_ID.test(v.file)) {
      throw new Error(`unsafe variable id or path: ${v.variableId} ${v.file}`);
    }
  }
  for (const a of input.enable ?? []) {
    if (!SAFE_ID.test(a)) throw new Error(`unsafe authenticator: ${a}`);
  }
  const attempts = input.waitAttempts ?? 60;
  const curl = `curl --fail --silent --show-error --cacert ${JOB_PATHS.caCert}`;
  const auth = `${JOB_PATHS.scratch}/auth-header`;
  const response = `${JOB_PATHS.scratch}/policy-response`;
  const loadAttempts = input.loadAttempts ?? 40;
  const lines = [
    "set -eu",
    `URL=${shellQuote(input.primaryUrl)}`,
    `ACCOUNT=${shellQuote(input.account)}`,
    "i=0",
    `until ${curl} --output /dev/null "$URL/"; do`,
    "  i=$((i+1))",
    `  if [ "$i" -ge ${attempts} ]; then echo "primary not reachable at $URL" >&2; exit 1; fi`,
    "  sleep 5",
    "done",
    "# The password goes to curl through a config on stdin, not the command line.",
    `API_KEY=$(printf 'user = "admin:%s"\\n' "$(cat ${JOB_PATHS.adminPassword})" | ${curl} --config - "$URL/authn/$ACCOUNT/login")`,
    `TOKEN=$(printf '%s' "$API_KEY" | ${curl} --header 'Accept-Encoding: base64' --data-binary @- "$URL/authn/$ACCOUNT/admin/authenticate")`,
    `printf 'Authorization: Token token="%s"\\n' "$TOKEN" > ${auth}`,
    // Conjur answers 409 while another load is in progress (the API's "Load a policy": retry after a
    // delay): every spoke has its own load, so they meet. The 201 body lists created hosts' API keys:
    // it goes to memory-backed scratch and is removed, never to the log.
    "n=0",
    "while :; do",
    `  code=$(curl --silent --show-error --cacert ${JOB_PATHS.caCert} --output ${response} --write-out '%{http_code}' --header @${auth} --request POST --data-binary @${JOB_PATHS.policy} "$URL/policies/$ACCOUNT/policy/root")`,
    '  case "$code" in',
    "    201) break ;;",
    "    409)",
    "      n=$((n+1))",
    `      if [ "$n" -ge ${loadAttempts} ]; then echo "policy load: another load still in progress after $n attempts" >&2; exit 1; fi`,
    '      echo "policy load: another load is in progress, retrying"',
    // Spread the retries with a random byte (busybox and coreutils both have od); 5 s without it.
    "      sleep $((2 + $(od -An -N1 -tu1 /dev/urandom 2>/dev/null || echo 3) % 8)) ;;",
    `    *) echo "policy load failed: HTTP $code" >&2; cat ${response} >&2; rm -f ${response}; exit 1 ;;`,
    "  esac",
    "done",
    `rm -f ${response}`,
    'echo "policy loaded into root"',
    "set_variable() {",
    `  id=$(printf '%s' "$1" | sed 's|/|%2F|g')`,
    `  ${curl} --header @${auth} --request POST --data-binary @"$2" "$URL/secrets/$ACCOUNT/variable/$id" > /dev/null`,
    '  echo "set $1"',
    "}",
    ...input.variables.map((v) => `set_variable ${shellQuote(v.variableId)} ${shellQuote(v.file)}`),
    ...((input.enable ?? []).length > 0
      ? [
          "# A Leader's allow-list is stored in its database (routes.rb: PATCH /:authenticator/:service_id/:account);",
          "# an allow-list in conjur.yml or CONJUR_AUTHENTICATORS on the Leader takes precedence.",
          "enable_authenticator() {",
          `  ${curl} --header @${auth} --request PATCH --data 'enabled=true' "$URL/$1/$ACCOUNT" > /dev/null`,
          '  echo "enabled $1"',
          "}",
          ...(input.enable ?? []).map((a) => `enable_authenticator ${shellQuote(a)}`),
        ]
      : []),
    `rm -f ${auth}`,
    "",
  ];
  return lines.join("\n");
}

/** Short content hash for object names that must change when their inputs change (Jobs). */
export function contentHash(...parts: readonly string[]): string {
  return hashOfParts(parts, 10);
}
