// The in-hub Leader (conjur.leader.placement: hub): its pure parts (names, certificates' names, the
// appliance pod) and the configuration Job's script, run by a POSIX shell against a stand-in kubectl
// that keeps each appliance pod's files in a directory, so idempotence is observed, not assumed.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildLeaderConfigureScript,
  followerCertificateNames,
  LEADER_SERVED_PORTS,
  LEADER_STATE_PATHS,
  leaderDnsNames,
  leaderPodNames,
  leaderPodsLeaderFirst,
  leaderPodSpec,
} from "../components/hub/leader-documents";
import type { HubLeaderSpec } from "../stacks/spec";

const LEADER: HubLeaderSpec = {
  placement: "hub",
  url: "https://conjur-leader.acme.com",
  hostname: "conjur-leader.acme.com",
  cidrs: [],
  altNames: ["conjur.leader.acme.com"],
  standbys: 2,
  activeNode: 0,
  storage: { size: "20Gi" },
  resources: { cpuRequest: "100m", memoryRequest: "512Mi", cpuLimit: "2", memoryLimit: "4Gi" },
};

describe("in-hub Leader builders", () => {
  it("names the Leader pod first, then one pod per Standby", () => {
    assert.deepEqual(leaderPodNames(LEADER), ["conjur-leader-0", "conjur-leader-1", "conjur-leader-2"]);
  });

  it("hands the Job the active Leader first once a Standby has been promoted (activeNode)", () => {
    assert.deepEqual(leaderPodsLeaderFirst(LEADER), [
      "conjur-leader-0",
      "conjur-leader-1",
      "conjur-leader-2",
    ]);
    assert.deepEqual(leaderPodsLeaderFirst({ ...LEADER, activeNode: 2 }), [
      "conjur-leader-2",
      "conjur-leader-0",
      "conjur-leader-1",
    ]);
  });

  it("puts the external name first in the Leader's certificate, then the extra, Service and pod names", () => {
    const names = leaderDnsNames(LEADER);
    assert.equal(names[0], "conjur-leader.acme.com");
    for (const name of [
      "conjur.leader.acme.com",
      "conjur-leader.conjur-system.svc",
      "conjur-leader.conjur-system.svc.cluster.local",
      "conjur-leader-0.conjur-leader-nodes.conjur-system.svc.cluster.local",
      "conjur-leader-2.conjur-leader-nodes.conjur-system.svc.cluster.local",
    ])
      assert.ok(names.includes(name), name);
    assert.equal(new Set(names).size, names.length);
  });

  it("gives the followers one certificate: their in-cluster name first, and every spoke's external names", () => {
    const names = followerCertificateNames([
      { follower: { replicas: 1, resources: LEADER.resources, externalHostnames: ["follower.eu.acme.com"] } },
      { follower: { replicas: 1, resources: LEADER.resources, externalHostnames: ["follower.us.acme.com"] } },
    ]);
    assert.equal(names[0], "conjur-follower.conjur-system.svc.cluster.local");
    assert.ok(names.includes("follower.eu.acme.com") && names.includes("follower.us.acme.com"));
  });

  it("runs the appliance as kubernetes-conjur-deploy does: root, AUDIT_WRITE, no escalation, /health readiness, no liveness", () => {
    const pod = leaderPodSpec(LEADER, "registry/conjur-appliance:13.5.0", "conjur-leader");
    const [container] = pod.containers;
    assert.ok(container);
    assert.deepEqual(container.securityContext, {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { add: ["AUDIT_WRITE"] },
    });
    assert.equal("seccompProfile" in container.securityContext, false);
    assert.deepEqual(
      container.ports.map((p) => p.containerPort),
      [...LEADER_SERVED_PORTS],
    );
    assert.deepEqual(LEADER_SERVED_PORTS, [443, 5432, 1999]);
    assert.deepEqual(container.readinessProbe.httpGet, { path: "/health", port: "https", scheme: "HTTPS" });
    assert.equal("livenessProbe" in container, false);
    assert.equal(pod.automountServiceAccountToken, false);
  });

  it("mounts CyberArk's documented container volumes, each a sub-directory of the pod's volume", () => {
    const [container] = leaderPodSpec(LEADER, "i:1", "sa").containers;
    const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.mountPath, m.subPath]));
    assert.deepEqual(mounts, {
      "/etc/conjur/config": "config",
      "/opt/cyberark/dap/security": "security",
      "/opt/conjur/backup": "backup",
      "/opt/cyberark/dap/seeds": "seeds",
      "/var/log/conjur": "logs",
      [LEADER_STATE_PATHS.hubspoke]: "hubspoke",
    });
    assert.ok(container.volumeMounts.every((m) => m.name === "state"));
  });
});

