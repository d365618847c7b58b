import { strict as assert } from "node:assert";
import {
  imageTagPinned,
  probesLivenessAndReadiness,
  resourcesRequestsAndLimits,
  unpinnedImageReason,
} from "../../policy/rules/workloads";
import { devContext, followerDeployment, followerPod, followerWorkload, planned } from "./fixtures";

describe("resources-requests-and-limits", () => {
  it("passes when every container, init included, has cpu and memory requests and limits", () => {
    assert.deepEqual(resourcesRequestsAndLimits.check(followerDeployment(), devContext), []);
  });

  it("fails for an init container without a memory limit, naming the field", () => {
    const resource = followerPod((_pod, _follower, seedFetch) => delete seedFetch.resources.limits.memory);
    assert.deepEqual(resourcesRequestsAndLimits.check(resource, devContext), [
      'init container "seed-fetch": resources.limits.memory must be set',
    ]);
  });

  it("lists every missing field of a container without resources", () => {
    const resource = followerPod((_pod, follower) => (follower.resources = { requests: {}, limits: {} }));
    assert.deepEqual(resourcesRequestsAndLimits.check(resource, devContext), [
      'container "follower": resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory must be set',
    ]);
  });
});

describe("image-tag-pinned", () => {
  it("passes version tags and digests", () => {
    assert.deepEqual(imageTagPinned.check(followerDeployment(), devContext), []);
    assert.equal(unpinnedImageReason("registry.internal:5000/cyberark/conjur:13.5.0"), undefined);
    assert.equal(unpinnedImageReason(`cyberark/conjur@sha256:${"a3f1".repeat(16)}`), undefined);
  });

  it("fails on latest, on a missing tag, and does not mistake a registry port for a tag", () => {
    const latest = followerPod((_pod, follower) => (follower.image = "cyberark/conjur-appliance:latest"));
    assert.deepEqual(imageTagPinned.check(latest, devContext), [
      'container "follower": image "cyberark/conjur-appliance:latest" uses the tag latest; pin a version tag or a digest',
    ]);
    const untagged = followerPod(
      (_pod, _follower, seedFetch) => (seedFetch.image = "registry.internal:5000/cyberark/dap-seedfetcher"),
    );
    assert.deepEqual(imageTagPinned.check(untagged, devContext), [
      'init container "seed-fetch": image "registry.internal:5000/cyberark/dap-seedfetcher" has no tag (defaults to latest); pin a version tag or a digest',
    ]);
  });

  it("skips an image that is not known until the update (the policy host judges it then)", () => {
    const resource = followerPod(
      (_pod, follower) => (follower.image = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"),
    );
    assert.deepEqual(imageTagPinned.check(resource, devContext), []);
  });
});

describe("probes-liveness-and-readiness", () => {
  it("passes long-running containers with both probes, and ignores init containers", () => {
    assert.deepEqual(probesLivenessAndReadiness.check(followerDeployment(), devContext), []);
  });

  it("fails for a Deployment container without a readiness probe", () => {
    const resource = followerPod((_pod, follower) => delete follower.readinessProbe);
    assert.deepEqual(probesLivenessAndReadiness.check(resource, devContext), [
      'container "follower": readinessProbe must be set',
    ]);
  });

  it("exempts Jobs and CronJobs by nature", () => {
    const template = followerWorkload().spec.template;
    delete template.spec.containers[0].livenessProbe;
    delete template.spec.containers[0].readinessProbe;
    template.spec.restartPolicy = "OnFailure";
    const job = planned("kubernetes:batch/v1:Job", "hub-policy-load", {
      metadata: { name: "conjur-policy-load", namespace: "conjur-system" },
      spec: { backoffLimit: 3, template },
    });
    const cronJob = planned("kubernetes:batch/v1:CronJob", "hub-backup", {
      metadata: { name: "conjur-backup", namespace: "conjur-system" },
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template } } },
    });
    assert.deepEqual(probesLivenessAndReadiness.check(job, devContext), []);
    assert.deepEqual(probesLivenessAndReadiness.check(cronJob, devContext), []);
  });
});
