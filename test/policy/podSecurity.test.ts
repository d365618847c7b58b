import { strict as assert } from "node:assert";
import type { PlannedResource, StackContext } from "../../policy/types";
import { podSecurityFindings, podSecurityLevelFindings } from "../../policy/pod-security";
import {
  automountTokenOnlyWhenNeeded,
  podSecurityRestricted,
  readOnlyRootFilesystem,
} from "../../policy/rules/podSecurity";
import {
  configMap,
  devContext,
  followerDeployment,
  followerPod,
  followerWorkload,
  planned,
} from "./fixtures";

const check = (resource: PlannedResource, ctx: StackContext): string[] =>
  podSecurityRestricted.check(resource, ctx);

describe("pod-security-restricted", () => {
  it("passes the hardened follower Deployment", () => {
    assert.deepEqual(check(followerDeployment(), devContext), []);
  });

  it("does not apply to objects without pods", () => {
    assert.deepEqual(check(configMap("conjur-ca", { "ca.crt": "x" }), devContext), []);
  });

  it("fails when neither the pod nor the container sets runAsNonRoot, naming every container", () => {
    const messages = check(
      followerPod((pod, follower, seedFetch) => {
        delete pod.securityContext.runAsNonRoot;
        delete follower.securityContext.runAsNonRoot;
        delete seedFetch.securityContext.runAsNonRoot;
      }),
      devContext,
    );
    assert.equal(messages.length, 2);
    assert.match(messages[0], /init container "seed-fetch": securityContext\.runAsNonRoot must be true/);
    assert.match(messages[1], /container "follower": securityContext\.runAsNonRoot must be true/);
  });

  it("passes when runAsNonRoot is set on the pod only", () => {
    const resource = followerPod((_pod, follower, seedFetch) => {
      delete follower.securityContext.runAsNonRoot;
      delete seedFetch.securityContext.runAsNonRoot;
    });
    assert.deepEqual(check(resource, devContext), []);
  });

  it("fails when a container overrides runAsNonRoot with false", () => {
    const messages = check(
      followerPod((_pod, follower) => (follower.securityContext.runAsNonRoot = false)),
      devContext,
    );
    assert.deepEqual(messages, [
      'container "follower": securityContext.runAsNonRoot must be true on the container or the pod (is false)',
    ]);
  });

  it("fails on runAsUser 0 at pod or container level", () => {
    assert.deepEqual(
      check(
        followerPod((pod) => (pod.securityContext.runAsUser = 0)),
        devContext,
      ),
      ["pod: securityContext.runAsUser must not be 0 (root)"],
    );
    assert.deepEqual(
      check(
        followerPod((_pod, follower) => (follower.securityContext.runAsUser = 0)),
        devContext,
      ),
      ['container "follower": securityContext.runAsUser must not be 0 (root)'],
    );
  });

  it("fails when an init container does not set allowPrivilegeEscalation false", () => {
    const messages = check(
      followerPod((_pod, _follower, seedFetch) => delete seedFetch.securityContext.allowPrivilegeEscalation),
      devContext,
    );
    assert.deepEqual(messages, [
      'init container "seed-fetch": securityContext.allowPrivilegeEscalation must be false (is unset)',
    ]);
  });

  it("fails when capabilities are not dropped", () => {
    const messages = check(
      followerPod((_pod, follower) => (follower.securityContext.capabilities = { drop: ["NET_RAW"] })),
      devContext,
    );
    assert.deepEqual(messages, [
      'container "follower": securityContext.capabilities.drop must include "ALL" (is ["NET_RAW"])',
    ]);
  });

  it("allows adding NET_BIND_SERVICE but nothing else", () => {
    const bind = followerPod(
      (_pod, follower) =>
        (follower.securityContext.capabilities = { drop: ["ALL"], add: ["NET_BIND_SERVICE"] }),
    );
    assert.deepEqual(check(bind, devContext), []);
    const admin = followerPod(
      (_pod, follower) => (follower.securityContext.capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] }),
    );
    assert.deepEqual(check(admin, devContext), [
      'container "follower": securityContext.capabilities.add may only contain NET_BIND_SERVICE (has ["SYS_ADMIN"])',
    ]);
  });

  it("fails without a RuntimeDefault or Localhost seccomp profile", () => {
    const unset = check(
      followerPod((pod) => delete pod.securityContext.seccompProfile),
      devContext,
    );
    assert.equal(unset.length, 2);
    assert.ok(
      unset.every((message) =>
        message.includes("securityContext.seccompProfile.type must be RuntimeDefault or Localhost"),
      ),
    );
    const unconfined = check(
      followerPod((_pod, follower) => (follower.securityContext.seccompProfile = { type: "Unconfined" })),
      devContext,
    );
    assert.equal(unconfined.length, 1);
    assert.match(
      unconfined[0],
      /^container "follower": securityContext\.seccompProfile\.type .* \(is "Unconfined"\)$/,
    );
  });

  it("passes with a Localhost seccomp profile on every container and none on the pod", () => {
    const resource = followerPod((pod, follower, seedFetch) => {
      delete pod.securityContext.seccompProfile;
      follower.securityContext.seccompProfile = {
        type: "Localhost",
        localhostProfile: "profiles/conjur.json",
      };
      seedFetch.securityContext.seccompProfile = { type: "RuntimeDefault" };
    });
    assert.deepEqual(check(resource, devContext), []);
  });

  it("fails on hostPath and other disallowed volume types, tagging hostPath separately", () => {
    const resource = followerPod((pod) => {
      pod.volumes.push({ name: "docker-sock", hostPath: { path: "/var/run/docker.sock" } });
      pod.volumes.push({ name: "legacy", nfs: { server: "nfs.internal", path: "/exports" } });
    });
    const findings = podSecurityFindings(resource);
    assert.deepEqual(
      findings.map((finding) => finding.subCheck),
      ["hostPath", "volumeTypes"],
    );
    assert.match(findings[0].message, /^volume "docker-sock": hostPath volumes are not allowed/);
  });

  it("fails on host namespaces", () => {
    const resource = followerPod((pod) => {
      pod.hostNetwork = true;
      pod.hostPID = true;
      pod.hostIPC = true;
    });
    assert.deepEqual(check(resource, devContext), [
      "pod: hostNetwork must not be true",
      "pod: hostPID must not be true",
      "pod: hostIPC must not be true",
    ]);
  });

  it("fails on hostPort and privileged containers", () => {
    const resource = followerPod((_pod, follower) => {
      follower.ports = [{ containerPort: 443, hostPort: 443 }];
      follower.securityContext.privileged = true;
    });
    assert.deepEqual(check(resource, devContext), [
      'container "follower": securityContext.privileged must not be true',
      'container "follower": ports[0].hostPort must not be set (is 443)',
    ]);
  });

  it("finds the pod spec of a CronJob at spec.jobTemplate.spec.template.spec", () => {
    const template = followerWorkload().spec.template;
    template.spec.hostNetwork = true;
    const cronJob = planned("kubernetes:batch/v1:CronJob", "hub-backup", {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "conjur-backup", namespace: "conjur-system" },
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template } } },
    });
    assert.deepEqual(check(cronJob, devContext), ["pod: hostNetwork must not be true"]);
  });

  it("finds the pod spec of a bare Pod at spec", () => {
    const pod = followerWorkload().spec.template.spec;
    pod.containers[0].securityContext.privileged = true;
    const resource = planned("kubernetes:core/v1:Pod", "hub-debug", {
      metadata: { name: "debug", namespace: "conjur-system" },
      spec: pod,
    });
    assert.deepEqual(check(resource, devContext), [
      'container "follower": securityContext.privileged must not be true',
    ]);
  });

  for (const kind of ["StatefulSet", "DaemonSet", "ReplicaSet"]) {
    it(`finds the pod spec of a ${kind} at spec.template.spec`, () => {
      const workload = followerWorkload((w) => (w.spec.template.spec.hostPID = true));
      const resource = planned(`kubernetes:apps/v1:${kind}`, `hub-${kind.toLowerCase()}`, {
        ...workload,
        kind,
      });
      assert.deepEqual(check(resource, devContext), ["pod: hostPID must not be true"]);
    });
  }

  it("does not judge partial patch objects such as DeploymentPatch", () => {
    const patch = planned("kubernetes:apps/v1:DeploymentPatch", "hub-follower-patch", {
      metadata: { name: "conjur-follower", namespace: "conjur-system" },
      spec: {
        template: { spec: { containers: [{ name: "follower", image: "cyberark/conjur-appliance:13.5.0" }] } },
      },
    });
    assert.deepEqual(check(patch, devContext), []);
  });
});

