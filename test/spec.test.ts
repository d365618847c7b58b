// The stack spec: every validation rule, key paths, all errors at once, unknown keys, defaults.
import { strict as assert } from "node:assert";
import { buildStackSpec, ConfigError, formatConfigError, StackSpec } from "../stacks/spec";
import {
  certificateNameCovers,
  imagePinProblem,
  imageTagVersion,
  isQuantity,
  parseIpv4Cidr,
} from "../stacks/validators";
import { projectConfig, STACKS } from "./support/stacks";

type Config = Record<string, any>;

function errorsFor(edit: (c: Config) => void, stack = "staging"): ConfigError[] {
  const config = projectConfig(stack) as Config;
  edit(config);
  const result = buildStackSpec(config);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

function specFor(edit: (c: Config) => void = () => undefined, stack = "staging"): StackSpec {
  const config = projectConfig(stack) as Config;
  edit(config);
  const result = buildStackSpec(config);
  if (!result.ok) assert.fail(result.errors.map(formatConfigError).join("\n"));
  return result.spec;
}

function assertError(errors: ConfigError[], path: string, pattern: RegExp): void {
  const match = errors.find((e) => e.path === path && pattern.test(e.message));
  assert.ok(
    match,
    `expected an error at ${path} matching ${pattern}; got:\n${errors.map(formatConfigError).join("\n")}`,
  );
}

describe("stack spec", () => {
  for (const stack of STACKS) {
    it(`accepts the shipped ${stack} stack file`, () => {
      const spec = specFor(() => undefined, stack);
      assert.equal(spec.environment, stack);
    });
  }

  describe("rejects, naming the key path", () => {
    it("an unknown top-level key (a typo must not be ignored)", () => {
      assertError(
        errorsFor((c) => (c["conjurAcount"] = "x")),
        "conjurAcount",
        /unknown key/,
      );
    });

    it("an unknown nested key inside a spoke's tenant", () => {
      assertError(
        errorsFor((c) => (c.spokes[0].tenants[0].qouta = {})),
        "spokes[0].tenants[0].qouta",
        /unknown key/,
      );
    });

    it("a pod CIDR that is not a CIDR", () => {
      assertError(
        errorsFor((c) => (c.spokes[1].podCidr = "10.1.0.0")),
        "spokes[1].podCidr",
        /not an IPv4 CIDR/,
      );
    });

    it("a CIDR with host bits set", () => {
      assertError(
        errorsFor((c) => (c.spokes[1].podCidr = "10.120.0.1/16")),
        "spokes[1].podCidr",
        /host bits/,
      );
    });

    it("overlapping pod CIDRs, naming the other key", () => {
      const errors = errorsFor((c) => (c.spokes[1].podCidr = "10.110.128.0/17"));
      assertError(errors, "spokes[1].podCidr", /overlaps 10\.110\.0\.0\/16 \(spokes\[0\]\.podCidr\)/);
    });

    it("a spoke CIDR overlapping the hub's", () => {
      assertError(
        errorsFor((c) => (c.spokes[0].podCidr = "10.100.0.0/24")),
        "spokes[0].podCidr",
        /hub\.podCidr/,
      );
    });

    it("duplicate spoke names", () => {
      assertError(
        errorsFor((c) => (c.spokes[1].name = c.spokes[0].name)),
        "spokes[1].name",
        /duplicate spoke name "payments"/,
      );
    });

    it("duplicate tenants in one spoke and duplicate applications in one tenant", () => {
      const errors = errorsFor((c) => {
        c.spokes[0].tenants[1].name = "payments";
        c.spokes[0].tenants[0].applications[1].name = "ledger";
      });
      assertError(errors, "spokes[0].tenants[1].name", /duplicate tenant/);
      assertError(errors, "spokes[0].tenants[0].applications[1].name", /duplicate application/);
    });

    it("names that are not DNS labels", () => {
      const errors = errorsFor((c) => {
        c.spokes[0].name = "Payments_EU";
        c.spokes[0].tenants[0].name = "-team";
      });
      assertError(errors, "spokes[0].name", /not a DNS label/);
      assertError(errors, "spokes[0].tenants[0].name", /not a DNS label/);
    });

    describe("tenant stages and allow-lists", () => {
      const payments = (c: Config) => c["spokes"][0].tenants[0];

      it("an unknown stage or level name", () => {
        const errors = errorsFor((c) => {
          payments(c).network = { mode: "audit" };
          payments(c).podSecurity = { enforce: "strict", version: "1.33" };
          c["spokes"][0].tenantDefaults = { network: { mode: "on" } };
        });
        assertError(errors, "spokes[0].tenants[0].network.mode", /observe/);
        assertError(errors, "spokes[0].tenants[0].podSecurity.enforce", /keep/);
        assertError(errors, "spokes[0].tenants[0].podSecurity.version", /v1\.<minor> or latest/);
        assertError(errors, "spokes[0].tenantDefaults.network.mode", /enforce/);
      });

      it("allow-list entries that name no namespace, or both a namespace and a cidr", () => {
        const errors = errorsFor((c) => {
          payments(c).network = {
            ingressFrom: [{ podSelector: { app: "x" } }, { namespace: "a", cidr: "10.0.0.0/8" }],
            egressTo: { namespaces: [{ ports: [80] }] },
          };
        });
        assertError(errors, "spokes[0].tenants[0].network.ingressFrom[0]", /names no namespace/);
        assertError(errors, "spokes[0].tenants[0].network.ingressFrom[1]", /names no namespace/);
        assertError(errors, "spokes[0].tenants[0].network.egressTo.namespaces[0].namespace", /required/);
      });

      it("invalid CIDRs, excepts outside their block, and invalid ports", () => {
        const errors = errorsFor((c) => {
          payments(c).network = {
            egressTo: {
              cidrs: [
                "10.0.0.1/8",
                {
                  cidr: "10.50.0.0/16",
                  except: ["192.168.0.0/24"],
                  ports: [0, 70000, "Not_A_Name", { port: 6000, endPort: 5000 }],
                },
              ],
              dns: { nodeLocal: "169.254.20" },
            },
          };
        });
        assertError(errors, "spokes[0].tenants[0].network.egressTo.cidrs[0].cidr", /not an IPv4 CIDR/);
        assertError(
          errors,
          "spokes[0].tenants[0].network.egressTo.cidrs[1].except[0]",
          /inside 10\.50\.0\.0\/16/,
        );
        assertError(errors, "spokes[0].tenants[0].network.egressTo.cidrs[1].ports[0].port", /1-65535/);
        assertError(errors, "spokes[0].tenants[0].network.egressTo.cidrs[1].ports[1].port", /1-65535/);
        assertError(errors, "spokes[0].tenants[0].network.egressTo.cidrs[1].ports[2].port", /port name/);
        assertError(
          errors,
          "spokes[0].tenants[0].network.egressTo.cidrs[1].ports[3].endPort",
          /at least port/,
        );
        assertError(errors, "spokes[0].tenants[0].network.egressTo.dns.nodeLocal", /not an IPv4 address/);
      });

      it("an acknowledgement without a reason or with an unknown category", () => {
        const errors = errorsFor((c) => {
          payments(c).acknowledge = [
            { category: "network", reason: "" },
            { category: "dns", reason: "x" },
          ];
        });
        assertError(errors, "spokes[0].tenants[0].acknowledge[0].reason", /say why/);
        assertError(errors, "spokes[0].tenants[0].acknowledge[1].category", /pod-security/);
      });

      it("the old podSecurity string and egressCidrs, saying what to write instead", () => {
        const errors = errorsFor((c) => {
          payments(c).podSecurity = "baseline";
          payments(c).egressCidrs = ["10.0.0.0/8"];
        });
        assertError(
          errors,
          "spokes[0].tenants[0].podSecurity",
          /write podSecurity: \{ enforce: baseline, audit: baseline, warn: baseline \}/,
        );
        assertError(errors, "spokes[0].tenants[0].egressCidrs", /replaced by network\.egressTo\.cidrs/);
        assert.equal(
          errors.filter((e) => e.path.startsWith("spokes[0].tenants[0].podSecurity")).length,
          1,
          "one error per key",
        );
      });

      it("applications on a tenant not onboarded to Conjur", () => {
        assertError(
          errorsFor((c) => (c["spokes"][0].tenantDefaults = { onboarding: { conjur: false } })),
          "spokes[0].tenants[0].applications",
          /need Conjur onboarding/,
        );
      });
    });

    it("a tenant that claims a system or hubspoke namespace", () => {
      for (const reserved of [
        "conjur-system",
        "hubspoke-monitoring",
        "hubspoke-logging",
        "hubspoke-gitops",
        "kube-system",
      ]) {
        assertError(
          errorsFor((c) => (c.spokes[0].tenants[0].name = reserved)),
          "spokes[0].tenants[0].name",
          new RegExp(`"${reserved}" is a system or hubspoke namespace`),
        );
      }
    });

    it("a spoke that takes the hub's own authenticator id as its name", () => {
      assertError(
        errorsFor((c) => (c.spokes[1].name = "hub")),
        "spokes[1].name",
        /"hub" is reserved for the hub's own authenticator/,
      );
    });

    it("an advertised hostname missing from the certificate names", () => {
      assertError(
        errorsFor((c) => (c.hub.advertisedHostname = "vault.staging.acme.internal")),
        "hub.advertisedHostname",
        /not covered by hub\.hostnames/,
      );
    });

    it("an invalid hostname", () => {
      assertError(
        errorsFor((c) => (c.hub.hostnames = ["conjur..acme"])),
        "hub.hostnames[0]",
        /not a valid DNS hostname/,
      );
    });

    it("an image on `latest` or with no tag", () => {
      const errors = errorsFor(
        (c) => (c.images = { conjur: "cyberark/conjur:latest", postgres: "postgres" }),
      );
      assertError(errors, "images.conjur", /moving tag `latest`/);
      assertError(errors, "images.postgres", /has no tag/);
    });

    it("a Fluent Bit image older than 3.2, which cannot read the YAML configuration", () => {
      assertError(
        errorsFor((c) => (c.images = { fluentBit: "fluent/fluent-bit:3.1.9" })),
        "images.fluentBit",
        /Fluent Bit 3\.1 cannot read the generated YAML configuration: use 3\.2 or later/,
      );
      for (const fluentBit of ["fluent/fluent-bit:3.2.4", "fluent/fluent-bit:5.1.1-20261117"]) {
        assert.equal(specFor((c) => (c.images = { fluentBit })).images.fluentBit, fluentBit);
      }
    });

    it("a reference to an undefined cluster, and a cluster used twice", () => {
      const errors = errorsFor((c) => {
        c.spokes[0].cluster = "nowhere";
        c.spokes[1].cluster = "stg-mgmt";
      });
      assertError(errors, "spokes[0].cluster", /not defined under clusters/);
      assertError(errors, "spokes[1].cluster", /already used by hub/);
    });

    it("a cluster with no or two ways to connect", () => {
      const errors = errorsFor((c) => {
        c.clusters["stg-web"] = { apiServer: "https://x.example:6443" };
        c.clusters["stg-payments"].eks = { name: "p", region: "eu-west-1" };
      });
      assertError(
        errors,
        "clusters.stg-web",
        /exactly one of context, kubeconfigSecret or eks \(found none\)/,
      );
      assertError(errors, "clusters.stg-payments", /found context, eks/);
    });

    it("a spoke cluster without an API URL the hub can use", () => {
      assertError(
        errorsFor((c) => delete c.clusters["stg-web"].apiServer),
        "clusters.stg-web.apiServer",
        /required for a spoke cluster/,
      );
    });

    it("a kubeconfigSecret naming a config key that is not set", () => {
      assertError(
        errorsFor(
          (c) =>
            (c.clusters["stg-web"] = { kubeconfigSecret: "webKubeconfig", apiServer: "https://a.b:6443" }),
        ),
        "clusters.stg-web.kubeconfigSecret",
        /config key "webKubeconfig" is not set/,
      );
    });

    it("renewal windows that do not fit the validity", () => {
      const errors = errorsFor(
        (c) => (c.certificates = { validityHours: 100, earlyRenewalHours: 100, caValidityHours: 50 }),
      );
      assertError(errors, "certificates.earlyRenewalHours", /must be less than validityHours/);
      assertError(errors, "certificates.validityHours", /cannot outlive its CA/);
    });

    it("wrong types and missing required keys", () => {
      const errors = errorsFor((c) => {
        delete c.conjurAccount;
        c.spokes[0].phase = "one";
        c.protectIrreplaceable = "yes";
      });
      assertError(errors, "conjurAccount", /required/);
      assertError(errors, "spokes[0].phase", /expected number/);
      assertError(errors, "protectIrreplaceable", /expected boolean/);
    });
  });

  it("reports every error at once, each with its own path", () => {
    const errors = errorsFor((c) => {
      c.environment = "qa";
      c.spokes[0].podCidr = "nope";
      c.spokes[1].name = "payments";
      c.hub.advertisedHostname = "other.example.com";
      c.extra = true;
    });
    const paths = errors.map((e) => e.path);
    for (const expected of [
      "environment",
      "spokes[0].podCidr",
      "spokes[1].name",
      "hub.advertisedHostname",
      "extra",
    ]) {
      assert.ok(paths.includes(expected), `missing ${expected} in ${paths.join(", ")}`);
    }
    assert.match(formatConfigError(errors[0]), /^config error: \S+: .+/);
  });

  describe("defaults", () => {
    it("protects irreplaceable resources in prod only, unless overridden", () => {
      assert.equal(specFor(() => undefined, "prod").protectIrreplaceable, true);
      assert.equal(specFor(() => undefined, "staging").protectIrreplaceable, false);
      assert.equal(specFor((c) => (c.protectIrreplaceable = true), "dev").protectIrreplaceable, true);
    });

    it("marks spokes beyond conversion.phase as not converted", () => {
      const spec = specFor(() => undefined, "prod");
      assert.deepEqual(
        spec.spokes.map((s) => [s.name, s.converted]),
        [
          ["payments-euw1", true],
          ["web-euw1", true],
          ["web-euc1", false],
        ],
      );
    });

    it("fills images with pinned defaults and keeps overrides", () => {
      const spec = specFor((c) => (c.images = { conjur: "registry.local/conjur:1.22.0" }));
      assert.equal(spec.images.conjur, "registry.local/conjur:1.22.0");
      for (const image of Object.values(spec.images)) assert.equal(imagePinProblem(image), undefined, image);
    });

    it("derives the advertised hostname, federation and log-sink names from the first hostname", () => {
      const spec = specFor(() => undefined, "dev");
      assert.equal(spec.hub.advertisedHostname, "conjur.dev.acme.internal");
      assert.equal(spec.hub.logSinkHostname, "conjur-logs.dev.acme.internal");
      assert.equal(spec.spokes[0].monitoring.hostname, "prometheus-apps.dev.acme.internal");
      assert.deepEqual(spec.spokes[0].egressCidrs, ["10.20.0.0/16"]);
    });

    it("takes resources per environment and merges partial overrides", () => {
      const spec = specFor((c) => (c.hub.resources = { conjur: { cpuLimit: "3" } }), "prod");
      assert.equal(spec.hub.resources.conjur.cpuLimit, "3");
      assert.equal(spec.hub.resources.conjur.memoryLimit, "4Gi");
    });
  });
});

describe("spec value checks", () => {
  it("matches wildcard certificate names one label deep only", () => {
    assert.ok(certificateNameCovers("*.acme.com", "conjur.acme.com"));
    assert.ok(!certificateNameCovers("*.acme.com", "a.conjur.acme.com"));
    assert.ok(!certificateNameCovers("*.acme.com", "acme.com"));
    assert.ok(certificateNameCovers("Conjur.ACME.com", "conjur.acme.com"));
  });

  it("parses CIDRs and quantities as Kubernetes does", () => {
    assert.deepEqual(parseIpv4Cidr("10.0.0.0/8"), { network: 0x0a000000, prefix: 8 });
    assert.equal(parseIpv4Cidr("256.0.0.0/8"), undefined);
    for (const q of ["500m", "2", "1.5", "512Mi", "1Gi", "1e3"]) assert.ok(isQuantity(q), q);
    for (const q of ["", "1GB", "abc", "-"]) assert.ok(!isQuantity(q), q);
  });

  it("accepts digests and version tags, rejects latest and tagless images", () => {
    assert.equal(imagePinProblem(`repo/x@sha256:${"a".repeat(64)}`), undefined);
    assert.equal(imagePinProblem("registry:5000/x:1.2.3"), undefined);
    assert.match(imagePinProblem("registry:5000/x") ?? "", /no tag/);
    assert.match(imagePinProblem("x:latest") ?? "", /latest/);
  });

  it("reads the release an image's tag names, before a digest too, and nothing from other tags", () => {
    assert.deepEqual(imageTagVersion("fluent/fluent-bit:5.1.1"), { major: 5, minor: 1 });
    assert.deepEqual(imageTagVersion("registry:5000/fluent-bit:v3.2"), { major: 3, minor: 2 });
    assert.deepEqual(imageTagVersion("fluent/fluent-bit:5.1.1-20261117"), { major: 5, minor: 1 });
    assert.deepEqual(imageTagVersion(`fluent/fluent-bit:4.2.0@sha256:${"a".repeat(64)}`), {
      major: 4,
      minor: 2,
    });
    for (const image of [`fluent/fluent-bit@sha256:${"a".repeat(64)}`, "fluent/fluent-bit:stable", "x"])
      assert.equal(imageTagVersion(image), undefined, image);
  });
});
