// The hub's pure documents: nginx TLS front, bootstrap and policy-load scripts, content hashes.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
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

  it("hashes content stably and distinguishes part boundaries", () => {
    assert.equal(contentHash("a", "b"), contentHash("a", "b"));
    assert.notEqual(contentHash("ab", ""), contentHash("a", "b"));
    assert.match(contentHash("x"), /^[0-9a-f]{10}$/);
  });
});
