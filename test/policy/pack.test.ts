import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { rules, stackRules } from "../../policy/engine";
import type { PlannedResource } from "../../policy/types";
import {
  buildPolicies,
  isRunByPolicyHost,
  plannedResourceFromPolicyArgs,
  resolveStackContext,
  type StackContextConfig,
} from "../../policy/index";
import { followerPod, fluentBitDaemonSet, namespace, planned } from "./fixtures";

const notApplicable = (reason?: string): never => {
  throw new Error(`not applicable: ${reason ?? ""}`);
};

const policyOptions = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  additionalSecretOutputs: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
};

/** What the policy host would pass for a resource: its inputs, options and provider reference. */
function hostView(
  resource: PlannedResource,
  config: StackContextConfig = {},
): ResourceValidationArgs & PolicyResource {
  return {
    type: resource.type,
    props: resource.props,
    urn: resource.urn,
    name: resource.name,
    opts: { ...policyOptions, protect: resource.opts.protect === true },
    provider:
      resource.provider === null
        ? undefined
        : { type: "pulumi:providers:kubernetes", props: {}, urn: resource.provider, name: "spoke-east" },
    stackTags: new Map<string, string>(),
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => config as T,
    notApplicable,
  };
}

function resourcePolicy(name: string): ResourceValidationPolicy {
  const policy = buildPolicies().find((p) => p.name === name);
  assert.ok(policy && "validateResource" in policy && typeof policy.validateResource === "function");
  return policy;
}

function stackPolicy(name: string): StackValidationPolicy {
  const policy = buildPolicies().find((p) => p.name === name);
  assert.ok(policy && "validateStack" in policy);
  return policy;
}

async function runResourcePolicy(name: string, resource: PlannedResource): Promise<string[]> {
  const validate = resourcePolicy(name).validateResource;
  const messages: string[] = [];
  assert.ok(typeof validate === "function");
  await validate(hostView(resource), (message) => messages.push(message));
  return messages;
}

describe("policy pack (policy/index.ts)", () => {
  it("can be imported by tests without starting the analyzer", () => {
    assert.equal(isRunByPolicyHost(), false);
  });

  it("builds one policy per engine rule, with the same names, descriptions and levels", () => {
    const policies = buildPolicies();
    const engineRules = [...rules, ...stackRules];
    assert.deepEqual(
      policies.map((p) => [p.name, p.enforcementLevel, p.description]),
      engineRules.map((r) => [r.name, r.level, r.description]),
    );
    assert.equal(policies.filter((p) => "validateResource" in p).length, rules.length);
    assert.equal(policies.filter((p) => "validateStack" in p).length, stackRules.length);
  });

  it("reports a resource rule's messages through reportViolation", async () => {
    const broken = followerPod((_pod, follower) => (follower.image = "cyberark/conjur-appliance:latest"));
    assert.deepEqual(await runResourcePolicy("image-tag-pinned", broken), [
      'container "follower": image "cyberark/conjur-appliance:latest" uses the tag latest; pin a version tag or a digest',
    ]);
    assert.deepEqual(
      await runResourcePolicy(
        "image-tag-pinned",
        followerPod(() => undefined),
      ),
      [],
    );
  });

  it("applies exemptions inside the pack as the engine does", async () => {
    assert.deepEqual(
      await runResourcePolicy("pod-security-restricted", fluentBitDaemonSet("hubspoke-logging")),
      [],
    );
    assert.ok(
      (await runResourcePolicy("pod-security-restricted", fluentBitDaemonSet("monitoring"))).length > 0,
    );
  });

  it("marks no-secret-outside-secret-objects not applicable in the host, which unwraps secrets", async () => {
    await assert.rejects(
      runResourcePolicy("no-secret-outside-secret-objects", namespace("logging")),
      /not applicable: the policy host unwraps Pulumi secrets/,
    );
  });

  it("reads the provider reference the host gives, so the default provider is caught", async () => {
    const onDefault = {
      ...namespace("logging"),
      provider: "urn:pulumi:dev::hubspoke::pulumi:providers:kubernetes::default_4_34_2",
    };
    assert.equal(plannedResourceFromPolicyArgs(hostView(onDefault)).provider, onDefault.provider);
    assert.equal((await runResourcePolicy("explicit-provider", onDefault)).length, 1);
  });

  it("runs stack rules over the stack's resources and reports each violation against its URN", async () => {
    // A host that names no stack: the URN decides. Another test file in the same mocha worker may
    // have left Pulumi's runtime on a stack of its own (setMocks keeps the previous stack when given
    // none), which would decide instead; every evaluation sets the runtime up again afterwards.
    pulumi.runtime.resetOptions("hubspoke", "", -1, "", "", true, "");
    assert.equal(pulumi.getStack(), "");
    const ca = planned(
      "tls:index/selfSignedCert:SelfSignedCert",
      "hub-ca",
      {},
      {
        urn: "urn:pulumi:prod::hubspoke::tls:index/selfSignedCert:SelfSignedCert::hub-ca",
        provider: null,
        cluster: null,
      },
    );
    const reported: Array<[string, string | undefined]> = [];
    const args: StackValidationArgs = {
      resources: [hostView(ca)],
      stackTags: new Map<string, string>(),
      getConfig: <T extends object>() => ({}) as T,
      notApplicable,
    };
    await stackPolicy("irreplaceable-protected").validateStack(args, (message, urn) =>
      reported.push([message, urn]),
    );
    assert.equal(reported.length, 1, "a prod URN means prod: the CA must be protected");
    assert.equal(reported[0][1], ca.urn);
  });

  it("resolves the stack context from config, then stack name, then the URN, failing closed to prod", () => {
    const devUrn = "urn:pulumi:dev::hubspoke::kubernetes:core/v1:Namespace::hub-ns";
    assert.deepEqual(resolveStackContext({}, "stack", devUrn), {
      environment: "dev",
      protectIrreplaceable: false,
    });
    assert.deepEqual(resolveStackContext({}, "staging", devUrn), {
      environment: "staging",
      protectIrreplaceable: false,
    });
    assert.deepEqual(resolveStackContext({ environment: "prod" }, "dev", devUrn), {
      environment: "prod",
      protectIrreplaceable: true,
    });
    assert.deepEqual(resolveStackContext({ protectIrreplaceable: true }, "dev"), {
      environment: "dev",
      protectIrreplaceable: true,
    });
    assert.deepEqual(resolveStackContext({}, "stack"), { environment: "prod", protectIrreplaceable: true });
  });
});