describe("the Leader configuration script against a stand-in kubectl", () => {
  // The stand-in keeps each pod's files under $PODS/<pod>/ (absolute in-pod paths are mapped there),
  // runs in-pod commands with stand-in evoke and curl, logs its own argv (what the API server would
  // record) and every evoke call. A pod answers /health once evoke configured it.
  const KUBECTL = [
    "#!/bin/sh",
    'echo "kubectl $*" >> "$ARGV_LOG"',
    'if [ "$1" = get ]; then echo Running; exit 0; fi',
    "shift",
    '[ "$1" = -i ] && shift',
    "shift 2; pod=$1; shift; shift 3",
    'root="$PODS/$pod"; mkdir -p "$root"',
    'map() { printf %s "$1" | sed -e "s#/tmp/#$root/tmp/#g" -e "s#/var/lib/hubspoke#$root/state#g"; }',
    'args=""; for a in "$@"; do args="$args $(printf "%s" "$(map "$a")" | sed "s/\'/\'\\\\\\\\\'\'/g; s/^/\'/; s/$/\'/")"; done',
    'mkdir -p "$root/tmp"',
    'eval "POD=$pod POD_ROOT=$root exec $args"',
    "",
  ].join("\n");
  const EVOKE = [
    "#!/bin/sh",
    'echo "$POD evoke $*" >> "$EVOKE_LOG"',
    'case "$1 $2" in',
    '  "role ") cat "$POD_ROOT/role" 2>/dev/null || echo blank ;;',
    '  "configure leader") echo master > "$POD_ROOT/role" ;;',
    '  "configure standby") echo standby > "$POD_ROOT/role" ;;',
    '  "seed standby") echo "SEED-FOR-$3-FROM-$POD" ;;',
    '  "unpack seed") cat > "$POD_ROOT/unpacked-seed" ;;',
    "esac",
    "",
  ].join("\n");
  const CURL = ["#!/bin/sh", 'grep -qv blank "$POD_ROOT/role" 2>/dev/null', ""].join("\n");
  const PASSWORD = "Admin-Pass.word~42";
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-leader-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "kubectl"), KUBECTL, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "evoke"), EVOKE, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "curl"), CURL, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const pki = path.join(dir, "pki");
    fs.mkdirSync(pki);
    for (const file of ["ca.crt", "leader.crt", "leader.key", "follower.crt", "follower.key"])
      fs.writeFileSync(path.join(pki, file), `${file} v1\n`);
    fs.writeFileSync(path.join(dir, "password"), `${PASSWORD}\n`);
    fs.mkdirSync(path.join(dir, "scratch"));
    fs.writeFileSync(
      path.join(dir, "configure.sh"),
      buildLeaderConfigureScript({
        account: "acme",
        hostname: "conjur-leader.acme.com",
        altNames: ["conjur-leader.conjur-system.svc"],
        pods: ["conjur-leader-0", "conjur-leader-1"],
        passwordFile: path.join(dir, "password"),
        pkiDir: pki,
        scratchDir: path.join(dir, "scratch"),
        waitAttempts: 3,
      }),
    );
    env = {
      ...process.env,
      PATH: `${bin}:${process.env["PATH"]}`,
      PODS: path.join(dir, "pods"),
      ARGV_LOG: path.join(dir, "argv.log"),
      EVOKE_LOG: path.join(dir, "evoke.log"),
    };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = () => {
    fs.rmSync(env["EVOKE_LOG"]!, { force: true });
    const result = spawnSync("sh", [path.join(dir, "configure.sh")], { encoding: "utf8", env });
    const evoke = fs.existsSync(env["EVOKE_LOG"]!) ? fs.readFileSync(env["EVOKE_LOG"]!, "utf8") : "";
    // `evoke role` only asks: the calls that change something are the others.
    return {
      ...result,
      evoke: evoke
        .trim()
        .split("\n")
        .filter((l) => l && !l.endsWith(" evoke role")),
    };
  };

  it("configures the Leader, imports the estate PKI and configures the Standby, in that order", () => {
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(first.evoke, [
      `conjur-leader-0 evoke configure leader --accept-eula -h conjur-leader.acme.com --master-altnames conjur-leader.conjur-system.svc -p ${PASSWORD} acme`,
      `conjur-leader-0 evoke ca import --force --root ${env["PODS"]}/conjur-leader-0/tmp/hubspoke-pki/ca.crt`,
      `conjur-leader-0 evoke ca import --force --key ${env["PODS"]}/conjur-leader-0/tmp/hubspoke-pki/leader.key --set ${env["PODS"]}/conjur-leader-0/tmp/hubspoke-pki/leader.crt`,
      `conjur-leader-0 evoke ca import --force --key ${env["PODS"]}/conjur-leader-0/tmp/hubspoke-pki/follower.key ${env["PODS"]}/conjur-leader-0/tmp/hubspoke-pki/follower.crt`,
      "conjur-leader-0 evoke seed standby conjur-leader-1.conjur-leader-nodes.conjur-system.svc.cluster.local conjur-leader-0.conjur-leader-nodes.conjur-system.svc.cluster.local",
      "conjur-leader-1 evoke unpack seed -",
      "conjur-leader-1 evoke configure standby",
    ]);
    // The Leader's seed reached the Standby through stdin, and no copy is left in the Job's scratch.
    assert.equal(
      fs.readFileSync(path.join(env["PODS"]!, "conjur-leader-1", "unpacked-seed"), "utf8"),
      "SEED-FOR-conjur-leader-1.conjur-leader-nodes.conjur-system.svc.cluster.local-FROM-conjur-leader-0\n",
    );
    assert.deepEqual(fs.readdirSync(path.join(dir, "scratch")), []);
    assert.equal(fs.existsSync(path.join(env["PODS"]!, "conjur-leader-0", "tmp", "hubspoke-pki")), false);
    // The password went through stdin: never on a kubectl command line (the API server records those).
    assert.doesNotMatch(
      fs.readFileSync(env["ARGV_LOG"]!, "utf8"),
      new RegExp(PASSWORD.replace(/[.~]/g, "\\$&")),
    );
    assert.doesNotMatch(first.stdout + first.stderr, /Admin-Pass/);
  });

  it("run again, configures and imports nothing", () => {
    assert.equal(run().status, 0);
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(second.evoke, []);
    assert.match(second.stdout, /Leader configured before; not configuring again/);
    assert.match(second.stdout, /estate PKI imported before/);
    assert.match(second.stdout, /Standby configured before; not configuring again/);
  });

  it("imports the PKI again (only it) when a certificate changes", () => {
    assert.equal(run().status, 0);
    fs.writeFileSync(path.join(dir, "pki", "follower.crt"), "follower.crt v2 (a new spoke's names)\n");
    const again = run();
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(
      again.evoke.map((line) => line.split(" ").slice(0, 5).join(" ")),
      [
        "conjur-leader-0 evoke ca import --force",
        "conjur-leader-0 evoke ca import --force",
        "conjur-leader-0 evoke ca import --force",
      ],
    );
  });

  it("refuses to configure again a Leader whose volume says it was configured but whose appliance is blank", () => {
    assert.equal(run().status, 0);
    // A new container: the volume (and the record on it) survived, the database did not.
    fs.rmSync(path.join(env["PODS"]!, "conjur-leader-0", "role"));
    const lost = run();
    assert.notEqual(lost.status, 0);
    assert.deepEqual(lost.evoke, []);
    assert.match(
      lost.stderr,
      /conjur-leader-0: its volume records that it was configured as leader, but the appliance is blank/,
    );
  });

  it("records a Leader configured by hand and configures nothing on it (it still imports the PKI)", () => {
    fs.mkdirSync(path.join(env["PODS"]!, "conjur-leader-0"), { recursive: true });
    fs.writeFileSync(path.join(env["PODS"]!, "conjur-leader-0", "role"), "master\n");
    const result = run();
    assert.equal(result.status, 0, result.stderr);
    assert.ok(!result.evoke.some((l) => l.includes("configure leader")));
    assert.ok(result.evoke.some((l) => l.includes("--set")));
    assert.equal(
      fs.readFileSync(path.join(env["PODS"]!, "conjur-leader-0", "state", "role"), "utf8"),
      "leader\n",
    );
  });

  it("refuses a pod the appliance says is something else (a Standby where the Leader should be)", () => {
    fs.mkdirSync(path.join(env["PODS"]!, "conjur-leader-0"), { recursive: true });
    fs.writeFileSync(path.join(env["PODS"]!, "conjur-leader-0", "role"), "standby\n");
    const result = run();
    assert.notEqual(result.status, 0);
    assert.deepEqual(result.evoke, []);
    assert.match(result.stderr, /says it is 'standby', not blank or the Leader/);
  });

  it("is valid POSIX shell", () => {
    const check = spawnSync("sh", ["-n", path.join(dir, "configure.sh")], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
  });
});