describe("read-only-root-filesystem (advisory)", () => {
  it("is advisory", () => assert.equal(readOnlyRootFilesystem.level, "advisory"));

  it("passes when every container has a read-only root filesystem", () => {
    assert.deepEqual(readOnlyRootFilesystem.check(followerDeployment(), devContext), []);
  });

  it("fails for an init container with a writable root filesystem", () => {
    const resource = followerPod(
      (_pod, _follower, seedFetch) => delete seedFetch.securityContext.readOnlyRootFilesystem,
    );
    assert.deepEqual(readOnlyRootFilesystem.check(resource, devContext), [
      'init container "seed-fetch": securityContext.readOnlyRootFilesystem should be true',
    ]);
  });
});

describe("automount-token-only-when-needed (advisory)", () => {
  it("is advisory", () => assert.equal(automountTokenOnlyWhenNeeded.level, "advisory"));

  it("passes when the pod does not automount its token", () => {
    assert.deepEqual(automountTokenOnlyWhenNeeded.check(followerDeployment(), devContext), []);
  });

  it("warns when the token is automounted and the pod does not declare it calls the API", () => {
    const resource = followerPod((pod) => delete pod.automountServiceAccountToken);
    const messages = automountTokenOnlyWhenNeeded.check(resource, devContext);
    assert.equal(messages.length, 1);
    assert.match(messages[0], /automountServiceAccountToken should be false.*hubspoke\.io\/calls-kube-api/);
  });

  it('passes when the pod carries hubspoke.io/calls-kube-api: "true"', () => {
    const resource = followerDeployment((workload) => {
      workload.spec.template.spec.automountServiceAccountToken = true;
      workload.spec.template.metadata.annotations = { "hubspoke.io/calls-kube-api": "true" };
    });
    assert.deepEqual(automountTokenOnlyWhenNeeded.check(resource, devContext), []);
  });
});

