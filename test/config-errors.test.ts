// Every class of stack-file mistake gives `config error: <key the user wrote>: <what is wrong>`,
// exit 2, nothing written, never a stack trace; secret values are never echoed.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { stackKeyErrors } from "../stacks/config-keys";
import { buildStackSpec, ConfigError, formatConfigError } from "../stacks/spec";
import { parseStackFile } from "../tools/stack-file";
import { DR_SETTINGS, stackConfig, stackFileConfig } from "./support/stacks";

type Json = any;

function project(stack = "staging"): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(stackConfig(stack))) if (k.startsWith("hubspoke:")) out[k.slice(9)] = v;
  return out;
}

function errorsFor(edit: (c: Json) => void, stack = "staging", secretKeys: string[] = []): ConfigError[] {
  const c = project(stack);
  edit(c);
  const result = buildStackSpec(c, { secretKeys: new Set(secretKeys) });
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

/** The Open Source twin of staging or prod with its DR settings (DR is for the in-hub database). */
function drProject(stack: keyof typeof DR_SETTINGS): Json {
  const c = project(stack);
  c.conjur = { edition: "oss" };
  delete c.conjurLeaderAdminPassword;
  Object.assign(c, structuredClone(DR_SETTINGS[stack]));
  return c;
}

function drErrorsFor(edit: (c: Json) => void, stack: keyof typeof DR_SETTINGS = "staging"): ConfigError[] {
  const c = drProject(stack);
  edit(c);
  const result = buildStackSpec(c);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

function expectError(errors: ConfigError[], key: string, pattern: RegExp): void {
  assert.ok(
    errors.some((e) => e.path === key && pattern.test(e.message)),
    `no error at ${key} matching ${pattern}:\n${errors.map(formatConfigError).join("\n")}`,
  );
}

describe("config errors", () => {
  describe("keys outside the project's namespace", () => {
    for (const key of ["Hubspoke:environment", "hubspok:hub", "hub-spoke:spokes", "HUBSPOKE:conjurAccount"]) {
      it(`${key}: looks like hubspoke, so it is an error naming the key`, () => {
        const config = { ...stackConfig("dev"), [key]: "x" };
        const errors = stackKeyErrors(config);
        expectError(errors, key, /is not "hubspoke".*write hubspoke:/);
      });
    }
    it("leaves other namespaces alone and rejects a key with no namespace", () => {
      const errors = stackKeyErrors({
        ...stackConfig("dev"),
        "kubernetes:enableServerSideApply": true,
        environment: "dev",
      });
      assert.deepEqual(
        errors.map((e) => e.path),
        ["environment"],
      );
    });
    it("requires pulumi:disable-default-providers listing kubernetes", () => {
      const config = stackConfig("dev");
      delete config["pulumi:disable-default-providers"];
      expectError(stackKeyErrors(config), "pulumi:disable-default-providers", /missing/);
      expectError(
        stackKeyErrors({ ...config, "pulumi:disable-default-providers": ["aws"] }),
        "pulumi:disable-default-providers",
        /must list "kubernetes"/,
      );
      assert.deepEqual(stackKeyErrors({ ...config, "pulumi:disable-default-providers": '["*"]' }), []);
    });
  });

  describe("secret values given in plain text are refused and never echoed", () => {
    const kubeconfig = "apiVersion: v1\nusers:\n- user: {token: SUPERSECRET-TOKEN}\n";
    const cases: [string, (c: Json) => void, string][] = [
      [
        "a kubeconfig",
        (c) => {
          c.clusters["stg-web"] = { kubeconfigSecret: "webKubeconfig", apiServer: "https://a.b:6443" };
          c.webKubeconfig = kubeconfig;
        },
        "webKubeconfig",
      ],
      [
        "log-sink credentials",
        (c) => {
          c.hub.logSink = { kind: "opensearch", host: "os.acme.internal", credentialsSecret: "sinkCreds" };
          c.sinkCreds = "writer:SUPERSECRET-TOKEN";
        },
        "sinkCreds",
      ],
    ];
    for (const [what, edit, key] of cases) {
      it(what, () => {
        const errors = errorsFor(edit);
        expectError(errors, key, /plain text .* not shown/);
        assert.doesNotMatch(errors.map(formatConfigError).join("\n"), /SUPERSECRET/);
      });
    }
    it("a secret where plain config is read, and credentials without user:password, without echo", () => {
      const errors = errorsFor(
        (c) => {
          c.hub.logSink = { kind: "opensearch", host: "os.acme.internal", credentialsSecret: "sinkCreds" };
          c.sinkCreds = "SUPERSECRET-TOKEN";
          c.conjurAccount = "SUPERSECRET-ACCOUNT";
        },
        "staging",
        ["sinkCreds", "conjurAccount"],
      );
      expectError(errors, "sinkCreds", /expected "user:password"/);
      expectError(errors, "conjurAccount", /plain configuration/);
      assert.doesNotMatch(errors.map(formatConfigError).join("\n"), /SUPERSECRET/);
    });
  });

  describe("YAML mistakes name file, line, column and key", () => {
    const base = "config:\n  pulumi:disable-default-providers: [kubernetes]\n  hubspoke:environment: dev\n";
    it("a duplicate key", () => {
      const r = parseStackFile(base + "  hubspoke:environment: prod\n", "Pulumi.x.yaml");
      assert.equal(r.ok, false);
      if (!r.ok)
        assert.match(
          formatConfigError(r.errors[0]),
          /^config error: environment: key given twice.*\(Pulumi\.x\.yaml:4:3\)$/,
        );
    });
    it("a duplicate nested key", () => {
      const r = parseStackFile(base + "  hubspoke:hub:\n    cluster: a\n    cluster: b\n", "f.yaml");
      if (r.ok) assert.fail("accepted");
      assert.match(
        formatConfigError(r.errors[0]),
        /^config error: hub\.cluster: key given twice.*f\.yaml:6:5/,
      );
    });
    it("an unquoted * wildcard", () => {
      const r = parseStackFile(
        base + "  hubspoke:hub:\n    hostnames:\n      - conjur.acme.com\n      - *.acme.com\n",
        "f.yaml",
      );
      if (r.ok) assert.fail("accepted");
      assert.match(
        formatConfigError(r.errors[0]),
        /^config error: hub\.hostnames\[1\]: unquoted "\*\.acme\.com" .*quote it .*f\.yaml:7:9/,
      );
    });
    it("broken indentation", () => {
      const r = parseStackFile(base + "  hubspoke:hub:\n    cluster: a\n   region: b\n", "f.yaml");
      if (r.ok) assert.fail("accepted");
      assert.match(formatConfigError(r.errors[0]), /indentation.*f\.yaml:6/);
    });
  });

  describe("values that parse but are wrong", () => {
    it("AWS regions checked against the provider's list, with a suggestion", () => {
      const errors = errorsFor((c) => {
        c.spokes[0].region = "eu-wets-1";
        c.clusters["stg-web"] = { eks: { name: "w", region: "us-east-7" } };
      });
      expectError(errors, "spokes[0].region", /not an AWS region \(did you mean eu-west-1/);
      expectError(errors, "clusters.stg-web.eks.region", /not an AWS region/);
    });
    it("image references by the distribution grammar", () => {
      const errors = errorsFor(
        (c) =>
          (c.images = {
            conjur: "cyberark/Conjur:1.21.1",
            nginx: "nginx:",
            postgres: "postgres@sha256:abc",
            curl: "https://docker.io/curl:8",
          }),
      );
      expectError(errors, "images.conjur", /upper-case/);
      expectError(errors, "images.nginx", /ends with ":"/);
      expectError(errors, "images.postgres", /digest/);
      expectError(errors, "images.curl", /URL/);
    });
    it("quantities of the wrong dimension, and zero sizes", () => {
      const errors = errorsFor((c) => {
        c.hub.resources = { conjur: { cpuRequest: "512Mi", memoryLimit: "512m" } };
        c.hub.postgres = { storageSize: "0" };
        c.spokes[0].tenants[0].quota.limitsCpu = "4Gi";
      });
      expectError(errors, "hub.resources.conjur.cpuRequest", /memory size; CPU is given in cores/);
      expectError(errors, "hub.resources.conjur.memoryLimit", /0\.512 bytes.*512Mi/);
      expectError(errors, "hub.postgres.storageSize", /zero/);
      expectError(errors, "spokes[0].tenants[0].quota.limitsCpu", /memory size/);
    });
    it("zero or negative durations and intervals", () => {
      const errors = errorsFor((c) => (c.monitoring = { scrapeInterval: "0s", federationInterval: "-30s" }));
      expectError(errors, "monitoring.scrapeInterval", /zero/);
      expectError(errors, "monitoring.federationInterval", /negative/);
    });
    it("a region that cannot be a metrics label", () => {
      expectError(
        errorsFor((c) => (c.hub.region = "eu west")),
        "hub.region",
        /metrics label/,
      );
    });
  });

  // The observability builders write these values into Prometheus and Fluent Bit configs and PromQL
  // as given (components/observability/model.ts): the spec is where each bad one is refused.
  describe("values the monitoring and log configs are written from", () => {
    it("spoke names that would break job names, cluster labels or PromQL strings", () => {
      const errors = errorsFor((c) => {
        c.spokes[0].name = 'pay"}';
        c.spokes[1].name = "Web";
      });
      expectError(errors, "spokes[0].name", /not a DNS label/);
      expectError(errors, "spokes[1].name", /not a DNS label/);
      const twice = errorsFor((c) => (c.spokes[1].name = c.spokes[0].name));
      expectError(twice, "spokes[1].name", /duplicate spoke name "payments"/);
    });
    it("a spoke region that cannot be a label value, and host names with spaces or a ${", () => {
      const errors = errorsFor((c) => {
        c.spokes[0].region = "eu west 1";
        c.spokes[0].monitoring = { hostname: "prometheus payments.acme.internal" };
        c.hub.logSinkHostname = "logs.${HOST}.acme.internal";
      });
      expectError(errors, "spokes[0].region", /metrics label/);
      expectError(errors, "spokes[0].monitoring.hostname", /not a valid DNS hostname/);
      expectError(errors, "hub.logSinkHostname", /not a valid DNS hostname/);
    });
    it("federation settings Prometheus would refuse or answer with nothing", () => {
      const empty = errorsFor((c) => (c.monitoring = { federationMatch: [], sampleLimit: 0 }));
      // /federate answers an empty match[] with an error; sample_limit 0 means no limit at all.
      expectError(empty, "monitoring.federationMatch", /at least one selector/);
      expectError(empty, "monitoring.sampleLimit", /at least 1/);
      const blank = errorsFor((c) => (c.monitoring = { federationMatch: ["up", " "] }));
      expectError(blank, "monitoring.federationMatch[1]", /empty selector/);
    });
    it("durations without a unit or Prometheus cannot read, and a timeout above its interval", () => {
      const errors = errorsFor((c) => (c.monitoring = { scrapeInterval: "30", federationInterval: "1.5m" }));
      expectError(errors, "monitoring.scrapeInterval", /not a duration/);
      expectError(errors, "monitoring.federationInterval", /not a duration/);
      expectError(
        // Compared as durations: "90s" is longer than "1m", though it sorts first as text.
        errorsFor((c) => (c.monitoring = { federationInterval: "1m", federationTimeout: "90s" })),
        "monitoring.federationTimeout",
        /90s must not exceed federationInterval \(60s\)/,
      );
      const equal = { federationInterval: "1m30s", federationTimeout: "90s" };
      assert.ok(buildStackSpec({ ...project(), monitoring: equal }).ok, "a timeout equal to its interval");
    });
    it("a log destination with a host, port or index the search cluster cannot have", () => {
      const errors = errorsFor((c) => {
        c.hub.logSink = { kind: "opensearch", host: "os acme", port: 0, index: "Conjur Logs" };
        c.hub.logSink.credentialsSecret = "sinkCreds";
      });
      expectError(errors, "hub.logSink.host", /not a valid DNS hostname/);
      expectError(errors, "hub.logSink.port", />=1/);
      expectError(errors, "hub.logSink.index", /not an index name/);
    });
  });

  describe("cross-field rules", () => {
    it("requests above limits, also against the environment's default", () => {
      const errors = errorsFor((c) => {
        c.hub.resources = { conjur: { cpuRequest: "4", cpuLimit: "2" }, nginx: { memoryRequest: "1Gi" } };
      });
      expectError(
        errors,
        "hub.resources.conjur.cpuRequest",
        /4 is above 2 \(hub\.resources\.conjur\.cpuLimit\)/,
      );
      expectError(
        errors,
        "hub.resources.nginx.memoryRequest",
        /1Gi is above 128Mi \(memoryLimit, the staging default\)/,
      );
    });
    it("LimitRange defaults above their limits and quota requests above limits", () => {
      const errors = errorsFor((c) => {
        const tenant = c.spokes[0].tenants[0];
        tenant.limits = { defaultCpu: "500m", defaultMemory: "512Mi", defaultRequestCpu: "2" };
        tenant.quota = { ...tenant.quota, limitsMemory: "32Gi", requestsMemory: "64Gi" };
      });
      expectError(errors, "spokes[0].tenants[0].limits.defaultRequestCpu", /above 500m/);
      expectError(errors, "spokes[0].tenants[0].quota.requestsMemory", /above 32Gi/);
    });
    it("options one branch ignores", () => {
      const errors = errorsFor((c) => {
        c.spokes[0].tenants[1].adopt = "import";
        c.hub.serviceType = "ClusterIP";
        c.hub.logSink = { kind: "stdout", index: "x" };
      });
      expectError(errors, "spokes[0].tenants[1].adopt", /existing is false/);
      expectError(errors, "hub.loadBalancerSourceRanges", /ignored with serviceType ClusterIP/);
      expectError(errors, "hub.logSink.index", /ignored with kind stdout/);
      expectError(
        errorsFor((c) => (c.clusters["prod-web-euw1"].apiServer = "https://x.example"), "prod"),
        "clusters.prod-web-euw1.apiServer",
        /ignored for an EKS cluster/,
      );
    });
    it("certificate lifetimes a periodic pulumi up cannot renew, a prod stack without spokes", () => {
      expectError(
        errorsFor((c) => (c.certificates = { validityHours: 240, earlyRenewalHours: 24 })),
        "certificates.earlyRenewalHours",
        /too short for a weekly `pulumi up`/,
      );
      expectError(
        errorsFor((c) => (c.spokes = []), "prod"),
        "spokes",
        /prod stack needs at least one spoke/,
      );
    });
    it("errors about a defaulted value name the key the user set", () => {
      expectError(
        errorsFor((c) => (c.certificates = { caValidityHours: 100 })),
        "certificates.caValidityHours",
        /shorter than validityHours \(4320, the staging default\)/,
      );
      expectError(
        errorsFor((c) => (c.certificates = { validityHours: 200 })),
        "certificates.validityHours",
        /must exceed earlyRenewalHours \(720, the staging default\)/,
      );
      expectError(
        errorsFor((c) => (c.monitoring = { federationInterval: "10s" })),
        "monitoring.federationInterval",
        /shorter than federationTimeout \(30s, the default\)/,
      );
      const errors = errorsFor((c) => (c.certificates = { caValidityHours: 100 }));
      assert.ok(!errors.some((e) => e.path === "certificates.validityHours"), "the default is not blamed");
    });
  });

  describe("disaster recovery settings (docs/disaster-recovery.md)", () => {
    it("a cron schedule the CronJob controller would refuse", () => {
      for (const [schedule, pattern] of [
        ["0 */4 * *", /has 4 fields; a cron schedule has 5/],
        ["61 * * * *", /minute "61" is outside 0-59/],
        ["0 2 * * MON-FUNDAY", /day of week "MON-FUNDAY" is not a number or name/],
        ["@fortnightly", /unknown macro/],
        ["CRON_TZ=UTC 0 2 * * *", /time zone inside the schedule/],
        ["0 2/0 * * *", /step "0" must be a positive number/],
      ] as const) {
        expectError(
          drErrorsFor((c) => (c.backup = { ...c.backup, schedule }), "prod"),
          "backup.schedule",
          pattern,
        );
      }
    });
    it("an RPO shorter than the longest gap between scheduled backups, blaming the key the user set", () => {
      expectError(
        drErrorsFor((c) => (c.backup = { ...c.backup, schedule: "0 3 * * *", rpo: "12h" }), "prod"),
        "backup.rpo",
        /12h is shorter than the longest gap between backups of schedule "0 3 \* \* \*" \(1d\)/,
      );
      expectError(
        drErrorsFor((c) => (c.backup = { ...c.backup, schedule: "0 3 * * 1-5" }), "prod"),
        "backup.schedule",
        /leaves up to 3d between backups, more than the rpo \(6h, the prod default\)/,
      );
      expectError(
        drErrorsFor((c) => (c.backup = { ...c.backup, rpo: "2h" }), "prod"),
        "backup.rpo",
        /the prod default\) \(4h\)/,
      );
    });
    it("retention below the Object Lock period", () => {
      expectError(
        drErrorsFor((c) => (c.backup = { ...c.backup, retentionDays: 7 }), "prod"),
        "backup.retentionDays",
        /7 is below the Object Lock retention \(30 days, the prod default\)/,
      );
      expectError(
        drErrorsFor(
          (c) => (c.backup = { ...c.backup, objectLock: { mode: "GOVERNANCE", days: 60 } }),
          "prod",
        ),
        "backup.objectLock.days",
        /60 exceeds retentionDays \(35, the prod default\)/,
      );
    });
    it("a bucket name S3 would refuse", () => {
      for (const [bucket, pattern] of [
        ["Acme-Backups", /not an S3 bucket name/],
        ["ab", /2 characters long; S3 bucket names have 3 to 63/],
        ["acme.conjur.backups", /contains a dot/],
        ["xn--acme-backups", /prefix S3 reserves/],
        ["acme-backups-s3alias", /suffix S3 reserves/],
        ["acme_backups", /not an S3 bucket name/],
      ] as const) {
        expectError(
          drErrorsFor((c) => (c.backup = { ...c.backup, bucket }), "prod"),
          "backup.bucket",
          pattern,
        );
      }
    });
    it("credentials that do not fit the hub, and a bucket without an AWS region", () => {
      expectError(
        drErrorsFor((c) => (c.backup = { ...c.backup, credentialsSecret: "aws" }), "prod"),
        "backup.credentialsSecret",
        /ignored: the hub runs on EKS/,
      );
      expectError(
        drErrorsFor((c) => delete c.backup.credentialsSecret),
        "backup.credentialsSecret",
        /required: the hub is not on EKS/,
      );
      expectError(
        errorsFor((c) => (c.backup = { bucket: "acme-dev-backups", credentialsSecret: "aws" }), "dev"),
        "backup.region",
        /required: hub.region "local" is not an AWS region/,
      );
    });
    it("a failover record without a standby hub, or for a name the certificates do not cover", () => {
      expectError(
        drErrorsFor((c) => delete c.failover.standby, "prod"),
        "failover.standby",
        /required: a failover record needs a standby hub/,
      );
      expectError(
        drErrorsFor((c) => (c.failover.hostname = "secrets.acme.com"), "prod"),
        "failover.hostname",
        /"secrets.acme.com" is not covered by hub.hostnames \(conjur.acme.com, conjur.eu-west-1.acme.com\)/,
      );
      expectError(
        drErrorsFor((c) => (c.failover.hostname = "conjur.eu-west-1.acme.com"), "prod"),
        "failover.hostname",
        /not the name spokes connect to \(hub.advertisedHostname: "conjur.acme.com"\)/,
      );
      expectError(
        drErrorsFor((c) => (c.failover.standby.region = "eu-west-1"), "prod"),
        "failover.standby.region",
        /does not survive a regional outage/,
      );
      expectError(
        drErrorsFor((c) => (c.failover.zoneId = "acme.com"), "prod"),
        "failover.zoneId",
        /not a Route53 hosted zone id/,
      );
    });
    it("the DR settings of the Open Source twins pass, with the environment's defaults", () => {
      for (const stack of ["staging", "prod"] as const) assert.ok(buildStackSpec(drProject(stack)).ok, stack);
      const prod = buildStackSpec(drProject("prod"));
      assert.ok(prod.ok);
      assert.deepEqual(prod.spec.backup?.credentials, { kind: "podIdentity", clusterName: "prod-mgmt" });
      assert.deepEqual(prod.spec.backup?.objectLock, { mode: "COMPLIANCE", days: 30 });
      assert.equal(prod.spec.backup?.rpoSeconds, 6 * 3600);
      assert.equal(prod.spec.failover?.hostname, "conjur.acme.com");
    });
    it("backup and failover with Conjur Enterprise, whose Leader has its own", () => {
      const errors = errorsFor((c) => Object.assign(c, structuredClone(DR_SETTINGS.prod)), "prod", [
        "conjurLeaderAdminPassword",
      ]);
      expectError(errors, "backup", /only for edition oss: .*evoke backup/);
      expectError(errors, "failover", /only for edition oss: .*Standby/);
    });
  });

  describe("wrong types are wrong types, with the value", () => {
    it("a string for a number, a number for a duration, a map for a list", () => {
      const errors = errorsFor((c) => {
        c.spokes[0].phase = "1";
        c.monitoring = { scrapeInterval: 30 };
        c.hub.hostnames = { a: "conjur.acme.com" };
      });
      expectError(errors, "spokes[0].phase", /^expected number, got string "1"$/);
      expectError(errors, "monitoring.scrapeInterval", /^expected string, got number 30$/);
      expectError(errors, "hub.hostnames", /^expected array, got object/);
      assert.ok(!errors.some((e) => /required/.test(e.message)), "nothing reported as required");
    });
  });

  describe("the Conjur topology (conjur.*)", () => {
    const leaderKey = "conjurLeaderAdminPassword";
    it("an edition that does not exist", () => {
      expectError(
        errorsFor((c) => (c.conjur.edition = "community"), "staging", [leaderKey]),
        "conjur.edition",
        /expected "oss" or "enterprise"/,
      );
    });
    it("enterprise without a Leader", () => {
      expectError(
        errorsFor((c) => delete c.conjur.leader, "staging", [leaderKey]),
        "conjur.leader",
        /required for edition enterprise/,
      );
    });
    it("an external Leader URL that is not https, and a CA that is not PEM", () => {
      const errors = errorsFor(
        (c) => {
          c.conjur.leader.url = "http://conjur-leader.acme.com";
          c.conjur.leader.caCertificate = "not a certificate";
        },
        "staging",
        [leaderKey],
      );
      expectError(errors, "conjur.leader.url", /not an https:\/\/ URL/);
      expectError(errors, "conjur.leader.caCertificate", /not a PEM certificate/);
    });
    it("a Leader placement that does not exist", () => {
      expectError(
        errorsFor((c) => (c.conjur.leader.placement = "cloud"), "staging", [leaderKey]),
        "conjur.leader.placement",
        /expected placement "external" .* or "hub"/,
      );
    });
    describe("a Leader in the hub cluster (placement: hub)", () => {
      const hubLeader = (c: Json, leader: Json = {}) => {
        c.conjur.leader = { placement: "hub", url: "https://conjur-leader.staging.acme.com", ...leader };
        c.images = {
          ...(c.images ?? {}),
          appliance: "registry.acme.internal/cyberark/conjur-appliance:13.5.0",
        };
      };
      it("without a URL, with an http URL, or with the external Leader's keys", () => {
        expectError(
          errorsFor((c) => hubLeader(c, { url: undefined })),
          "conjur.leader.url",
          /required/,
        );
        expectError(
          errorsFor((c) => hubLeader(c, { url: "http://conjur-leader.staging.acme.com" })),
          "conjur.leader.url",
          /not an https:\/\/ URL/,
        );
        const errors = errorsFor((c) => hubLeader(c, { adminPasswordSecret: "x", caCertificate: "y" }));
        expectError(errors, "conjur.leader.adminPasswordSecret", /unknown key/);
        expectError(errors, "conjur.leader.caCertificate", /unknown key/);
      });
      it("without the appliance image", () => {
        expectError(
          errorsFor((c) => {
            hubLeader(c);
            delete c.images.appliance;
          }),
          "images.appliance",
          /required for conjur.leader.placement hub/,
        );
      });
      it("a Leader URL on one of the hub's own names", () => {
        expectError(
          errorsFor((c) => hubLeader(c, { url: "https://conjur.staging.acme.internal" })),
          "conjur.leader.url",
          /is also a hub hostname .*: the Leader needs a name of its own/,
        );
      });
      it("negative or too many Standbys, and no Standby in prod", () => {
        expectError(
          errorsFor((c) => hubLeader(c, { standbys: -1 })),
          "conjur.leader.standbys",
          /0 or more/,
        );
        expectError(
          errorsFor((c) => hubLeader(c, { standbys: 9 })),
          "conjur.leader.standbys",
          /at most 4/,
        );
        expectError(
          errorsFor((c) => hubLeader(c, { url: "https://conjur-leader.acme.com" }), "prod"),
          "conjur.leader.standbys",
          /at least 1 in prod/,
        );
      });
      it("an active node that is not one of the appliance pods", () => {
        expectError(
          errorsFor((c) => hubLeader(c, { standbys: 1, activeNode: 2 })),
          "conjur.leader.activeNode",
          /2 is not an appliance pod: with 1 Standby\(s\) the pods are 0 to 1/,
        );
      });
      it("storage that is not a size", () => {
        expectError(
          errorsFor((c) => hubLeader(c, { storage: { size: "2 cores" } })),
          "conjur.leader.storage.size",
          /./,
        );
      });
    });
    it("the admin password key not set", () => {
      expectError(
        errorsFor((c) => delete c[leaderKey], "staging", [leaderKey]),
        "conjur.leader.adminPasswordSecret",
        /config key "conjurLeaderAdminPassword" is not set/,
      );
    });
    it("Leader or follower settings with Open Source", () => {
      const errors = errorsFor((c) => {
        c.conjur = { edition: "oss", follower: { kind: "appliance" } };
      });
      expectError(errors, "conjur.follower", /only for edition enterprise/);
      const leader = errorsFor((c) => (c.conjur.edition = "oss"), "staging", [leaderKey]);
      expectError(leader, "conjur.leader", /only for edition enterprise/);
    });
    it("a follower kind that does not exist, and each kind without its images", () => {
      expectError(
        errorsFor((c) => (c.conjur.follower.kind = "operator"), "staging", [leaderKey]),
        "conjur.follower.kind",
        /expected "kubernetes" or "appliance"/,
      );
      expectError(
        errorsFor((c) => delete c.conjur.follower.images, "staging", [leaderKey]),
        "conjur.follower.images",
        /required for the Kubernetes Follower/,
      );
      expectError(
        errorsFor((c) => (c.conjur.follower = { kind: "appliance" }), "staging", [leaderKey]),
        "images.appliance",
        /required for conjur.follower.kind appliance/,
      );
    });
    it("the old images.follower key names its replacement", () => {
      expectError(
        errorsFor(
          (c) => (c.images = { follower: "registry.acme.internal/conjur-appliance:13.5.0" }),
          "staging",
          [leaderKey],
        ),
        "images.follower",
        /renamed to images.appliance/,
      );
    });
    it("a spoke JWKS that is not one, and both key sources at once", () => {
      const errors = errorsFor(
        (c) => (c.spokes[0].jwt = { publicKeys: "{}", jwksUri: "https://x.example/keys" }),
      );
      expectError(errors, "spokes[0].jwt.publicKeys", /not a JWKS document/);
      expectError(errors, "spokes[0].jwt", /give jwksUri or publicKeys, not both/);
    });
  });

  it("the plan tool: exit 2, one line per error, no stack trace, nothing written", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-cfg-"));
    try {
      const config = stackFileConfig("staging") as Json;
      config["Hubspoke:colour"] = "blue";
      config["hubspoke:spokes"][0].region = "eu-wets-1";
      config["hubspoke:images"] = { conjur: "cyberark/conjur" };
      // staging is Conjur Enterprise: the stack does not back up the Leader.
      config["hubspoke:backup"] = structuredClone(DR_SETTINGS.staging.backup);
      const file = path.join(tmp, "Pulumi.broken.yaml");
      fs.writeFileSync(file, YAML.stringify({ config }) + "  hubspoke:environment: prod\n");
      const out = path.join(tmp, "out");
      const run = (f: string) =>
        spawnSync(
          process.execPath,
          [
            "-r",
            "./tools/register.js",
            "tools/plan.ts",
            "--stack",
            "broken",
            "--config-file",
            f,
            "--out",
            out,
          ],
          {
            cwd: path.resolve(__dirname, ".."),
            encoding: "utf8",
          },
        );
      const yamlError = run(file);
      assert.equal(yamlError.status, 2, yamlError.stderr);
      assert.match(yamlError.stderr, /^config error: environment: key given twice/m);
      fs.writeFileSync(file, YAML.stringify({ config }));
      const result = run(file);
      assert.equal(result.status, 2, result.stderr);
      const lines = result.stderr.trim().split("\n");
      for (const line of lines) assert.match(line, /^config error: \S+: .+$/);
      for (const key of ["Hubspoke:colour", "spokes[0].region", "images.conjur", "backup"])
        assert.ok(
          lines.some((l) => l.startsWith(`config error: ${key}: `)),
          `${key}:\n${result.stderr}`,
        );
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
      assert.equal(fs.existsSync(out), false);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
