import { strict as assert } from "node:assert";
import { findExemption, resourceViolationMessages } from "../../policy/engine";
import { exemptions, exemptionsMarkdown, listExemptions } from "../../policy/exemptions";
import { podSecurityRestricted } from "../../policy/rules/podSecurity";
import { devContext, fluentBitDaemonSet } from "./fixtures";

describe("policy exemptions", () => {
  it("declares the Fluent Bit DaemonSet exemption with a reason and the waived sub-checks", () => {
    const fluentBit = exemptions.find((exemption) => exemption.name === "fluent-bit");
    assert.ok(fluentBit);
    assert.equal(fluentBit.rule, "pod-security-restricted");
    assert.equal(fluentBit.kind, "DaemonSet");
    assert.equal(fluentBit.namespace, "hubspoke-logging");
    assert.match(fluentBit.reason, /hostPath/);
    assert.match(fluentBit.reason, /privileged/);
    assert.deepEqual(fluentBit.waive, ["hostPath", "runAsNonRoot", "runAsUser"]);
  });

  it("the Fluent Bit DaemonSet in logging passes pod-security only because of the exemption", () => {
    const fluentBit = fluentBitDaemonSet("hubspoke-logging");
    const unexempted = podSecurityRestricted.check(fluentBit, devContext);
    assert.ok(unexempted.some((message) => message.includes("hostPath volumes are not allowed")));
    assert.ok(unexempted.some((message) => message.includes("runAsNonRoot")));
    assert.ok(findExemption("pod-security-restricted", fluentBit));
    assert.deepEqual(resourceViolationMessages(podSecurityRestricted, fluentBit, devContext), []);
  });

  it("the same DaemonSet in another namespace fails", () => {
    const elsewhere = fluentBitDaemonSet("monitoring");
    assert.equal(findExemption("pod-security-restricted", elsewhere), undefined);
    const messages = resourceViolationMessages(podSecurityRestricted, elsewhere, devContext);
    assert.ok(
      messages.some((message) => message.includes('volume "varlog": hostPath volumes are not allowed')),
    );
  });

  it("still enforces the sub-checks it does not waive (capabilities, escalation, host network)", () => {
    const loosened = fluentBitDaemonSet("hubspoke-logging", (pod) => {
      pod.hostNetwork = true;
      pod.containers[0].securityContext.capabilities = { drop: ["ALL"], add: ["DAC_READ_SEARCH"] };
      pod.containers[0].securityContext.allowPrivilegeEscalation = true;
    });
    assert.deepEqual(resourceViolationMessages(podSecurityRestricted, loosened, devContext), [
      "pod: hostNetwork must not be true",
      'container "fluent-bit": securityContext.allowPrivilegeEscalation must be false (is true)',
      'container "fluent-bit": securityContext.capabilities.add may only contain NET_BIND_SERVICE (has ["DAC_READ_SEARCH"])',
    ]);
  });

  it("applies to no other rule", () => {
    assert.equal(
      findExemption("resources-requests-and-limits", fluentBitDaemonSet("hubspoke-logging")),
      undefined,
    );
  });

  it("lists exemptions for the docs", () => {
    assert.deepEqual(
      listExemptions().map((exemption) => `${exemption.kind}/${exemption.namespace}/${exemption.name}`),
      [
        "DaemonSet/hubspoke-logging/fluent-bit",
        // The appliance follower: root and AUDIT_WRITE (pod security), and a writable root filesystem.
        "Deployment/conjur-system/conjur-follower",
        "Deployment/conjur-system/conjur-follower",
        // The in-hub Leader's appliance: pod security, a writable root filesystem, no liveness probe.
        "StatefulSet/conjur-system/conjur-leader",
        "StatefulSet/conjur-system/conjur-leader",
        "StatefulSet/conjur-system/conjur-leader",
      ],
    );
    const table = exemptionsMarkdown();
    assert.match(table, /^\| Rule \| Cluster \| Kind \| Namespace \| Name \| Waived checks \| Reason \|/);
    assert.match(
      table,
      /\| pod-security-restricted \| all \| DaemonSet \| hubspoke-logging \| fluent-bit \| hostPath, runAsNonRoot, runAsUser \|/,
    );
  });
});