describe("Pod Security levels (the preflight judges tenant workloads with these)", () => {
  const checks = (resource: PlannedResource, level: "privileged" | "baseline" | "restricted") =>
    podSecurityLevelFindings(resource, level).map((f) => f.subCheck);
  const asJson = (value: unknown) => value as Record<string, unknown>;

  it("baseline admits root and missing seccomp, restricted does not; privileged admits everything", () => {
    const root = followerPod((pod, follower) => {
      delete pod.securityContext.runAsNonRoot;
      delete follower.securityContext.runAsNonRoot;
      pod.securityContext.runAsUser = 0;
      delete pod.securityContext.seccompProfile;
    });
    assert.deepEqual(checks(root, "baseline"), []);
    assert.ok(checks(root, "restricted").includes("runAsUser"));
    assert.deepEqual(checks(root, "privileged"), []);
  });

  it("baseline rejects what only privileged admits: hostPath, host namespaces, added capabilities, privileged", () => {
    const loose = followerPod((pod, follower) => {
      pod.volumes.push({ name: "logs", hostPath: { path: "/var/log" } });
      pod.hostNetwork = true;
      follower.securityContext.capabilities = { add: ["NET_ADMIN"] };
      follower.securityContext.privileged = true;
    });
    assert.deepEqual(checks(loose, "baseline").sort(), [
      "capabilities",
      "hostNetwork",
      "hostPath",
      "privileged",
    ]);
    const defaults = followerPod((_pod, follower) => {
      follower.securityContext.capabilities = { add: ["CHOWN", "NET_BIND_SERVICE"] };
    });
    assert.deepEqual(checks(defaults, "baseline"), [], "the runtime's default capabilities are allowed");
  });

  it("baseline and restricted both check sysctls, procMount, SELinux, AppArmor and an Unconfined seccomp", () => {
    const odd = followerPod((pod, follower) => {
      asJson(pod.securityContext).sysctls = [{ name: "net.core.somaxconn", value: "1024" }];
      asJson(follower.securityContext).procMount = "Unmasked";
      asJson(follower.securityContext).seLinuxOptions = { type: "spc_t" };
      asJson(follower.securityContext).appArmorProfile = { type: "Unconfined" };
      asJson(follower.securityContext).seccompProfile = { type: "Unconfined" };
    });
    for (const level of ["baseline", "restricted"] as const) {
      const found = checks(odd, level);
      for (const check of ["sysctls", "procMount", "seLinux", "appArmor", "seccompProfile"]) {
        assert.ok(found.includes(check), `${level}: ${check}`);
      }
    }
    const safe = followerPod((pod) => {
      asJson(pod.securityContext).sysctls = [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }];
    });
    assert.deepEqual(checks(safe, "restricted"), []);
  });
});
