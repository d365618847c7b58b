// The hub's pure documents: nginx TLS front, bootstrap and policy-load scripts, content hashes.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildBootstrapScript,
  buildNginxConfig,
  buildPolicyLoadScript,
  contentHash,
} from "../components/hub/documents";

describe("hub documents", () => {
  it("terminates TLS on 9443, proxies to Conjur on loopback and lets only the hub's pod network read /metrics", () => {
    const conf = buildNginxConfig(["10.100.0.0/16"]);
    assert.match(conf, /listen 9443 ssl;/);
    assert.match(conf, /proxy_pass http:\/\/127\.0\.0\.1:8080;/);
    assert.match(conf, /location = \/metrics \{\n\s+allow 10\.100\.0\.0\/16;\n\s+deny all;/);
    assert.throws(() => buildNginxConfig(["10.0.0.0/8; allow all"]), /not a CIDR/);
  });

  it("bootstraps idempotently: creates the account only when its admin role is missing, and never logs the API key", () => {
    const script = buildBootstrapScript();
    assert.match(script, /conjurctl db migrate/);
    assert.match(script, /if conjurctl role retrieve-key "\$CONJUR_ACCOUNT:user:admin"/);
    assert.match(
      script,
      /account create --password-from-stdin --name "\$CONJUR_ACCOUNT" < \/secrets\/admin\/password >\/dev\/null/,
    );
  });

  it("loads policy and variables through the REST API without a secret on any command line", () => {
    const script = buildPolicyLoadScript({
      primaryUrl: "https://conjur-primary.conjur-system.svc",
      account: "acme",
      variables: [{ variableId: "conjur/authn-k8s/web/ca/cert", file: "/secrets/authn-web-ca/ca.crt" }],
    });
    assert.match(script, /--config - "\$URL\/authn\/\$ACCOUNT\/login"/);
    assert.match(
      script,
      /--header @\/tmp\/auth-header --request POST --data-binary @\/policy\/policy.yml "\$URL\/policies\/\$ACCOUNT\/policy\/root"/,
    );
    assert.match(script, /set_variable 'conjur\/authn-k8s\/web\/ca\/cert' '\/secrets\/authn-web-ca\/ca.crt'/);
    assert.doesNotMatch(script, /--user|-u admin|Token token="\$TOKEN" "\$URL/);
    assert.throws(
      () =>
        buildPolicyLoadScript({
          primaryUrl: "https://x",
          account: "a",
          variables: [{ variableId: "x'; rm -rf /", file: "/f" }],
        }),
      /unsafe variable id/,
    );
  });

  it("writes scripts a POSIX shell parses", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-sh-"));
    try {
      const files = {
        "bootstrap.sh": buildBootstrapScript(),
        "load.sh": buildPolicyLoadScript({
          primaryUrl: "https://p",
          account: "acme",
          variables: [{ variableId: "a/b", file: "/c" }],
        }),
      };
      for (const [name, text] of Object.entries(files)) {
        fs.writeFileSync(path.join(dir, name), text);
        execFileSync("sh", ["-n", path.join(dir, name)]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("the policy-load script run by a POSIX shell against a stand-in curl", () => {
    // The stand-in answers the policy load with the HTTP codes listed in $LOAD_CODES, one per call
    // (the last repeats), writes a 201 body holding an API key as Conjur does, and succeeds otherwise.
    const CURL = [
      "#!/bin/sh",
      'out=""; url=""; prev=""',
      'for a in "$@"; do [ "$prev" = "--output" ] && out="$a"; prev="$a"; url="$a"; done',
      'case "$url" in',
      "  */policies/*)",
      '    n=$(cat "$STATE" 2>/dev/null || echo 0); echo $((n+1)) > "$STATE"',
      '    code=$(echo "$LOAD_CODES" | tr " " "\\n" | sed -n "$((n+1))p"); [ -n "$code" ] || code=$(echo "$LOAD_CODES" | tr " " "\\n" | tail -1)',
      '    if [ "$code" = 201 ]; then echo \'{"created_roles":{"acme:host:x":{"api_key":"SECRET-API-KEY"}}}\' > "$out"; else echo "{\\"error\\":\\"reason $code\\"}" > "$out"; fi',
      '    printf %s "$code" ;;',
      "  */login) printf apikey ;;",
      "  */authenticate) printf token ;;",
      "esac",
      "",
    ].join("\n");
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-load-"));
      fs.writeFileSync(path.join(dir, "curl"), CURL, { mode: 0o755 });
      fs.writeFileSync(path.join(dir, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      fs.writeFileSync(
        path.join(dir, "load.sh"),
        buildPolicyLoadScript({
          primaryUrl: "https://p",
          account: "acme",
          variables: [{ variableId: "conjur/authn-k8s/web/ca/cert", file: "/c" }],
          loadAttempts: 4,
        }),
      );
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const run = (codes: string) =>
      spawnSync("sh", [path.join(dir, "load.sh")], {
        encoding: "utf8",
        env: {
          ...process.env,
          PATH: `${dir}:${process.env["PATH"]}`,
          LOAD_CODES: codes,
          STATE: path.join(dir, "n"),
        },
      });

    it("waits while another load is in progress (409), then loads, sets the variables and never logs the API keys", () => {
      const result = run("409 409 201");
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout.match(/another load is in progress, retrying/g)?.length, 2);
      assert.match(result.stdout, /policy loaded into root\nset conjur\/authn-k8s\/web\/ca\/cert/);
      assert.doesNotMatch(result.stdout + result.stderr, /SECRET-API-KEY/);
      assert.ok(!fs.existsSync("/tmp/policy-response"), "the response with the API keys is removed");
    });

    it("stops with the status and Conjur's reason on any other answer, and gives up after its attempts", () => {
      const rejected = run("422");
      assert.notEqual(rejected.status, 0);
      assert.match(rejected.stderr, /policy load failed: HTTP 422\n\{"error":"reason 422"\}/);
      assert.doesNotMatch(rejected.stdout, /policy loaded|set conjur/);
      const busy = run("409");
      assert.notEqual(busy.status, 0);
      assert.match(busy.stderr, /another load still in progress after 4 attempts/);
    });
  });

  it("hashes content stably and distinguishes part boundaries", () => {
    assert.equal(contentHash("a", "b"), contentHash("a", "b"));
    assert.notEqual(contentHash("ab", ""), contentHash("a", "b"));
    assert.match(contentHash("x"), /^[0-9a-f]{10}$/);
  });
});
