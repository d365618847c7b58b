// Workload hygiene rules the usual linters add to Pod Security: resource requests and limits, pinned
// images, and probes on long-running containers.
import type { Rule } from "../types";
import {
  asString,
  containersOf,
  describeContainer,
  field,
  isUnknownValue,
  podTemplateOf,
} from "../kubernetes";

const RESOURCE_FIELDS = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;

function isQuantity(value: unknown): boolean {
  return (typeof value === "string" && value.trim() !== "") || typeof value === "number";
}

export const resourcesRequestsAndLimits: Rule = {
  name: "resources-requests-and-limits",
  description: "Every container, init containers included, sets CPU and memory requests and limits.",
  level: "mandatory",
  check: (resource) => {
    const template = podTemplateOf(resource);
    if (template === undefined) return [];
    const messages: string[] = [];
    // Ephemeral containers cannot carry resources, so they are not asked to.
    for (const ref of containersOf(template.spec).filter((r) => r.role !== "ephemeral container")) {
      const missing = RESOURCE_FIELDS.filter(
        (path) => !isQuantity(field(ref.container, "resources", ...path.split("."))),
      );
      if (missing.length > 0) {
        messages.push(`${describeContainer(ref)}: resources.${missing.join(", resources.")} must be set`);
      }
    }
    return messages;
  },
};

/** Why an image reference is not pinned, or undefined when it is (a tag other than latest, or a digest). */
export function unpinnedImageReason(image: string): string | undefined {
  if (/@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/.test(image)) return undefined;
  // The tag follows the last ':' after the last '/'; a ':' before it is a registry port.
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0) return "has no tag (defaults to latest)";
  const tag = lastSegment.slice(colon + 1);
  if (tag === "") return "has an empty tag";
  if (tag === "latest") return "uses the tag latest";
  return undefined;
}

export const imageTagPinned: Rule = {
  name: "image-tag-pinned",
  description: "Every container image names a tag other than latest, or a digest.",
  level: "mandatory",
  check: (resource) => {
    const template = podTemplateOf(resource);
    if (template === undefined) return [];
    const messages: string[] = [];
    for (const ref of containersOf(template.spec)) {
      const rawImage = ref.container.image;
      if (isUnknownValue(rawImage)) continue; // computed at update time; judged then
      const image = asString(rawImage);
      if (image === undefined || image.trim() === "") {
        messages.push(`${describeContainer(ref)}: image must be set`);
        continue;
      }
      const reason = unpinnedImageReason(image);
      if (reason !== undefined) {
        messages.push(`${describeContainer(ref)}: image "${image}" ${reason}; pin a version tag or a digest`);
      }
    }
    return messages;
  },
};

export const probesLivenessAndReadiness: Rule = {
  name: "probes-liveness-and-readiness",
  description:
    "Every long-running container has a liveness and a readiness probe (Jobs, CronJobs and init containers are exempt).",
  level: "mandatory",
  check: (resource) => {
    const template = podTemplateOf(resource);
    if (template === undefined || template.runsToCompletion) return [];
    const messages: string[] = [];
    for (const ref of containersOf(template.spec).filter((r) => r.role === "container")) {
      const missing = (["livenessProbe", "readinessProbe"] as const).filter(
        (probe) => ref.container[probe] === undefined || ref.container[probe] === null,
      );
      if (missing.length > 0)
        messages.push(`${describeContainer(ref)}: ${missing.join(" and ")} must be set`);
    }
    return messages;
  },
};
