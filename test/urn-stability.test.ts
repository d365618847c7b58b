// Growth never replaces: adding a spoke, a tenant or raising the phase keeps every existing URN.
import { strict as assert } from "node:assert";
import type { Evaluation } from "../tools/mock-engine";
import { evaluate } from "./support/stacks";

type Json = any;

const urns = (e: Evaluation) => new Set(e.resources.map((r) => r.urn));

function assertKeepsAll(before: Evaluation, after: Evaluation): void {
  const kept = urns(after);
  const lost = [...urns(before)].filter((u) => !kept.has(u));
  assert.deepEqual(lost, [], "existing resources would be deleted or replaced");
  assert.ok(kept.size > urns(before).size, "the change adds resources");
}

describe("URN stability", () => {
  let staging: Evaluation;
  before(async () => {
    staging = await evaluate("staging");
  });

  it("adding a spoke changes no existing URN", async () => {
    const grown = await evaluate("staging", (c: Json) => {
      c["hubspoke:clusters"]["stg-batch"] = {
        context: "stg-batch",
        apiServer: "https://api.stg-batch.acme.internal:6443",
      };
      c["hubspoke:spokes"].push({
        name: "batch",
        cluster: "stg-batch",
        region: "eu-west-1",
        podCidr: "10.130.0.0/16",
        phase: 1,
      });
    });
    assertKeepsAll(staging, grown);
  });

  it("adding a spoke at the front of the list changes no existing URN either", async () => {
    const grown = await evaluate("staging", (c: Json) => {
      c["hubspoke:clusters"]["stg-batch"] = {
        context: "stg-batch",
        apiServer: "https://api.stg-batch.acme.internal:6443",
      };
      c["hubspoke:spokes"].unshift({
        name: "batch",
        cluster: "stg-batch",
        region: "eu-west-1",
        podCidr: "10.130.0.0/16",
        phase: 1,
      });
    });
    assertKeepsAll(staging, grown);
  });

  it("raising the conversion phase adds the next wave and keeps the converted spokes as they were", async () => {
    const phase1 = await evaluate("staging", (c: Json) => (c["hubspoke:conversion"] = { phase: 1 }));
    assertKeepsAll(phase1, staging);
  });
});
